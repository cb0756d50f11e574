-- Catalog model (issue 5): catalogs (brands) -> series -> contents (episodes and clips),
-- players and tags with their links to contents.
--
-- Ids:
--   catalogs.id  a slug from the rules file ('wsop', 'hcl', ...; 'unsorted' for the rest).
--   series.id    derived from the catalog id and the normalised series key the rules produce
--                (catalog.contents.series_id): the same folder always yields the same series,
--                on every run and every machine, so a reclassify that does not change a
--                series' key keeps its id. A rule change that moves a series to a new key
--                makes a new series row; the contents move there and keep their ids.
--   contents.id, players.id  db.new_id(): random, never derived from a path. An episode
--                follows its file (files.id survives moves and renames).
--   tags.id      the tag's slug ('preflop_allin', 'version-clean').
--
-- Manual edits: catalogs, series, contents and players carry `locked_fields`, a JSON list of
-- column names edited by hand; classification (scan refresh, reclassify) never writes a locked
-- column. Link rows carry `origin`: 'path' links are recomputed by the classifier, 'import'
-- links by imports, 'manual' links are never touched by either.
--
-- Every row change sets updated_at. A change of a content's player or tag links also bumps the
-- content's updated_at (the sync publishes links as part of the content). Rows are soft
-- deleted through `status`, so the sync sees removals as updates.

CREATE TABLE catalogs (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    sort_order    INTEGER NOT NULL DEFAULT 1000,
    locked_fields TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX catalogs_updated_at ON catalogs (updated_at);

CREATE TABLE series (
    id            TEXT PRIMARY KEY,
    catalog_id    TEXT NOT NULL REFERENCES catalogs (id),
    key           TEXT NOT NULL UNIQUE,       -- '<catalog>/<normalised series key>'
    title         TEXT NOT NULL,
    sub_brand     TEXT,                       -- 'WSOP-BR', 'WSOP-C', 'WSOP-SC', 'WSOP Archive'
    location      TEXT,                       -- 'europe', 'las vegas', 'paradise', 'la', 'cyprus'
    year          INTEGER,
    season        INTEGER,
    sort_key      TEXT NOT NULL DEFAULT '',
    locked_fields TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX series_catalog ON series (catalog_id, sort_key);
CREATE INDEX series_updated_at ON series (updated_at);

CREATE TABLE contents (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('episode', 'clip')),
    -- An episode plays its file. A clip plays a range of its parent episode's file
    -- (parent_id, start_sec, end_sec), or, for clip files cut by the editors (SUBCLIP
    -- folders, '_subclip_' names), its own whole file (file_id, no parent).
    file_id         TEXT REFERENCES files (id) ON DELETE SET NULL,
    parent_id       TEXT REFERENCES contents (id) ON DELETE CASCADE,
    start_sec       REAL,
    end_sec         REAL,
    series_id       TEXT REFERENCES series (id),  -- a clip of a parent: the parent's series
    catalog_id      TEXT REFERENCES catalogs (id),
    status          TEXT NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'hidden', 'deleted')),
    title           TEXT NOT NULL,
    sort_key        TEXT NOT NULL DEFAULT '',
    -- facts from the path (classifier) --
    year            INTEGER,
    season          INTEGER,
    episode         INTEGER,
    day             TEXT,                       -- '1A', '2', 'FINAL'
    part            INTEGER,
    event_number    INTEGER,
    event_name      TEXT,
    buy_in          TEXT,                       -- '$50K', '$5M GTD'
    stream_date     TEXT,                       -- 'YYYY-MM-DD' (HCL)
    versions        TEXT NOT NULL DEFAULT '[]', -- JSON list: 'stream', 'clean', 'no-commentary' ...
    duplicate       INTEGER NOT NULL DEFAULT 0, -- lives in a copy folder or has a copy suffix
    rules_version   TEXT,
    -- hand facts (clips imported from the hands spreadsheet) --
    external_id     TEXT,                       -- the spreadsheet's hand id
    highlight_score INTEGER,
    winner          TEXT,
    pot_size_bb     REAL,
    is_all_in       INTEGER,
    is_showdown     INTEGER,
    board           TEXT,
    locked_fields   TEXT NOT NULL DEFAULT '[]',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK (kind = 'clip' OR (parent_id IS NULL AND start_sec IS NULL AND end_sec IS NULL)),
    CHECK (kind = 'episode' OR file_id IS NOT NULL OR parent_id IS NOT NULL)
);
CREATE UNIQUE INDEX contents_file ON contents (file_id) WHERE parent_id IS NULL AND file_id IS NOT NULL;
CREATE UNIQUE INDEX contents_external ON contents (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contents_series ON contents (series_id, sort_key);
CREATE INDEX contents_parent ON contents (parent_id);
CREATE INDEX contents_updated_at ON contents (updated_at);

CREATE TABLE players (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL UNIQUE,      -- NFC, casefolded, spaces collapsed
    display_name    TEXT,
    name_kr         TEXT,
    country         TEXT,
    total_hands     INTEGER,
    total_wins      INTEGER,
    career_earnings REAL,
    wsop_bracelets  INTEGER,
    external_id     TEXT UNIQUE,               -- the spreadsheet's player id
    origin          TEXT NOT NULL DEFAULT 'path' CHECK (origin IN ('path', 'import', 'manual')),
    locked_fields   TEXT NOT NULL DEFAULT '[]',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX players_updated_at ON players (updated_at);

CREATE TABLE content_players (
    content_id TEXT NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
    player_id  TEXT NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    role       TEXT NOT NULL DEFAULT 'player',  -- 'player', 'featured', 'winner'
    origin     TEXT NOT NULL DEFAULT 'path' CHECK (origin IN ('path', 'import', 'manual')),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (content_id, player_id)
);
CREATE INDEX content_players_player ON content_players (player_id);
CREATE INDEX content_players_updated_at ON content_players (updated_at);

CREATE TABLE tags (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL DEFAULT 'play',   -- 'play' (hand tags), 'version', 'topic'
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX tags_updated_at ON tags (updated_at);

CREATE TABLE content_tags (
    content_id TEXT NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
    tag_id     TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    origin     TEXT NOT NULL DEFAULT 'path' CHECK (origin IN ('path', 'import', 'manual')),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (content_id, tag_id)
);
CREATE INDEX content_tags_tag ON content_tags (tag_id);
CREATE INDEX content_tags_updated_at ON content_tags (updated_at);
