-- Versions (issue 18): contents whose files hold the same programme (identical bytes, or the
-- same pictures in another encoding: catalog/duplicates.py) become versions of one content,
-- as Jellyfin's multiple versions. The joined content is hidden from listings; its file is
-- listed on the primary's page and may be the one played (content_view, recreated below). Editors split a wrongly joined
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
    FROM contents c WHERE c.file_id IS NOT NULL AND c.parent_id IS NULL
    UNION ALL
    SELECT v.primary_id, m.file_id, 1, m.id
    FROM content_versions v JOIN contents m ON m.id = v.content_id WHERE m.file_id IS NOT NULL;

-- The read model (0010's content_view) learns versions, its two rules changed and nothing
-- else: a content joined to another as one of its versions is not ``visible`` (the primary's
-- page lists it), and a content with versions (a clip of a range: its parent's) plays, among
-- its version files, a present one first, then one the browser plays directly, then its own,
-- then the largest (``play_file_id``). Contents without versions read exactly as before.
DROP VIEW content_view;
CREATE VIEW content_view AS
SELECT
    c.id,
    c.kind,
    c.status,
    (c.status = 'active' AND (c.parent_id IS NULL OR p.status = 'active')
     AND NOT EXISTS (SELECT 1 FROM content_versions jv WHERE jv.content_id = c.id)) AS visible,
    c.title,
    c.sort_key,
    c.parent_id,
    c.start_sec,
    c.end_sec,
    CASE WHEN c.parent_id IS NULL THEN c.file_id END AS file_id,
    CASE
        WHEN EXISTS (SELECT 1 FROM content_versions vv WHERE vv.primary_id = coalesce(p.id, c.id))
        THEN (SELECT vf.file_id FROM version_files vf
              JOIN files f ON f.id = vf.file_id
              LEFT JOIN media_info mi ON mi.id = vf.file_id
              WHERE vf.content_id = coalesce(p.id, c.id) AND f.status != 'deleted'
              ORDER BY f.status IN ('active', 'incoming') DESC,
                       coalesce(mi.browser_playable, 0) DESC, vf.member, f.size DESC, f.id
              LIMIT 1)
        WHEN c.parent_id IS NULL THEN c.file_id
        ELSE p.file_id
    END AS play_file_id,
    CASE WHEN c.parent_id IS NULL THEN c.series_id ELSE p.series_id END AS series_id,
    CASE
        WHEN c.catalog_id IS NOT NULL AND instr(c.locked_fields, '"catalog_id"') THEN c.catalog_id
        WHEN p.catalog_id IS NOT NULL AND instr(p.locked_fields, '"catalog_id"') THEN p.catalog_id
        ELSE coalesce(s.catalog_id, p.catalog_id, c.catalog_id)
    END AS catalog_id,
    coalesce(c.year, p.year, s.year) AS year,
    c.season,
    c.episode,
    c.day,
    c.part,
    c.event_number,
    c.event_name,
    c.buy_in,
    c.stream_date,
    c.versions,
    c.duplicate,
    c.external_id,
    c.highlight_score,
    c.winner,
    c.pot_size_bb,
    c.is_all_in,
    c.is_showdown,
    c.board,
    c.created_at,
    c.updated_at
FROM contents c
LEFT JOIN contents p ON p.id = c.parent_id
LEFT JOIN series s ON s.id = (CASE WHEN c.parent_id IS NULL THEN c.series_id ELSE p.series_id END);

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

-- A join or a split changes both contents' search documents too (the joined one leaves the
-- index, the primary's file list changes); the writer catches the index up in the same
-- transaction (catalog/search_index.catch_up).
CREATE TRIGGER search_content_versions_ins AFTER INSERT ON content_versions BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id) VALUES (NEW.content_id), (NEW.primary_id);
END;
CREATE TRIGGER search_content_versions_upd AFTER UPDATE ON content_versions BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id)
    VALUES (NEW.content_id), (NEW.primary_id), (OLD.primary_id);
END;
CREATE TRIGGER search_content_versions_del AFTER DELETE ON content_versions BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id) VALUES (OLD.content_id), (OLD.primary_id);
END;
