"""``archive-analyzer probe [--strategy smart|ladder|full] [--json] TARGET...``

Each TARGET is a local file or an ``smb://host/share/dir/file`` URL. With ``--json``: one JSON
object per TARGET, in order (the keys other tools rely on: path, status, container,
duration_s, bit_rate, video, audio, bytes_read, reads, plus the rest of the record). Exit 0
even when files are truncated or invalid; only a program failure is non-zero.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import unquote

import typer

from archive_analyzer.cli.app import ConfigOption, DbOption, JsonOption, app, emit_json, settings

if TYPE_CHECKING:
    from archive_analyzer.probe.engine import ProbeOptions
    from archive_analyzer.probe.result import ProbeResult
    from archive_analyzer.sources import SourceOpener


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
    from archive_analyzer import pipeline

    if any(not target.strip() for target in targets):
        # an empty target would probe the current folder as if it were a file
        raise typer.BadParameter("a target is empty", param_hint="TARGETS")
    cfg = settings(db, config, probe_strategy=strategy.value if strategy else None)
    opener, options = pipeline.source_opener(cfg), pipeline.probe_options(cfg)
    rows: list[dict[str, Any]] = []
    for target in targets:
        record = probe_target(target, opener, options).to_json()
        if as_json:
            emit_json(record)
        else:
            rows.append(record)
    if not as_json:
        _table(rows)


def probe_target(target: str, opener: SourceOpener, options: ProbeOptions) -> ProbeResult:
    """Probe one CLI target: a local file path (or ``file://`` URL) or an
    ``smb://host/share/dir/file`` URL, opened as a source on its folder.

    Raises ``ConfigError`` for a malformed URL; everything about the file is in the result.
    """
    from archive_analyzer import paths
    from archive_analyzer.errors import FileVanished, SourceError
    from archive_analyzer.probe.engine import probe_file

    local: Path | None = None
    if target.lower().startswith("smb://"):
        folder, _, quoted = target.rstrip("/").rpartition("/")
        name = paths.normalize(unquote(quoted))  # URLs percent-encode spaces and Hangul
    else:
        text = unquote(target[len("file://") :]) if target.startswith("file://") else target
        file = Path(text).expanduser().absolute()
        try:
            if file.is_dir():
                return _target_error(target, options, f"is a folder: {file}")
            file.stat()  # a missing parent folder is the target's problem, not the source's
        except (FileNotFoundError, NotADirectoryError):
            return _target_error(target, options, f"not found: {file}")
        except OSError:
            pass  # e.g. permission denied: the probe reports it in its own words
        folder, name, local = str(file.parent), file.name, file
    source = opener(folder)
    try:
        source.connect()
        # the target's own problems in its own words, before the probe reads it as a file
        # ("I/O: no longer exists" for a typo, "empty file" for a folder misled users)
        try:
            info = source.stat(name)
        except FileVanished:
            return _target_error(target, options, f"not found: {local or target}")
        if info.is_dir:
            return _target_error(target, options, f"is a folder: {local or target}")
        return replace(probe_file(source, name, options, local_path=local), path=target)
    except SourceError as exc:
        return _target_error(target, options, str(exc))
    finally:
        source.close()


def _target_error(target: str, options: ProbeOptions, message: str) -> ProbeResult:
    from archive_analyzer.probe.result import ProbeResult, ProbeStatus

    return ProbeResult(
        path=target, status=ProbeStatus.ERROR, strategy=options.strategy, error=message
    )


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
