"""Reading the loggers' spreadsheets (CSV): text, rows, cell values, and what an import did.

Pure: text in, rows and values out. A CSV may be UTF-8 (with or without BOM) or CP949 (Korean
Excel), separated by ',', ';' or tab; cells are stripped and headers lower-cased. An unusable
file raises ``ImportFileError``; a cell that cannot be used raises ``ImportRowError`` (the
importers skip that row and report it with its line number). The sheets themselves are read
by :mod:`~archive_analyzer.catalog.players` and :mod:`~archive_analyzer.catalog.hand_sheet`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive_analyzer.catalog import hands
from archive_analyzer.catalog.pathfacts import normalise
from archive_analyzer.errors import HandError, ImportFileError, ImportRowError

_LIST_SPLIT = re.compile(r"\s*[;,|]\s*")


@dataclass(frozen=True)
class Problem:
    """A skipped row: its line number in the file and why."""

    line: int
    message: str


@dataclass(frozen=True)
class ImportReport:
    """What an import did. ``problems`` are the skipped rows, in file order."""

    kind: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: tuple[Problem, ...] = ()

    @property
    def skipped(self) -> int:
        return len(self.problems)

    def summary(self) -> str:
        """The one summary line the CLI prints."""
        return (
            f"{self.kind}: {self.rows} rows, {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.skipped} skipped"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
        }


@dataclass
class Tally:
    """What an import has done so far (becomes its :class:`ImportReport`)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    def report(self, kind: str, rows: int) -> ImportReport:
        return ImportReport(
            kind, rows, self.created, self.updated, self.unchanged, tuple(self.problems)
        )


def problems_json(report: ImportReport) -> list[dict[str, Any]]:
    """The skipped rows as JSON objects (``import --json``)."""
    return [{"line": p.line, "error": p.message} for p in report.problems]


def read_text(path: Path) -> str:
    """A CSV file's text: UTF-8 (with or without BOM), else CP949 (Korean Excel's export)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{path} is neither UTF-8 nor CP949 text")


def rows_of(
    text: str,
    kind: str,
    *,
    required: Sequence[str],
    columns: Sequence[str],
    source: str = "file",
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row of a ``kind`` sheet; cells stripped, keys
    lower-case. ``required`` columns must be present; ``columns`` is the sheet's template
    (named in the error).

    Raises ``ImportFileError`` when the text has no header or lacks a required column.
    """
    if "\x00" in text:
        raise ImportFileError(f"{source} is not a CSV file (binary data)")
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(f"{source} is empty") from None
    except csv.Error as exc:
        raise ImportFileError(f"{source} is not a CSV file: {exc}") from exc
    found = [normalise(h).replace(" ", "_") for h in header]
    missing = [c for c in required if c not in found]
    if missing:
        raise ImportFileError(
            f"{source}: not a {kind} sheet: missing column(s) {', '.join(missing)} "
            f"(expected {', '.join(columns)})"
        )
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"{source}: line {line}: broken CSV: {exc}") from exc
        if not any(c.strip() for c in cells):
            continue
        row = {col: (cells[i].strip() if i < len(cells) else "") for i, col in enumerate(found)}
        yield line, row


def parse_timecode(text: str) -> float:
    """Seconds from ``H:MM:SS[.fff]``, ``MM:SS`` or plain seconds (a source timecode label
    needs its file: see ``hands.seconds_of``). Raises ``ImportRowError``."""
    try:
        return hands.seconds_of(text, hands.FileClock())
    except HandError as exc:
        raise ImportRowError(str(exc)) from None


def parse_bool(text: str, column: str) -> int | None:
    value = text.strip().casefold()
    if not value:
        return None
    if value in ("1", "true", "t", "yes", "y", "o", "예"):
        return 1
    if value in ("0", "false", "f", "no", "n", "x", "아니오"):
        return 0
    raise ImportRowError(f"{column}: {text!r} is not true/false")


def parse_number(text: str, column: str, *, integer: bool = False) -> float | int | None:
    value = re.sub(r"[\s,$₩€]", "", text)
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ImportRowError(f"{column}: {text!r} is not a number") from None
    if not math.isfinite(number):
        raise ImportRowError(f"{column}: {text!r} is not a number")
    if integer:
        if number != int(number):
            raise ImportRowError(f"{column}: {text!r} is not a whole number")
        return int(number)
    return number


def split_list(text: str) -> list[str]:
    """Cells holding several values: separated by ',', ';' or '|'."""
    return [v for v in _LIST_SPLIT.split(text.strip()) if v]
