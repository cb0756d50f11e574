"""The catalog's field lists, declared once: who writes which column, and what readers show.

Every other list of these columns is derived from here (the classifier's writes, the hand
import, manual edits, the facts the web shows and the sync publishes); a test checks them
against the schema and against ``content_view`` (migration 0010).
"""

from __future__ import annotations

# A content's facts found in its path (the classifier's, besides its place and title).
PATH_FACTS = (
    "year",
    "season",
    "episode",
    "day",
    "part",
    "event_number",
    "event_name",
    "buy_in",
    "stream_date",
    "versions",
    "duplicate",
)

# Columns of ``contents`` the classifier writes from a file's path (``contents.refresh``);
# everything else is written by imports or by hand.
CLASSIFIED = ("kind", "series_id", "catalog_id", "title", "sort_key", *PATH_FACTS, "rules_version")

# Columns of ``series`` the classifier writes.
SERIES_CLASSIFIED = ("catalog_id", "title", "sub_brand", "location", "year", "season", "sort_key")

# A hand's facts (a clip imported from the hands sheet, or marked by an editor).
HAND_FACTS = ("highlight_score", "winner", "pot_size_bb", "is_all_in", "is_showdown", "board")

# What a hand clip takes over from its parent episode when it is made.
INHERITED_BY_CLIPS = ("year", "season", "episode", "day", "part", "event_number")

# A content's descriptive facts as readers show and publish them, in this order (``year`` is
# the effective year of ``content_view``).
CONTENT_FACTS = (*PATH_FACTS, "external_id", *HAND_FACTS)

# Facts stored as 0/1 that read as booleans, and facts stored as a JSON list.
BOOL_FACTS = frozenset({"duplicate", "is_all_in", "is_showdown"})
LIST_FACTS = frozenset({"versions"})

# The facts the content page lists under its title (the card shows the others).
DETAIL_FACTS = ("event_name", "buy_in", *HAND_FACTS)

# Columns a person may edit by hand (``contents.set_manual`` locks them against the classifier).
# A content's: the classifier's facts less its bookkeeping, its status and range, the hand facts.
EDITABLE: dict[str, frozenset[str]] = {
    "catalogs": frozenset({"title", "sort_order"}),
    "series": frozenset(SERIES_CLASSIFIED) - {"catalog_id"},
    "contents": (frozenset(CLASSIFIED) - {"kind", "rules_version"})
    | frozenset({"status", "start_sec", "end_sec", *HAND_FACTS}),
    "players": frozenset({"name", "display_name", "name_kr", "country"}),
}
