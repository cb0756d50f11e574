-- Change notifications (issue 19): per source, whether a notification watch is active and what
-- it saw last. Written only by the single writer (the process that watches); read by `status`
-- and /admin. A row says what the watching process last knew: after a crash it keeps its last
-- health, so readers show it next to the time of the last poll.
CREATE TABLE notify_state (
    source        TEXT PRIMARY KEY,     -- display-safe source name (no password)
    mechanism     TEXT NOT NULL,        -- 'SMB2 CHANGE_NOTIFY (watch tree)', 'inotify (watchdog)'
    health        TEXT NOT NULL
                  CHECK (health IN ('starting', 'active', 'reconnecting', 'unavailable',
                                    'stopped', 'off')),
    detail        TEXT,                 -- why it is not active, when it is not
    since         TEXT NOT NULL,        -- when it entered this health
    events        INTEGER NOT NULL DEFAULT 0,  -- notifications received since the row was made
    rounds        INTEGER NOT NULL DEFAULT 0,  -- rounds run (one transaction each)
    rescans       INTEGER NOT NULL DEFAULT 0,  -- overflows and (re)arms that asked for a poll
    last_event    TEXT,                 -- e.g. 'added WSOP/2025/Day 1.mp4'
    last_event_at TEXT,
    updated_at    TEXT NOT NULL
);
