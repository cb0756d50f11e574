-- Change detection (issue 4): content fingerprints for servers without stable file ids, and
-- per-poll counts on the scans table (polls are scans rows of kind 'poll').

ALTER TABLE files ADD COLUMN fingerprint TEXT;  -- sha1 of size + first and last 64 KiB

ALTER TABLE scans ADD COLUMN files_deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scans ADD COLUMN files_restored INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scans ADD COLUMN files_stable INTEGER NOT NULL DEFAULT 0;

CREATE INDEX files_source_status ON files (source, status);
CREATE INDEX scans_kind_started ON scans (kind, started_at);
