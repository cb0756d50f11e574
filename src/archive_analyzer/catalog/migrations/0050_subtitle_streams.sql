-- Playback (issue 15): each subtitle stream's codec and language, as the prober found them
-- (JSON list of {codec, language} in stream order, like `audio`). Rows probed before this
-- migration have '[]' until they are probed again; `subtitle_count` stays the count.
ALTER TABLE media_info ADD COLUMN subtitles TEXT NOT NULL DEFAULT '[]';
