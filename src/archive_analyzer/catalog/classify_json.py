"""The ``classify --json`` record: a :class:`Classification` as the CLI prints it.

This is a contract other tools parse (``docs/classification.md``, Commands): the keys, their
order and their types do not change. Missing values are ``null``, ``players`` and ``versions``
are lists, ``duplicate`` is a bool, ``kind`` is ``episode``, ``clip`` or ``null`` (not media).
"""

from __future__ import annotations

from typing import Any

from archive_analyzer.catalog.classify import Classification


def as_json(result: Classification) -> dict[str, Any]:
    """The JSON object of one classified path."""
    return {
        "path": result.path,
        "catalog": result.catalog,
        "catalog_title": result.catalog_title,
        "sub_brand": result.sub_brand,
        "series": result.series,
        "series_title": result.series_title,
        "title": result.title,
        "kind": result.kind,
        "year": result.year,
        "season": result.season,
        "episode": result.episode,
        "day": result.day,
        "part": result.part,
        "event_number": result.event_number,
        "event_name": result.event_name,
        "buy_in": result.buy_in,
        "guarantee": result.guarantee,
        "stream_date": result.stream_date,
        "location": result.location,
        "players": list(result.players),
        "versions": list(result.versions),
        "duplicate": result.duplicate,
    }
