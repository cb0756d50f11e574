-- Fixity (issue 18): content hashes of each file version, their re-verification, the failures
-- found, hashing progress (resume after a kill), perceptual frame hashes, hash job leases.
-- Written by the single writer (jobs) and by `archive-analyzer verify`; see docs/fixity.md.

-- The baseline of a file: the hashes of one version (size, mtime). A verification that finds
-- other bytes for the same version never changes it; a new version (size or mtime changed)
-- replaces it, the old hash going into file_events ('hashed' detail 'previous').
CREATE TABLE file_hashes (
    file        TEXT PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    size        INTEGER NOT NULL,   -- the version these hashes describe
    mtime       REAL NOT NULL,
    xxh128      TEXT,               -- whole file; NULL while only the sample is known
    chunk_size  INTEGER,            -- bytes per chunk hash (the last chunk may be shorter)
    chunks      INTEGER,            -- number of rows in hash_chunks
    sample      TEXT,               -- xxh128 of the size and the first, middle, last MiB
    hashed_at   TEXT,               -- when xxh128 was taken
    verified_at TEXT,               -- the last full read that matched (hashed_at at first)
    status      TEXT NOT NULL DEFAULT 'sampled'
                CHECK (status IN ('sampled', 'ok', 'mismatch')),
    updated_at  TEXT NOT NULL
);
CREATE INDEX file_hashes_xxh128 ON file_hashes (xxh128) WHERE xxh128 IS NOT NULL;
CREATE INDEX file_hashes_sample ON file_hashes (sample) WHERE sample IS NOT NULL;
CREATE INDEX file_hashes_verified ON file_hashes (verified_at);
CREATE INDEX file_hashes_updated_at ON file_hashes (updated_at);

CREATE TABLE hash_chunks (
    file   TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL,
    xxh128 TEXT NOT NULL,
    PRIMARY KEY (file, idx)
) WITHOUT ROWID;

-- A hash in progress: the chunks finished so far and the saved whole-file hash state, so a
-- killed job resumes at the last finished chunk. Removed when the hash is stored.
CREATE TABLE hash_progress (
    file        TEXT PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    size        INTEGER NOT NULL,
    mtime       REAL NOT NULL,
    chunk_size  INTEGER NOT NULL,
    chunks      TEXT NOT NULL DEFAULT '[]',  -- JSON list of chunk hashes so far
    state       BLOB,                        -- fixity.xxh snapshot; NULL: not resumable
    started_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Fixity failures: same size and mtime, different bytes. Rows are only ever added; a later
-- good verification (the file restored) or a new version sets resolved_at and resolution.
-- No foreign key: a failure outlives anything that happens to the file row.
CREATE TABLE fixity_failures (
    id           INTEGER PRIMARY KEY,
    file         TEXT NOT NULL,
    path         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    mtime        REAL NOT NULL,
    expected     TEXT NOT NULL,   -- the baseline xxh128
    actual       TEXT NOT NULL,   -- what the bytes hash to now
    chunk_size   INTEGER NOT NULL,
    chunks       TEXT NOT NULL,   -- JSON list of the differing chunk indexes
    first_chunk  INTEGER NOT NULL,
    byte_from    INTEGER NOT NULL,   -- the first differing chunk's byte range
    byte_to      INTEGER NOT NULL,
    time_from    REAL,               -- and the media time it holds, when it can be found
    time_to      REAL,
    time_method  TEXT,               -- 'timestamps' (the container's) or 'estimate' (bit rate)
    detected_at  TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,      -- the same bad bytes seen again
    resolved_at  TEXT,
    resolution   TEXT                -- 'verified' (good bytes again) or 'new version'
);
CREATE INDEX fixity_failures_open ON fixity_failures (detected_at) WHERE resolved_at IS NULL;
CREATE INDEX fixity_failures_file ON fixity_failures (file);

-- Perceptual hashes of video frames at fixed times (fixity.frames), per file version.
CREATE TABLE frame_hashes (
    file       TEXT PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    size       INTEGER NOT NULL,
    mtime      REAL NOT NULL,
    duration_s REAL,
    frames     TEXT NOT NULL DEFAULT '{}',  -- JSON {"<seconds>": "<phash hex>"}
    error      TEXT,
    made_at    TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Hash jobs handed to the queue and not yet answered (like probe_leases).
CREATE TABLE hash_leases (
    file          TEXT PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    source        TEXT NOT NULL,
    path          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    mtime         REAL NOT NULL,
    kind          TEXT NOT NULL,   -- 'hash' (no baseline for this version), 'verify', 'sample'
    attempts      INTEGER NOT NULL DEFAULT 1,
    dispatched_at TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX hash_leases_dispatched ON hash_leases (dispatched_at);

-- The published file document carries its hash.
CREATE TRIGGER sync_file_hashes_insert AFTER INSERT ON file_hashes WHEN NEW.xxh128 IS NOT NULL
BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('file', NEW.file, NEW.updated_at);
END;
CREATE TRIGGER sync_file_hashes_update AFTER UPDATE ON file_hashes
WHEN OLD.xxh128 IS NOT NEW.xxh128 OR OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('file', NEW.file, NEW.updated_at);
END;
