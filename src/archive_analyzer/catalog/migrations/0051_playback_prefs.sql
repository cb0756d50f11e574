-- Playback (issue 15): each user's remembered track choices (web-owned, like watch_progress:
-- written by the web app's request threads, docs/jobs.md). Languages are two-letter codes;
-- subtitle_language '' means the user turned subtitles off, NULL that they never chose.
CREATE TABLE playback_prefs (
    user_id           TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    audio_language    TEXT,
    subtitle_language TEXT,
    updated_at        TEXT NOT NULL
);
