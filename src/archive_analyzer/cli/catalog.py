"""CLI commands of the catalog model: classify, import players / hands, reclassify."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from archive_analyzer.catalog import classify_json
from archive_analyzer.catalog import db as catalog_db
from archive_analyzer.catalog.classify import Classification, classify, unique_titles
from archive_analyzer.catalog.rules import Rules, load_rules
from archive_analyzer.cli.app import (
    ConfigOption,
    DbOption,
    JsonOption,
    app,
    emit_json,
    existing_catalog,
    settings,
)

RulesOption = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="Rules file layered over the shipped rules.toml [setting rules_file].",
        exists=False,
    ),
]

log = logging.getLogger(__name__)

import_app = typer.Typer(
    name="import", help="Import the loggers' spreadsheets (CSV).", no_args_is_help=True
)
app.add_typer(import_app, name="import")


def _rules(config: Path | None, rules: Path | None) -> Rules:
    cfg = settings(None, config, rules_file=rules)
    return load_rules(cfg.rules_file)


def classify_paths(paths: list[str], rules: Rules) -> list[Classification]:
    """Classify ``paths`` and make titles unique within each series among them."""
    results = [classify(p, rules) for p in paths]
    by_series: dict[str, list[int]] = {}
    distinct: dict[str, int] = {}
    for i, result in enumerate(results):
        if result.path in distinct:
            continue
        distinct[result.path] = i
        by_series.setdefault(result.series, []).append(i)
    titles: dict[str, str] = {}
    for members in by_series.values():
        for i, title in zip(members, unique_titles([results[i] for i in members]), strict=True):
            titles[results[i].path] = title
    return [_with_title(r, titles[r.path]) for r in results]


def _with_title(result: Classification, title: str) -> Classification:
    from dataclasses import replace

    return result if result.title == title else replace(result, title=title)


@app.command("classify")
def classify_command(
    paths: Annotated[list[str], typer.Argument(help="Archive paths (relative to the root).")],
    as_json: JsonOption = False,
    rules: RulesOption = None,
    config: ConfigOption = None,
) -> None:
    """Show what the rules make of PATHs: brand, series, title and facts (no database)."""
    results = classify_paths(paths, _rules(config, rules))
    if as_json:
        for result in results:
            emit_json(classify_json.as_json(result))
        return
    console = Console() if sys.stdout.isatty() else Console(width=240)
    table = Table(show_lines=True)
    for column in ("path", "catalog", "series", "title", "facts", "players"):
        table.add_column(column, overflow="fold")
    for r in results:
        table.add_row(
            r.path,
            r.catalog or "-",
            r.series_title,
            r.title,
            _facts(r),
            ", ".join(r.players),
        )
    console.print(table)


def _facts(r: Classification) -> str:
    facts = [
        str(r.year) if r.year else "",
        f"S{r.season}" if r.season is not None else "",
        f"EP{r.episode}" if r.episode is not None else "",
        f"Day {r.day}" if r.day else "",
        f"Part {r.part}" if r.part is not None else "",
        f"Event #{r.event_number}" if r.event_number is not None else "",
        r.location or "",
        r.buy_in or "",
        {"episode": "", None: "not media"}.get(r.kind, r.kind or ""),
        ", ".join(r.versions),
        "duplicate" if r.duplicate else "",
    ]
    return " · ".join(f for f in facts if f)


def _run_import(kind: str, file: Path, db: Path | None, config: Path | None, as_json: bool) -> None:
    from archive_analyzer.catalog import hand_sheet, players, sheets

    cfg = settings(db, config)
    text = sheets.read_text(file)
    conn = catalog_db.connect(cfg.db)
    try:
        with catalog_db.transaction(conn):
            if kind == "players":
                report = players.import_players(
                    conn, text, now=catalog_db.utc_now, source=str(file)
                )
            else:
                rules = load_rules(cfg.rules_file)
                report = hand_sheet.import_hands(
                    conn, text, now=catalog_db.utc_now, rules=rules, source=str(file)
                )
    finally:
        conn.close()
    if as_json:
        for record in sheets.problems_json(report):
            emit_json(record)
        emit_json(report.as_json())
        return
    for problem in report.problems:
        print(f"{file}: line {problem.line}: {problem.message}", file=sys.stderr)
    print(report.summary())


CsvArgument = Annotated[Path, typer.Argument(help="CSV file (UTF-8 or CP949).")]


@import_app.command("players")
def import_players(
    file: CsvArgument, db: DbOption = None, config: ConfigOption = None, as_json: JsonOption = False
) -> None:
    """Import players (id,name,display_name,name_kr,country,total_hands,...)."""
    _run_import("players", file, db, config, as_json)


@import_app.command("hands")
def import_hands(
    file: CsvArgument, db: DbOption = None, config: ConfigOption = None, as_json: JsonOption = False
) -> None:
    """Import hands as clips (id,file_id,start_sec,end_sec,highlight_score,players,tags,...)."""
    _run_import("hands", file, db, config, as_json)


@app.command("reclassify")
def reclassify_command(
    db: DbOption = None,
    config: ConfigOption = None,
    rules: RulesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Re-apply the (possibly changed) rules to every file; manual edits and clips are kept."""
    from archive_analyzer.catalog import contents
    from archive_analyzer.scan.progress import for_terminal

    cfg = settings(db, config, rules_file=rules)
    compiled = load_rules(cfg.rules_file)
    conn = catalog_db.connect(existing_catalog(cfg))
    log.info("reclassifying %s with rules %s", cfg.db, compiled.version)
    progress = for_terminal("reclassify")
    try:
        total = conn.execute("SELECT count(*) FROM files WHERE is_media = 1").fetchone()[0]
        progress.start(int(total))
        with catalog_db.transaction(conn):
            report = contents.reclassify(
                conn,
                now=catalog_db.utc_now,
                rules=compiled,
                on_progress=lambda n: progress.advance(n, 0),
            )
    finally:
        progress.finish()
        conn.close()
    if as_json:
        emit_json(
            {
                "files": report.files,
                "contents": report.contents,
                "moved": report.moved,
                "retitled": report.retitled,
                "clips": report.clips,
                "rules_version": report.rules_version,
            }
        )
        return
    print(report.summary())
