"""Scrubbing previews: thumbnail strips (tiled JPEG sprites + a WebVTT thumbnails track) and
the poster frame, made from key frames read by seeking, never by decoding from the start."""
