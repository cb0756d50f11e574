"""Reading spreadsheets: encodings, separators, timecodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_analyzer.catalog import sheets
from archive_analyzer.catalog.players import PLAYER_COLUMNS
from archive_analyzer.errors import ImportRowError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0:00:05", 5.0),
        ("1:02:03", 3723.0),
        ("12:03", 723.0),
        ("3723.5", 3723.5),
        ("01:02:03.250", 3723.25),
    ],
)
def test_timecodes(text: str, seconds: float) -> None:
    assert sheets.parse_timecode(text) == seconds


@pytest.mark.parametrize("text", ["", "1:60:00", "abc", "-5", "1:2:3:4"])
def test_bad_timecodes(text: str) -> None:
    with pytest.raises(ImportRowError):
        sheets.parse_timecode(text)


def test_cp949_and_semicolons_are_read(tmp_path: Path) -> None:
    path = tmp_path / "players.csv"
    path.write_bytes("id;name;name_kr\np1;Tom Dwan;톰 드완\n".encode("cp949"))
    rows = list(
        sheets.rows_of(
            sheets.read_text(path), "players", required=("name",), columns=PLAYER_COLUMNS
        )
    )
    assert rows == [(2, {"id": "p1", "name": "Tom Dwan", "name_kr": "톰 드완"})]
