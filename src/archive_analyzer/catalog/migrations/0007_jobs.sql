-- Jobs (issue 7): probe leases and the visible failure list. Written only by the single writer.

-- A probe job handed to the queue and not yet answered. A lease that outlives its deadline
-- (the worker died, Redis lost the queue) is dispatched again, up to a bounded number of times.
CREATE TABLE probe_leases (
    file          TEXT PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    source        TEXT NOT NULL,   -- the source spec the job carries (no password)
    path          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    mtime         REAL NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 1,
    dispatched_at TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX probe_leases_dispatched ON probe_leases (dispatched_at);

-- Jobs that failed after every retry. One row per key (probe:<file id>, poll:<source>, sync,
-- reconcile); a repeat failure bumps it, a later success resolves it.
CREATE TABLE job_failures (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL UNIQUE,
    task            TEXT NOT NULL,
    file            TEXT REFERENCES files (id) ON DELETE CASCADE,
    path            TEXT,
    error           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 1,
    occurrences     INTEGER NOT NULL DEFAULT 1,
    first_failed_at TEXT NOT NULL,
    last_failed_at  TEXT NOT NULL,
    resolved_at     TEXT,
    updated_at      TEXT NOT NULL
);
CREATE INDEX job_failures_open ON job_failures (last_failed_at) WHERE resolved_at IS NULL;
CREATE INDEX job_failures_updated_at ON job_failures (updated_at);
