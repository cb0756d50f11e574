"""Series and brand posters: what a poster URL shows, and an editor's upload made servable.

A series' poster is the editor's choice (``catalog/artwork.py``: an uploaded image, or a frame
of one of its contents at a chosen time), else a frame of its first episode in series order.
A brand's poster is its editor's choice, else the poster of its newest series. Frames are made
and cached by the thumbnail route (``/thumb/{content}``, ``?at=`` for a chosen time), which the
poster routes answer with.

Uploads are decoded with Pillow and stored as a JPEG at most ``MAX_SIDE`` pixels wide or high,
with no metadata (an editor's photo carries its camera's EXIF and GPS otherwise): the browser
only ever gets bytes we encoded.
"""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from archive_analyzer.catalog import artwork, series_order
from archive_analyzer.errors import InvalidUpload

MAX_SIDE = 1280
MAX_PIXELS = 50_000_000  # a decompression bomb is refused before it is decoded
_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")


@dataclass(frozen=True, slots=True)
class Poster:
    """What a poster URL shows: stored bytes (an upload), or the frame of ``content_id`` (at
    ``position_s``; None: its default frame); neither: the placeholder."""

    image: bytes | None = None
    etag: str | None = None
    content_id: str | None = None
    position_s: float | None = None


def prepare_upload(data: bytes, max_bytes: int) -> tuple[bytes, int, int]:
    """An uploaded image as the JPEG we store (scaled to fit ``MAX_SIDE``, RGB, no metadata)
    and its size. Raises ``InvalidUpload`` for anything that is not a JPEG, PNG, WebP or GIF
    image of sane size."""
    if not data:
        raise InvalidUpload("no file was uploaded")
    if len(data) > max_bytes:
        raise InvalidUpload(f"the image is larger than {max_bytes // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in _FORMATS:
                raise InvalidUpload(f"not a supported image ({probe.format or 'unknown'})")
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidUpload("the image has too many pixels")
            probe.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced size
            image = probe.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InvalidUpload("the file is not an image") from exc
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue(), image.width, image.height


def first_content(conn: sqlite3.Connection, series_id: str) -> str | None:
    """The content whose frame is a series' default poster: its first episode (else its first
    content) in series order."""
    ids = series_order.series_ids(conn, series_id)
    return ids[0] if ids else None


def series_poster(conn: sqlite3.Connection, series_id: str) -> Poster:
    chosen = artwork.get(conn, "series", series_id)
    if chosen is not None:
        found = _chosen(chosen)
        if found is not None:
            return found
    return Poster(content_id=first_content(conn, series_id))


def brand_poster(conn: sqlite3.Connection, catalog_id: str, newest_series: str | None) -> Poster:
    """A brand's chosen poster, else ``newest_series``' poster."""
    chosen = artwork.get(conn, "catalog", catalog_id)
    if chosen is not None:
        found = _chosen(chosen)
        if found is not None:
            return found
    return Poster() if newest_series is None else series_poster(conn, newest_series)


def _chosen(chosen: artwork.Artwork) -> Poster | None:
    if chosen.source == "upload" and chosen.image is not None:
        return Poster(image=chosen.image, etag=chosen.image_hash)
    if chosen.source == "frame" and chosen.content_id is not None:
        return Poster(content_id=chosen.content_id, position_s=chosen.position_s)
    return None  # the frame's content is gone: the default
