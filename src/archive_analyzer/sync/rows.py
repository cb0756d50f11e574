"""The rows the sync publishes (frozen values; loaded by ``sync/load.py``).

Catalogs, series, players and files are the read model's rows (``catalog/read.py``); a
content is the read model's :class:`~archive_analyzer.catalog.read.ContentRow` with what its
document embeds. ``plan.py`` turns them into documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archive_analyzer.catalog.file_facts import FileFacts
from archive_analyzer.catalog.read import (
    CatalogRow,
    ContentRow,
    PlayerRef,
    PlayerRow,
    SeriesRow,
    TagRef,
)

Entity = Literal["catalog", "series", "content", "player", "file"]
# Order documents are planned in within one change window (parents before children).
ENTITY_ORDER: tuple[Entity, ...] = ("catalog", "series", "player", "file", "content")


@dataclass(frozen=True)
class ContentSnapshot:
    """A content with everything its document embeds.

    ``content`` carries the read model's effective brand, series, played file and visibility;
    ``play_file`` is that played file (its own, or its parent episode's for a clip of a
    range). ``thumbnail_s`` is where the poster frame was taken when one exists for the
    current version of the played file (the web app serves it at ``/thumb/{content id}``).
    """

    content: ContentRow
    players: tuple[PlayerRef, ...] = ()
    tags: tuple[TagRef, ...] = ()
    play_file: FileFacts | None = None
    thumbnail_s: float | None = None
    # Every file of the content's versions, its own first, with how each joined ('own',
    # 'identical', 'same_programme'); empty when it has only its own (issue 18).
    versions: tuple[tuple[FileFacts, str], ...] = ()

    @property
    def id(self) -> str:
        return self.content.id


Row = CatalogRow | SeriesRow | ContentSnapshot | PlayerRow | FileFacts
