"""``archive-analyzer export``: a clip cut from its original, or an edit list of hands.

    archive-analyzer export clip ID --out FILE [--exact]
    archive-analyzer export edl|fcpxml|otio|csv (--content ID | --series ID | --query TEXT)
        --out FILE

See docs/archive-tools.md.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated

import typer

from archive_analyzer.cli.app import (
    ConfigOption,
    DbOption,
    JsonOption,
    app,
    emit_json,
    open_catalog,
    settings,
)
from archive_analyzer.config import Settings
from archive_analyzer.errors import ExportError

log = logging.getLogger(__name__)

export_app = typer.Typer(
    help="Export clips and edit lists for the edit suite.", no_args_is_help=True
)
app.add_typer(export_app, name="export")

OutOption = Annotated[Path, typer.Option("--out", help="The file to write.")]
SourceOption = Annotated[
    str | None,
    typer.Option("--source", help="Folder or smb:// URL of the originals [env ARCHIVE_SOURCE]."),
]


@export_app.command("clip")
def export_clip(
    content_id: Annotated[str, typer.Argument(help="A hand's or a content's id.")],
    out: OutOption,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact", help="Re-encode for frame-accurate in and out (default: stream copy)."
        ),
    ] = False,
    source: SourceOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cut a hand (or a whole content) from its original into FILE.

    By default the cut is a stream copy from the key frame before the hand's start to the key
    frame after its end (fast, original quality) and says the real in and out; --exact
    re-encodes (H.264/AAC MP4, or the export_exact_codec setting) for exact in and out.
    """
    from archive_analyzer import pipeline
    from archive_analyzer.export import clips
    from archive_analyzer.export.selection import clip_target

    cfg = settings(db, config, **({"source": source} if source else {}))
    with open_catalog(cfg, readonly=True) as conn:
        target = clip_target(conn, content_id)
    if not cfg.source:
        raise ExportError("export clip reads the original: give --source (or ARCHIVE_SOURCE)")
    options = pipeline.export_options(cfg)
    wanted = clips.extension(target, exact, options.clip)
    if not exact and out.suffix.lower().lstrip(".") not in (wanted, ""):
        log.info("writing a stream copy of a .%s original into %s", target.ext, out.suffix)
    out = out if out.suffix else out.with_suffix(f".{wanted}")
    if out.exists() and out.is_dir():
        raise ExportError(f"--out is a folder: {out}")
    origin = pipeline.source_opener(cfg)(cfg.source)
    try:
        origin.connect()
        if origin.name != target.source:
            raise ExportError(
                f"the file is on {target.source}, not on the configured source {origin.name}"
            )
        partial = out.with_name(f".partial-{out.name}")
        progress, done = _progress(f"{'exact' if exact else 'fast'} clip")
        try:
            result = clips.make(
                origin, target, partial, exact=exact, options=options.clip, progress=progress
            )
            partial.replace(out)
        finally:
            done()
            partial.unlink(missing_ok=True)
    finally:
        origin.close()
    _audit(
        cfg,
        target.content_id,
        {"kind": "clip", "mode": "exact" if exact else "fast", "out": str(out)},
    )
    real_in = target.clock.label_at(result.real_in)
    real_out = target.clock.label_at(result.real_out)
    if as_json:
        emit_json(
            {
                "content_id": target.content_id,
                "out": str(out),
                "exact": exact,
                "requested_in": target.start,
                "requested_out": target.end,
                "real_in": result.real_in,
                "real_out": result.real_out,
                "real_in_timecode": real_in,
                "real_out_timecode": real_out,
                "bytes": result.size,
            }
        )
        return
    mode = "exact" if exact else "stream copy at key frames"
    shown_in = f"{result.real_in:.3f}s" + (f" ({real_in})" if real_in else "")
    shown_out = f"{result.real_out:.3f}s" + (f" ({real_out})" if real_out else "")
    print(f"{out}: {mode}, in {shown_in}, out {shown_out}, {result.size} bytes")
    if not exact and (result.real_in < target.start - 1e-3 or result.real_out > target.end + 1e-3):
        print(
            f"asked for {target.start:.3f}-{target.end:.3f}s; the copy starts and ends on key "
            "frames (use --exact for the exact range)"
        )


