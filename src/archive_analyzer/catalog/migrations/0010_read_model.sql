-- Read model (issue 12): the one place where a content's effective brand, series, played
-- file, year and visibility are decided. The rules are written down in docs/classification.md
-- ("Reading the catalog"); every reader (web pages and API, the search index, the sync,
-- playback) selects from this view through catalog/read.py and never recomputes them.
--
--   series_id     a top-level content's own series; a clip of a parent: the parent's series.
--   catalog_id    the content's own catalog_id when it was set by hand (locked on the
--                 content), else the parent's when set by hand on the parent, else the brand
--                 of the series above, else the content's (a clip: the parent's) own column.
--   file_id       the file the content owns (an episode's, an own-file clip's); NULL for a
--                 clip of a range.
--   play_file_id  the file it plays: its own; a clip of a parent plays the parent's file from
--                 start_sec to end_sec.
--   year          its own, else its parent's, else its series'.
--   visible       status 'active', and for a clip of a parent the parent is 'active' too.
-- The other columns are the content's own (docs/classification.md, catalog/fields.py).
--
-- The search index (0006) is kept by the catalog's writers from here on, in the transaction of
-- each change (catalog/search_index.py, docs/jobs.md): not by the web app as 0006 describes.

CREATE VIEW content_view AS
SELECT
    c.id,
    c.kind,
    c.status,
    (c.status = 'active' AND (c.parent_id IS NULL OR p.status = 'active')) AS visible,
    c.title,
    c.sort_key,
    c.parent_id,
    c.start_sec,
    c.end_sec,
    CASE WHEN c.parent_id IS NULL THEN c.file_id END AS file_id,
    CASE WHEN c.parent_id IS NULL THEN c.file_id ELSE p.file_id END AS play_file_id,
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

-- Listings newest first (GET /api/contents) page by (created_at, id).
CREATE INDEX contents_created ON contents (created_at, id);

-- The search index follows the same rules: a series change reaches the clips of its contents
-- (their series is their parent's), and a brand's title reaches every content of that brand
-- (brand overrides included). The series' sub-brand and location are in the documents too.
DROP TRIGGER search_series_upd;
CREATE TRIGGER search_series_upd
AFTER UPDATE OF title, catalog_id, year, sub_brand, location ON series BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id)
        SELECT id FROM contents WHERE series_id = new.id;
    INSERT OR IGNORE INTO search_dirty (content_id)
        SELECT c.id FROM contents p JOIN contents c ON c.parent_id = p.id
        WHERE p.series_id = new.id;
END;
DROP TRIGGER search_catalogs_upd;
CREATE TRIGGER search_catalogs_upd AFTER UPDATE OF title ON catalogs BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id)
        SELECT id FROM content_view WHERE catalog_id = new.id;
END;
