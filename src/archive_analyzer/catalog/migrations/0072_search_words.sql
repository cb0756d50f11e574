-- Search ranking and typo tolerance (issue 16).
--
-- search_docs.title: the content's own title, as catalogued (ranking: a query found in the
-- title itself beats one found through the series or a player; the haystack's title part also
-- holds the event name, buy-in and a clip's episode title).
-- search_docs.words: the words a typo may stand for: title, series title and player names
-- (name, display name, Korean name). search_words indexes them (FTS5, unicode61: a word per
-- token, case and diacritics folded, Hangul syllables kept together) with search_docs as its
-- external content, and search_terms is its vocabulary (fts5vocab: every word and how many
-- documents hold it), which web/spelling.py reads to correct mistyped words. The index's owner
-- keeps them with the rest of the document (catalog/search_index.py); this migration fills them
-- for the documents indexed before it.

ALTER TABLE search_docs ADD COLUMN title TEXT;
ALTER TABLE search_docs ADD COLUMN words TEXT;

UPDATE search_docs SET
    title = (SELECT c.title FROM contents c WHERE c.id = search_docs.content_id),
    words = (
        SELECT trim(
            c.title || ' ' || coalesce(s.title, '') || ' ' || coalesce((
                SELECT group_concat(
                    p.name || ' ' || coalesce(p.display_name, '') || ' ' || coalesce(p.name_kr, ''),
                    ' '
                )
                FROM content_players cp JOIN players p ON p.id = cp.player_id
                WHERE cp.content_id = c.id
            ), '')
        )
        FROM contents c
        LEFT JOIN contents pc ON pc.id = c.parent_id
        LEFT JOIN series s ON s.id = (CASE WHEN c.parent_id IS NULL THEN c.series_id ELSE pc.series_id END)
        WHERE c.id = search_docs.content_id
    );

CREATE VIRTUAL TABLE search_words USING fts5 (
    words,
    content = 'search_docs',
    content_rowid = 'rowid',
    detail = none,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO search_words (search_words) VALUES ('rebuild');

CREATE VIRTUAL TABLE search_terms USING fts5vocab (search_words, 'row');