def _audit(cfg: Settings, target: str | None, detail: Mapping[str, object]) -> None:
    """Record the export in the catalog's audit log, as the web app does (actor ``cli``)."""
    from archive_analyzer.catalog import audit
    from archive_analyzer.catalog import db as catalog_db

    conn = catalog_db.connect(cfg.db)
    try:
        audit.record(
            conn, audit.EXPORT, at=catalog_db.utc_now(), actor="cli", target=target, detail=detail
        )
    finally:
        conn.close()


def _progress(label: str) -> tuple[Callable[[float], None], Callable[[], None]]:
    """(report a fraction, finish): a bar on a terminal, else a log line every 10%."""
    if sys.stderr.isatty():
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task(label, total=1.0)
        bar.start()
        return (lambda f: bar.update(task, completed=f)), bar.stop
    last = [-1]

    def line(fraction: float) -> None:
        step = int(fraction * 10)
        if step > last[0]:
            last[0] = step
            log.info("%s: %d%%", label, step * 10)

    return line, lambda: None


def _edit_list_command(fmt: str) -> Callable[..., None]:
    def command(
        out: OutOption,
        content: Annotated[
            list[str] | None, typer.Option("--content", help="A content id (repeatable).")
        ] = None,
        series: Annotated[str | None, typer.Option("--series", help="A series id.")] = None,
        query: Annotated[str | None, typer.Option("--query", help="A search's results.")] = None,
        source: SourceOption = None,
        media_root: Annotated[
            str | None,
            typer.Option(
                "--media-root",
                help="Put in front of catalog paths so the edit suite finds the originals "
                "(file:///Volumes/ARCHIVE, Z:/ARCHIVE) [env ARCHIVE_EXPORT_MEDIA_ROOT; "
                "default: the source].",
            ),
        ] = None,
        db: DbOption = None,
        config: ConfigOption = None,
        as_json: JsonOption = False,
    ) -> None:
        overrides = {"source": source, "export_media_root": media_root}
        cfg = settings(db, config, **{k: v for k, v in overrides.items() if v})
        _edit_list(fmt, out, content or [], series, query, cfg, as_json)

    command.__doc__ = {
        "edl": "A CMX 3600 EDL of the selected hands (source timecodes, reels, clip names).",
        "fcpxml": "A Final Cut Pro 7 XML of the selected hands (Premiere Pro, DaVinci Resolve).",
        "otio": "An OpenTimelineIO file of the selected hands.",
        "csv": "The selected hands in the hands sheet's columns (import hands reads it back).",
    }[fmt]
    return command


def _edit_list(
    fmt: str,
    out: Path,
    content: list[str],
    series: str | None,
    query: str | None,
    cfg: Settings,
    as_json: bool,
) -> None:
    from archive_analyzer import pipeline
    from archive_analyzer.export import edit_lists, selection

    chosen = [bool(content), series is not None, query is not None]
    if sum(chosen) != 1:
        raise typer.BadParameter("give one of --content, --series or --query")
    with open_catalog(cfg, readonly=True) as conn:
        if content:
            titles = [selection.content_title(conn, c) for c in content]
            missing = [c for c, t in zip(content, titles, strict=True) if t is None]
            if missing:
                raise ExportError(f"no such content: {', '.join(missing)}")
            ids, name = content, str(titles[0])
        elif series is not None:
            ids = selection.series_contents(conn, series)
            name = selection.series_title(conn, series) or series
        else:
            from archive_analyzer.web.search import matching_ids

            ids, name = matching_ids(conn, query or ""), f"search {query}"
        events = selection.events(conn, ids)
        options = edit_lists.Options(media_root=pipeline.export_options(cfg).media_root, name=name)
        text = edit_lists.render(events, fmt, options)  # type: ignore[arg-type]
    out.write_text(text, encoding="utf-8")
    hands_n = sum(1 for e in events if e.is_hand)
    detail = {"kind": "edit list", "format": fmt, "query": query, "events": len(events)}
    _audit(cfg, content[0] if content else series, detail)
    if as_json:
        emit_json({"out": str(out), "format": fmt, "events": len(events), "hands": hands_n})
    else:
        print(f"{out}: {fmt}, {len(events)} events ({hands_n} hands)")


for _fmt in ("edl", "fcpxml", "otio", "csv"):
    export_app.command(_fmt)(_edit_list_command(_fmt))
