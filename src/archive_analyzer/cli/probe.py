"""``archive-analyzer probe [--strategy smart|ladder|full] [--json] TARGET...``

Each TARGET is a local file or an ``smb://host/share/dir/file`` URL. With ``--json``: one JSON
object per TARGET, in order (the keys other tools rely on: path, status, container,
duration_s, bit_rate, video, audio, bytes_read, reads, plus the rest of the record). Exit 0
even when files are truncated or invalid; only a program failure is non-zero.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from archive_analyzer.cli.app import ConfigOption, DbOption, JsonOption, app, emit_json, settings


class Strategy(StrEnum):
    """Probe strategies (see ``probe.engine``)."""

    smart = "smart"
    ladder = "ladder"
    full = "full"


@app.command()
def probe(
    targets: Annotated[
        list[str],
        typer.Argument(help="Local files or smb://host/share/path/file URLs.", show_default=False),
    ],
    strategy: Annotated[
        Strategy | None,
        typer.Option("--strategy", help="smart (default), ladder (seed baseline) or full."),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Probe media files and print their technical metadata."""
    from archive_analyzer.probe.engine import probe_path

    if any(not target.strip() for target in targets):
        # an empty target would probe the current folder as if it were a file
        raise typer.BadParameter("a target is empty", param_hint="TARGETS")
    cfg = settings(db, config, probe_strategy=strategy.value if strategy else None)
    rows: list[dict[str, Any]] = []
    for target in targets:
        record = probe_path(target, cfg).to_json()
        if as_json:
            emit_json(record)
        else:
            rows.append(record)
    if not as_json:
        _table(rows)


def _table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for column in ("path", "status", "container", "duration", "video", "audio", "read"):
        table.add_column(column, overflow="fold")
    for row in rows:
        video = row.get("video")
        vtext = ""
        if video:
            rate = video.get("frame_rate")
            vtext = f"{video.get('codec')} {video.get('width')}x{video.get('height')}"
            vtext += f" {rate:.3g} fps" if rate else ""
        atext = ", ".join(
            f"{a.get('codec')} {a.get('channels')}ch {a.get('sample_rate')}Hz"
            for a in row.get("audio") or []
        )
        duration = row.get("duration_s")
        status = row["status"] + (f" ({row['error']})" if row.get("error") else "")
        table.add_row(
            row["path"],
            status,
            row.get("container") or "",
            f"{duration:.3f}s" if duration else "",
            vtext,
            atext,
            f"{row.get('bytes_read', 0):,} B / {row.get('reads', 0)} reads",
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # a pipe or a log: do not fold paths into 80 columns
    console.print(table)
