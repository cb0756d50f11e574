-- Versions (issue 18): contents whose files hold the same programme (identical bytes, or the
-- same pictures in another encoding: catalog/duplicates.py) become versions of one content,
-- as Jellyfin's multiple versions. The joined content is hidden from listings; its file is
-- listed on the primary's page and may be the one played. Editors split a wrongly joined
-- version off (version_splits), and the automatic join never joins that pair again.
-- Written by the single writer (catalog/versions.py); see docs/fixity.md.

CREATE TABLE content_versions (
    content_id TEXT PRIMARY KEY REFERENCES contents (id) ON DELETE CASCADE,  -- joined content
    primary_id TEXT NOT NULL REFERENCES contents (id) ON DELETE CASCADE,     -- the one it joins
    kind       TEXT NOT NULL CHECK (kind IN ('identical', 'same_programme')),
    evidence   TEXT NOT NULL DEFAULT '{}',  -- JSON: the duplicate group's evidence
    joined_at  TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (content_id != primary_id)
);
CREATE INDEX content_versions_primary ON content_versions (primary_id);

CREATE TABLE version_splits (
    content_id TEXT NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
    other_id   TEXT NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
    split_by   TEXT,
    split_at   TEXT NOT NULL,
    PRIMARY KEY (content_id, other_id)
) WITHOUT ROWID;

-- Every file that plays a top-level content: its own (member 0) and its joined versions'.
CREATE VIEW version_files AS
    SELECT c.id AS content_id, c.file_id AS file_id, 0 AS member, c.id AS version_id
    FROM contents c WHERE c.file_id IS NOT NULL
    UNION ALL
    SELECT v.primary_id, m.file_id, 1, m.id
    FROM content_versions v JOIN contents m ON m.id = v.content_id WHERE m.file_id IS NOT NULL;

-- The file a content plays (a clip of a range: its parent's): among the versions, present
-- files first, then one the browser plays directly, then the content's own, then the largest.
CREATE VIEW played_files AS
    SELECT c.id AS content_id, (
        SELECT vf.file_id FROM version_files vf
        JOIN files f ON f.id = vf.file_id
        LEFT JOIN media_info mi ON mi.id = vf.file_id
        WHERE vf.content_id = coalesce(c.parent_id, c.id) AND f.status != 'deleted'
        ORDER BY f.status IN ('active', 'incoming') DESC,
                 coalesce(mi.browser_playable, 0) DESC, vf.member, f.size DESC, f.id
        LIMIT 1
    ) AS file_id
    FROM contents c;

-- A join or a split changes both contents' documents.
CREATE TRIGGER sync_content_versions_insert AFTER INSERT ON content_versions BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('content', NEW.content_id, NEW.updated_at), ('content', NEW.primary_id, NEW.updated_at);
END;
CREATE TRIGGER sync_content_versions_update AFTER UPDATE ON content_versions BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('content', NEW.content_id, NEW.updated_at), ('content', NEW.primary_id, NEW.updated_at),
           ('content', OLD.primary_id, NEW.updated_at);
END;
CREATE TRIGGER sync_content_versions_delete AFTER DELETE ON content_versions BEGIN
    INSERT INTO sync_changes (entity, row_id, changed_at)
    VALUES ('content', OLD.content_id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
           ('content', OLD.primary_id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
