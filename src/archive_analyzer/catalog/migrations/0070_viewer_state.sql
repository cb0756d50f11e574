-- Per-user viewing state (issue 16), owned by the web app like watch_progress (docs/jobs.md,
-- "Who writes what"): which contents a user has watched, "My list", and viewing preferences.
-- Nothing here is synced to Firestore; deleting a user deletes their rows.

-- A content is watched once playback passes settings.watched_fraction of it ('played') or
-- when the user marks it so ('marked'). Progress (watch_progress) is kept apart: a watched
-- episode being watched again is both watched and in progress.
CREATE TABLE watched (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_id TEXT NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
    origin     TEXT NOT NULL CHECK (origin IN ('played', 'marked')),
    watched_at TEXT NOT NULL,
    PRIMARY KEY (user_id, content_id)
) WITHOUT ROWID;

-- "My list": contents or whole series a user keeps, newest first on the home page.
CREATE TABLE my_list (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_id TEXT REFERENCES contents (id) ON DELETE CASCADE,
    series_id  TEXT REFERENCES series (id) ON DELETE CASCADE,
    added_at   TEXT NOT NULL,
    CHECK ((content_id IS NULL) != (series_id IS NULL))
);
CREATE UNIQUE INDEX my_list_content ON my_list (user_id, content_id) WHERE content_id IS NOT NULL;
CREATE UNIQUE INDEX my_list_series ON my_list (user_id, series_id) WHERE series_id IS NOT NULL;
CREATE INDEX my_list_recent ON my_list (user_id, added_at);

-- Viewing preferences. autoplay: the player goes on to the next episode (or clip) by itself.
CREATE TABLE viewer_prefs (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    autoplay   INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
