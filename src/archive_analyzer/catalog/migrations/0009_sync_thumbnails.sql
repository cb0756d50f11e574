-- Sync (issue 6): log poster-frame changes like the other published tables (docs/sync.md).
-- The thumbnails table comes from 0008, after the sync's 0005, so its change-log triggers
-- live here. Until this migration the sync installed the same triggers itself at the start
-- of a run (hence IF NOT EXISTS: a catalog synced at version 8 has them already).

-- A catalog migrated past 0005 before that migration existed lacks the sync tables; give it
-- the change log (0005's definition) so thumbnail writes keep working. The sync still refuses
-- such a catalog in one line (it checks for sync_state).
CREATE TABLE IF NOT EXISTS sync_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    entity     TEXT NOT NULL,
    row_id     TEXT NOT NULL,
    changed_at TEXT NOT NULL
);

-- Triggers new to this catalog: log every existing thumbnail's file once, so its contents
-- are re-planned with their poster frame (before the triggers exist: this is the check).
INSERT INTO sync_changes (entity, row_id, changed_at)
SELECT 'file', file, updated_at FROM thumbnails
WHERE NOT EXISTS (
    SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'sync_thumbnails_insert'
)
ORDER BY updated_at;

CREATE TRIGGER IF NOT EXISTS sync_thumbnails_insert AFTER INSERT ON thumbnails BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('file', NEW.file, NEW.updated_at);
END;
CREATE TRIGGER IF NOT EXISTS sync_thumbnails_update AFTER UPDATE ON thumbnails BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('file', NEW.file, NEW.updated_at);
END;
CREATE TRIGGER IF NOT EXISTS sync_thumbnails_delete AFTER DELETE ON thumbnails BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('file', OLD.file, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
