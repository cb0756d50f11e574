"""Fixity commands: ``verify``, ``duplicates`` and ``export mhl`` (docs/fixity.md).

``verify [--all] [--json] [--db FILE] [--mhl FILE]``: with ``--json`` one line per file
checked, ``{"path", "status", "xxh128", "chunk"?, "seconds"?}``, status one of new, ok,
mismatch, changed, vanished, error; exit 1 when any file is ``mismatch``, else 0.
``duplicates [--json] [--db FILE]``: one line per group, ``{"kind", "files",
"bytes_reclaimable", ...}``. ``export mhl FOLDER --out DIR``: an ASC MHL from stored hashes.
"""

from __future__ import annotations

import platform
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from archive_analyzer.catalog import db as catalog_db
from archive_analyzer.cli.app import (
    ConfigOption,
    DbOption,
    JsonOption,
    app,
    emit_json,
    existing_catalog,
    open_catalog,
    settings,
)
from archive_analyzer.cli.export import export_app
from archive_analyzer.errors import ConfigError
from archive_analyzer.scan.progress import human_bytes

STATUS_ORDER = ("new", "ok", "changed", "vanished", "mismatch", "error")


@app.command()
def verify(
    everything: Annotated[
        bool, typer.Option("--all", help="Verify every file now, not only those due.")
    ] = False,
    mhl: Annotated[
        Path | None,
        typer.Option("--mhl", help="Check a folder against this ASC MHL manifest instead."),
    ] = None,
    folder: Annotated[
        str | None,
        typer.Option(
            "--folder",
            help="With --mhl: the folder to check (default: the one named in the manifest).",
        ),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hash files that have no hash yet and re-verify those due (every
    fixity_interval_days); --all verifies every file now. Exit 1 if any file's bytes changed
    without its size and modification time changing (a fixity failure)."""
    from archive_analyzer import pipeline, verification
    from archive_analyzer.scan.progress import for_terminal

    cfg = settings(db, config)
    if not cfg.source:
        raise ConfigError("no source configured: set ARCHIVE_SOURCE or source in TOML")
    options = verification.FixityOptions.from_settings(cfg)
    stop = _StopOnSignal()
    emit = (lambda line: emit_json(line.as_json())) if as_json else _print_line
    source = pipeline.source_opener(cfg)(cfg.source)
    conn = None
    try:
        source.connect()
        if mhl is not None:
            from archive_analyzer.fixity.mhl import read_manifest

            manifest = read_manifest(mhl)
            if cfg.db.exists():
                conn = catalog_db.connect(cfg.db, readonly=True)
            summary = verification.verify_manifest(
                source, manifest, options, folder=folder, conn=conn, on_line=emit,
                progress=for_terminal("verify"),
            )  # fmt: skip
        else:
            conn = catalog_db.connect(existing_catalog(cfg))
            summary = verification.verify(
                conn, source, options, everything=everything, progress=for_terminal("verify"),
                on_line=emit, should_stop=stop.is_set,
            )  # fmt: skip
    finally:
        stop.restore()
        if conn is not None:
            conn.close()
        source.close()
    if not as_json:
        counts = ", ".join(f"{summary.count(s)} {s}" for s in STATUS_ORDER if summary.count(s))
        typer.echo(f"verified {len(summary.lines)} files: {counts or 'nothing due'}", err=True)
    if stop.is_set():
        raise typer.Exit(130)
    if summary.failed:
        raise typer.Exit(1)


def _print_line(line: object) -> None:
    from archive_analyzer.verification import Line

    assert isinstance(line, Line)
    if line.status == "ok":
        return
    extra = f" chunk {line.chunk}" if line.chunk is not None else ""
    detail = f" ({line.detail})" if line.detail else ""
    typer.echo(f"{line.status:8} {line.path}{extra}{detail}")


class _StopOnSignal:
    """SIGTERM/SIGINT end the pass at the next chunk (its checkpoint is kept)."""

    def __init__(self) -> None:
        self._set = False
        self._previous = {
            sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)
        }

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._set:
            raise KeyboardInterrupt
        self._set = True
        print("stopping after the current chunk (again to stop now)", file=sys.stderr)

    def is_set(self) -> bool:
        return self._set

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@app.command()
def duplicates(
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List files stored twice: identical bytes (confirmed by the full hash, or candidates by
    size and a sampled hash) and the same programme in another encoding. Deletes nothing."""
    from archive_analyzer.catalog import duplicates as dupes

    cfg = settings(db, config)
    with open_catalog(cfg) as conn:
        found = dupes.report(conn)
    if as_json:
        for group in found:
            emit_json(group.as_json())
        return
    total = sum(g.bytes_reclaimable for g in found)
    for group in found:
        state = "" if group.confirmed else " (candidate: size and sample match)"
        typer.echo(f"{group.kind}{state}: {human_bytes(group.bytes_reclaimable)} reclaimable")
        for item in group.files:
            typer.echo(f"  {item.path}{'  [copy folder]' if item.copy_marked else ''}")
    typer.echo(
        f"{len(found)} groups, {human_bytes(total)} reclaimable (nothing was deleted)", err=True
    )


@export_app.command("mhl")
def export_mhl(
    folder: Annotated[str, typer.Argument(help="A folder of the archive ('' for all of it).")],
    out: Annotated[Path, typer.Option("--out", help="The folder to write the manifest into.")],
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write an ASC Media Hash List (xxh128) of FOLDER from the stored hashes."""
    from archive_analyzer import paths, pipeline, verification

    cfg = settings(db, config)
    if not cfg.source:
        raise ConfigError("no source configured: set ARCHIVE_SOURCE or source in TOML")
    try:
        root = paths.normalize(folder)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="FOLDER") from exc
    source_name = pipeline.source_opener(cfg)(cfg.source).name
    with open_catalog(cfg) as conn:
        written, count = verification.export_manifest(
            conn, source_name, root, out, now=catalog_db.utc_now(), host=platform.node()
        )
    if as_json:
        emit_json({"manifest": str(written), "files": count, "folder": root})
    else:
        typer.echo(f"wrote {written} ({count} files)")
