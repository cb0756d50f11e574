-- Web app (issue 8): accounts, watch progress, login attempts and the search index.
--
-- Search: `search_docs` holds one row per visible content with the facts the filters need and
-- its casefolded text (haystack); its rowid is the rowid of the FTS5 table `search_index`
-- (trigram tokenizer: Korean substrings work) and of `search_grams` (1-2 character words).
-- The index is kept current in two steps: the triggers below only queue the ids of contents
-- whose text may have changed into `search_dirty` (cheap for the scanner's writes), and
-- `web.search.refresh(conn)` re-renders the queued documents before each search (and
-- `archive-analyzer serve` at start). `web.search.rebuild(conn)` redoes everything.

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash        TEXT NOT NULL,                -- argon2id (argon2-cffi), never synced
    role                 TEXT NOT NULL DEFAULT 'viewer' CHECK (role IN ('viewer', 'admin')),
    session_version      INTEGER NOT NULL DEFAULT 1,   -- bumped on password change: old cookies die
    must_change_password INTEGER NOT NULL DEFAULT 0,
    last_login_at        TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);

CREATE TABLE watch_progress (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_id TEXT NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
    position_s REAL NOT NULL,            -- media time of the played file, seconds
    duration_s REAL,
    finished   INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, content_id)
);
CREATE INDEX watch_progress_recent ON watch_progress (user_id, finished, updated_at);

CREATE TABLE login_attempts (
    id       INTEGER PRIMARY KEY,
    username TEXT NOT NULL COLLATE NOCASE,
    ip       TEXT NOT NULL,
    at       TEXT NOT NULL,
    success  INTEGER NOT NULL
);
CREATE INDEX login_attempts_user_ip ON login_attempts (username, ip, at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);

CREATE TABLE search_docs (
    rowid      INTEGER PRIMARY KEY,      -- = search_index.rowid
    content_id TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    catalog_id TEXT,
    year       INTEGER,
    sort_key   TEXT NOT NULL DEFAULT '',
    haystack   TEXT NOT NULL             -- casefolded text of every column, for short queries
);
CREATE INDEX search_docs_catalog ON search_docs (catalog_id, year);
CREATE INDEX search_docs_year ON search_docs (year);

CREATE VIRTUAL TABLE search_index USING fts5 (
    title, series, players, tags, file_name, choseong,
    tokenize = 'trigram'
);

-- 1-2 character words (below the trigram size): every distinct character and character pair
-- of each word of the document, as tokens; contentless, no positions (only "which documents").
CREATE VIRTUAL TABLE search_grams USING fts5 (
    grams,
    tokenize = 'unicode61 remove_diacritics 0',
    content = '',
    detail = 'none'
);

CREATE TABLE search_dirty (content_id TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO search_dirty (content_id) SELECT id FROM contents;

CREATE TRIGGER search_contents_ins AFTER INSERT ON contents BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id) VALUES (new.id);
END;
CREATE TRIGGER search_contents_upd AFTER UPDATE ON contents BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id) VALUES (new.id);
    -- clips carry their parent's title and visibility
    INSERT OR IGNORE INTO search_dirty (content_id)
        SELECT id FROM contents WHERE parent_id = new.id;
END;
CREATE TRIGGER search_contents_del AFTER DELETE ON contents BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id) VALUES (old.id);
END;
CREATE TRIGGER search_series_upd AFTER UPDATE OF title, catalog_id, year ON series BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id)
        SELECT id FROM contents WHERE series_id = new.id;
END;
CREATE TRIGGER search_catalogs_upd AFTER UPDATE OF title ON catalogs BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id)
        SELECT id FROM contents WHERE catalog_id = new.id;
END;
CREATE TRIGGER search_players_upd AFTER UPDATE OF name, display_name, name_kr ON players BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id)
        SELECT content_id FROM content_players WHERE player_id = new.id;
END;
CREATE TRIGGER search_content_players_ins AFTER INSERT ON content_players BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id) VALUES (new.content_id);
END;
CREATE TRIGGER search_content_players_del AFTER DELETE ON content_players BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id) VALUES (old.content_id);
END;
CREATE TRIGGER search_tags_upd AFTER UPDATE OF name ON tags BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id)
        SELECT content_id FROM content_tags WHERE tag_id = new.id;
END;
CREATE TRIGGER search_content_tags_ins AFTER INSERT ON content_tags BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id) VALUES (new.content_id);
END;
CREATE TRIGGER search_content_tags_del AFTER DELETE ON content_tags BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id) VALUES (old.content_id);
END;
CREATE TRIGGER search_files_upd AFTER UPDATE OF name, status ON files BEGIN
    INSERT OR IGNORE INTO search_dirty (content_id)
        SELECT id FROM contents WHERE file_id = new.id;
END;
