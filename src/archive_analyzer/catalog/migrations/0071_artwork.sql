-- Artwork (issue 16): the poster of a series or a brand, chosen by an editor. Without a row
-- the poster is a frame of the first episode (series) or the newest series' poster (brand).
-- A catalog table written only by the writer (the web app asks through the writer queue,
-- docs/jobs.md); not published to Firestore.
CREATE TABLE artwork (
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('series', 'catalog')),
    owner_id   TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('upload', 'frame')),
    image      BLOB,              -- upload: the JPEG as served (scaled, metadata dropped)
    image_hash TEXT,              -- upload: sha256 of image (the ETag)
    width      INTEGER,
    height     INTEGER,
    content_id TEXT REFERENCES contents (id) ON DELETE SET NULL,  -- frame: of this content
    position_s REAL,              -- frame: at this media time of the content's played file
    set_by     TEXT,              -- the editor's user name
    updated_at TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner_id),
    CHECK ((source = 'upload') = (image IS NOT NULL)),
    CHECK (source != 'frame' OR position_s IS NOT NULL)
);
