-- Sync (issue 6): a change log fed by triggers, what was last written to Firestore per row,
-- the watermark, and a history of sync runs. See docs/sync.md.
--
-- sync_changes: every insert/update/delete of a published table appends (entity, row id).
-- seq is AUTOINCREMENT inside the writer's transaction; SQLite has one writer at a time, so
-- seq order is commit order: a reader never sees seq N+1 without N, and a row committed late
-- can never carry a seq below the watermark (the edge case updated_at alone cannot close).
-- Hard deletes are captured too (a deleted row has no updated_at left to compare).
CREATE TABLE sync_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    entity     TEXT NOT NULL,   -- file, catalog, series, content, player, tag
    row_id     TEXT NOT NULL,
    changed_at TEXT NOT NULL    -- the row's updated_at, or the moment of a delete
);

-- The document each row has in Firestore after the last committed batch, and its digest
-- (to skip unchanged documents and to know the OLD path of a row that moved or vanished).
CREATE TABLE sync_docs (
    entity    TEXT NOT NULL,
    row_id    TEXT NOT NULL,
    path      TEXT NOT NULL,
    digest    TEXT NOT NULL,
    synced_at TEXT NOT NULL,
    PRIMARY KEY (entity, row_id)
) WITHOUT ROWID;

CREATE TABLE sync_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    watermark    INTEGER NOT NULL DEFAULT 0,  -- every change with seq <= watermark is in Firestore
    updated_at   TEXT NOT NULL
);

CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('incremental', 'full')),
    status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    changes     INTEGER NOT NULL DEFAULT 0,
    docs_set    INTEGER NOT NULL DEFAULT 0,
    docs_deleted INTEGER NOT NULL DEFAULT 0,
    batches     INTEGER NOT NULL DEFAULT 0,
    watermark   INTEGER,
    error       TEXT
);

-- Files: only columns that reach a document (a poll touching last_seen enqueues nothing).
CREATE TRIGGER sync_files_insert AFTER INSERT ON files BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('file', NEW.id, NEW.updated_at);
END;
CREATE TRIGGER sync_files_update AFTER UPDATE ON files
WHEN OLD.path IS NOT NEW.path OR OLD.name IS NOT NEW.name OR OLD.ext IS NOT NEW.ext
  OR OLD.size IS NOT NEW.size OR OLD.mtime IS NOT NEW.mtime OR OLD.status IS NOT NEW.status
  OR OLD.is_media IS NOT NEW.is_media OR OLD.probe_state IS NOT NEW.probe_state
  OR OLD.id IS NOT NEW.id
BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('file', NEW.id, NEW.updated_at);
END;
CREATE TRIGGER sync_files_delete AFTER DELETE ON files BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('file', OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER sync_media_insert AFTER INSERT ON media_info BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('file', NEW.id, NEW.updated_at);
END;
CREATE TRIGGER sync_media_update AFTER UPDATE ON media_info BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('file', NEW.id, NEW.updated_at);
END;
CREATE TRIGGER sync_media_delete AFTER DELETE ON media_info BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('file', OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER sync_catalogs_insert AFTER INSERT ON catalogs BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('catalog', NEW.id, NEW.updated_at);
END;
CREATE TRIGGER sync_catalogs_update AFTER UPDATE ON catalogs BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('catalog', NEW.id, NEW.updated_at);
END;
CREATE TRIGGER sync_catalogs_delete AFTER DELETE ON catalogs BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('catalog', OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER sync_series_insert AFTER INSERT ON series BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('series', NEW.id, NEW.updated_at);
END;
CREATE TRIGGER sync_series_update AFTER UPDATE ON series BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('series', NEW.id, NEW.updated_at);
END;
CREATE TRIGGER sync_series_delete AFTER DELETE ON series BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('series', OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER sync_contents_insert AFTER INSERT ON contents BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('content', NEW.id, NEW.updated_at);
END;
CREATE TRIGGER sync_contents_update AFTER UPDATE ON contents BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('content', NEW.id, NEW.updated_at);
END;
CREATE TRIGGER sync_contents_delete AFTER DELETE ON contents BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('content', OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER sync_players_insert AFTER INSERT ON players BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('player', NEW.id, NEW.updated_at);
END;
CREATE TRIGGER sync_players_update AFTER UPDATE ON players BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('player', NEW.id, NEW.updated_at);
END;
CREATE TRIGGER sync_players_delete AFTER DELETE ON players BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('player', OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

-- Tags are published inside their contents: a tag change fans out at planning time.
CREATE TRIGGER sync_tags_update AFTER UPDATE ON tags BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at) VALUES ('tag', NEW.id, NEW.updated_at);
END;

-- Links are published inside their content.
CREATE TRIGGER sync_content_players_insert AFTER INSERT ON content_players BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('content', NEW.content_id, NEW.updated_at);
END;
CREATE TRIGGER sync_content_players_update AFTER UPDATE ON content_players BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('content', NEW.content_id, NEW.updated_at);
END;
CREATE TRIGGER sync_content_players_delete AFTER DELETE ON content_players BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('content', OLD.content_id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
CREATE TRIGGER sync_content_tags_insert AFTER INSERT ON content_tags BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('content', NEW.content_id, NEW.updated_at);
END;
CREATE TRIGGER sync_content_tags_update AFTER UPDATE ON content_tags BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('content', NEW.content_id, NEW.updated_at);
END;
CREATE TRIGGER sync_content_tags_delete AFTER DELETE ON content_tags BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('content', OLD.content_id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

-- Rows that existed before this migration are pending changes of the first sync.
INSERT INTO sync_changes (entity, row_id, changed_at)
    SELECT 'catalog', id, updated_at FROM catalogs ORDER BY updated_at;
INSERT INTO sync_changes (entity, row_id, changed_at)
    SELECT 'series', id, updated_at FROM series ORDER BY updated_at;
INSERT INTO sync_changes (entity, row_id, changed_at)
    SELECT 'player', id, updated_at FROM players ORDER BY updated_at;
INSERT INTO sync_changes (entity, row_id, changed_at)
    SELECT 'file', id, updated_at FROM files ORDER BY updated_at;
INSERT INTO sync_changes (entity, row_id, changed_at)
    SELECT 'content', id, updated_at FROM contents ORDER BY updated_at;
