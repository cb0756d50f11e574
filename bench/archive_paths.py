"""A generated archive of realistic paths with the facts each path should classify to.

Built from the folder and file name patterns in ``shared/reference/archive-domain.md`` (brand
folders, WSOP-BR / WSOP-C / WSOP-SC / archive year buckets, HCL stream dates with players,
PAD seasons, MPP guarantees, copy folders, version folders, runs of spaces, NFD Korean names,
upload junk), with the variations seen there (``Day 1A`` / ``Day 1 A`` / ``Day1C``, ``(Part 2)``,
the archive's ``(N)``, ``-001`` copies). Deterministic for a seed. Used by the classifier tests
and by ``bench/classify_coverage.py``.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from typing import Any

PLAYERS = [
    "Alex Foxen",
    "Daniel Negreanu",
    "Phil Ivey",
    "Tom Dwan",
    "Nik Airball",
    "Sashimi",
    "Garrett Adelstein",
    "Andy Stacks",
    "Mariano",
    "Wesley Fei",
    "Jungleman",
    "Rampage",
    "Doug Polk",
    "Eric Persson",
    "Phil Hellmuth",
    "Jennifer Tilly",
    "Chris Moneymaker",
    "Stu Ungar",
    "Johnny Chan",
    "Scotty Nguyen",
    "Joe McKeehen",
    "Espen Jorstad",
    "Daniel Weinman",
    "Jonathan Tamayo",
    "Jeremy Ausmus",
    "김정수",
    "Jean-Robert Bellande",
    "J.C. Tran",
    "Maria Ho",
    "Vanessa Selbst",
]
GAMES = ["PPC", "NLH", "PLO", "Mixed Games", "Seniors", "Millionaire Maker", "Monster Stack"]
CIRCUIT = [("LA", "la"), ("Cherokee", "cherokee"), ("Baltimore", "baltimore")]
FORMAT_FOLDERS = ["MXFs", "MOVs", "Generic", "Masters"]
JUNK = ["upload.mp4.part", "Thumbs.db", "clip.xmp", "export.zip", "render.pek", "notes.db"]


@dataclass(frozen=True)
class Sample:
    """One generated path and the facts it must classify to (None: must be absent)."""

    path: str
    media: bool
    truth: dict[str, Any] = field(default_factory=dict)


def _day(rng: random.Random, number: int, letter: str) -> str:
    if not letter:
        return f"Day {number}"
    return rng.choice([f"Day {number}{letter}", f"Day {number} {letter}", f"Day{number}{letter}"])


def _spaces(rng: random.Random, text: str) -> str:
    """Sometimes a run of spaces, as the NAS's uploaders type them."""
    if rng.random() < 0.1 and " " in text:
        i = rng.choice([i for i, c in enumerate(text) if c == " "])
        return text[:i] + "   " + text[i + 1 :]
    return text


def _truth(catalog: str | None, **facts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "catalog": catalog,
        "year": None,
        "season": None,
        "episode": None,
        "day": None,
        "part": None,
        "event_number": None,
        "kind": "episode",
        "duplicate": False,
    }
    base.update(facts)
    return base


def _wsop_br(rng: random.Random, out: list[Sample]) -> None:
    for year in range(2019, 2026):
        for event in ("MAIN EVENT", "SUPER MAIN EVENT", "MINI MAIN EVENT"):
            top = f"WSOP/WSOP-BR/WSOP-EUROPE/{year} WSOP-Europe/{year} WSOP-EUROPE {event}"
            for version in ("", "NO COMMENTARY WITH GRAPHICS VER/"):
                for day in range(1, 6):
                    letters = ["A", "B"] if day == 1 else [""]
                    for letter in letters:
                        parts = rng.randint(1, 3)
                        for part in range(1, parts + 1):
                            folder = _day(rng, day, letter)
                            suffix = f" (Part {part})" if parts > 1 else ""
                            name = f"{year} WSOP-EUROPE {event} Day {day}{letter}{suffix}.mp4"
                            out.append(
                                Sample(
                                    f"{top}/{version}{folder}/{name}",
                                    True,
                                    _truth(
                                        "wsop",
                                        year=year,
                                        day=f"{day}{letter}",
                                        part=part if parts > 1 else None,
                                        location="europe",
                                    ),
                                )
                            )
        top = f"WSOP/WSOP-BR/WSOP-PARADISE/{year} WSOP-PARADISE SUPER MAIN EVENT"
        for day in range(1, 8):
            for part in (1, 2):
                name = f"{year} WSOP Paradise Super Main Event Day {day} (Part {part}).mov"
                out.append(
                    Sample(
                        f"{top}/Day {day}/{name}",
                        True,
                        _truth("wsop", year=year, day=str(day), part=part, location="paradise"),
                    )
                )
        clip_top = f"WSOP/WSOP-BR/WSOP-LAS VEGAS/{year} WSOP-LAS VEGAS (PokerGo Clip)"
        for event in rng.sample(range(1, 100), 12):
            buy_in = rng.choice(["$1K", "$1.5K", "$10K", "$25K", "$50K", "$250K"])
            game = rng.choice(GAMES)
            for day in range(1, rng.randint(2, 4)):
                name = f"WSOP {year} Event #{event} {buy_in} {game} Day {day}.mp4"
                out.append(
                    Sample(
                        f"{clip_top}/{_spaces(rng, name)}",
                        True,
                        _truth(
                            "wsop",
                            year=year,
                            day=str(day),
                            event_number=event,
                            location="las vegas",
                            buy_in=buy_in,
                            kind="clip",
                        ),
                    )
                )
        vegas = f"WSOP/WSOP-BR/WSOP-LAS VEGAS/{year} WSOP-LAS VEGAS"
        for day in range(1, 10):
            for part in (1, 2):
                name = f"WSOP {year} Main Event _ Day {day} (Part {part}).mp4"
                out.append(
                    Sample(
                        f"{vegas}/{name}",
                        True,
                        _truth("wsop", year=year, day=str(day), part=part, location="las vegas"),
                    )
                )
        for event in rng.sample(range(1, 100), 15):
            name = f"WSOP {year} Bracelet Events _ Event #{event}.mp4"
            out.append(
                Sample(
                    f"{vegas}/{name}",
                    True,
                    _truth("wsop", year=year, event_number=event, location="las vegas"),
                )
            )


def _wsop_circuits(rng: random.Random, out: list[Sample]) -> None:
    for year in range(2022, 2026):
        for place, location in CIRCUIT:
            top = f"WSOP/WSOP-C/{year} WSOP-C {place}"
            for day in (1, 2, 3):
                for letter in ("A", "B", "C") if day == 1 else ("",):
                    name = f"{year} WSOP-C {place} Main Event {_day(rng, day, letter)}.mp4"
                    out.append(
                        Sample(
                            f"{top}/{year} WSOP-C {place} STREAM/{name}",
                            True,
                            _truth("wsop", year=year, day=f"{day}{letter}", location=location),
                        )
                    )
            for player in rng.sample(PLAYERS, 6):
                name = f"{year} WSOP-C {place} Main Event_subclip_{player}.mp4"
                out.append(
                    Sample(
                        f"{top}/{year} WSOP-C {place} SUBCLIP/{name}",
                        True,
                        _truth("wsop", year=year, location=location, players=[player], kind="clip"),
                    )
                )
        top = f"WSOP/WSOP-SC/{year} WSOP-SC (Cyprus)"
        series = f"$5M GTD   WSOP Super Circuit Cyprus Main Event {year}"
        for day in (1, 2, 3, 4):
            for letter in ("A", "B", "C", "D") if day == 1 else ("",):
                name = _day(rng, day, letter) + ".mp4"
                out.append(
                    Sample(
                        f"{top}/{series}/{name}",
                        True,
                        _truth("wsop", year=year, day=f"{day}{letter}", location="cyprus"),
                    )
                )


def _wsop_archive(rng: random.Random, out: list[Sample]) -> None:
    root = "WSOP/WSOP ARCHIVE (PRE-2016)"
    for year in range(1973, 2003):
        for n in range(1, rng.randint(2, 6)):
            name = f"WSOP - {year} ({n})"
            out.append(
                Sample(
                    f"{root}/WSOP Archive (1973-2002)/{year}/{name}.mp4",
                    True,
                    _truth("wsop", year=year, part=n),
                )
            )
            if rng.random() < 0.15:
                out.append(
                    Sample(
                        f"{root}/WSOP Archive (1973-2002)/{year}/{name}-001.mp4",
                        True,
                        _truth("wsop", year=year, part=n, duplicate=True),
                    )
                )
        if rng.random() < 0.2:
            player = rng.choice(PLAYERS[:22])
            name = f"WSOP {year} Main Event - {player}.mp4"
            out.append(
                Sample(
                    f"{root}/WSOP Archive (1973-2002)/{year}/{name}",
                    True,
                    _truth("wsop", year=year, players=[player]),
                )
            )
    for year in range(2003, 2011):
        for fmt in rng.sample(FORMAT_FOLDERS, 2):
            ext = {"MXFs": "mxf", "MOVs": "mov"}.get(fmt, "mp4")
            for episode in range(1, rng.randint(6, 14)):
                name = f"WSOP {year} Main Event Episode {episode}.{ext}"
                out.append(
                    Sample(
                        f"{root}/WSOP Archive (2003-2010)/WSOP {year}/{fmt}/{name}",
                        True,
                        _truth("wsop", year=year, episode=episode),
                    )
                )
        if year == 2003:
            copy = unicodedata.normalize("NFD", f"WSOP {year} - 복사본")
            for episode in range(1, 6):
                name = f"WSOP {year} Main Event Episode {episode}.mp4"
                out.append(
                    Sample(
                        f"{root}/WSOP Archive (2003-2010)/{copy}/{name}",
                        True,
                        _truth("wsop", year=year, episode=episode, duplicate=True),
                    )
                )
    for year in range(2011, 2017):
        for day in range(1, 8):
            for part in (1, 2, 3):
                name = f"WSOP {year} Main Event Day {day} Part {part}.mov"
                out.append(
                    Sample(
                        f"{root}/WSOP Archive (2011-2016)/WSOP {year}/Main Event MOVs/{name}",
                        True,
                        _truth("wsop", year=year, day=str(day), part=part),
                    )
                )


def _hcl(rng: random.Random, out: list[Sample]) -> None:
    for year in (2022, 2023, 2024, 2025):
        for _ in range(150):
            month, day = rng.randint(1, 12), rng.randint(1, 28)
            players = rng.sample(PLAYERS, rng.randint(2, 6))
            commentary = rng.random() < 0.25
            name = f"{year}{month:02d}{day:02d} - {', '.join(players)}"
            name += " Commentary" if commentary else ""
            out.append(
                Sample(
                    f"HCL/{year}/{_spaces(rng, name)}.mp4",
                    True,
                    _truth(
                        "hcl",
                        year=year,
                        stream_date=f"{year}-{month:02d}-{day:02d}",
                        players=players,
                        commentary=commentary,
                    ),
                )
            )
    for hand in range(1, 80):
        a, b = rng.sample(PLAYERS, 2)
        out.append(
            Sample(
                f"HCL/HCL Poker Clip/Hand {hand} - {a} vs {b}.mp4",
                True,
                _truth("hcl", players=[a, b], kind="clip"),
            )
        )
    for season in range(1, 7):
        for episode in range(1, 21):
            out.append(
                Sample(
                    f"HCL/HCL S{season}/HCL S{season} E{episode}.mp4",
                    True,
                    _truth("hcl", season=season, episode=episode),
                )
            )


def _others(rng: random.Random, out: list[Sample]) -> None:
    for season in range(1, 14):
        for episode in range(1, 26):
            out.append(
                Sample(
                    f"PAD/PAD S{season}/PAD S{season} EP{episode:02d}.mp4",
                    True,
                    _truth("pad", season=season, episode=episode),
                )
            )
    for day in (1, 2, 3):
        for letter in ("A", "B", "C") if day == 1 else ("",):
            out.append(
                Sample(
                    f"MPP/$1M GTD   $1K PokerOK Mystery Bounty/{_day(rng, day, letter)}.mp4",
                    True,
                    _truth("mpp", day=f"{day}{letter}"),
                )
            )
    for year in (2023, 2024, 2025):
        for day in range(1, 6):
            out.append(
                Sample(
                    f"MPP/{year} MPP Main Event/MPP {year} Main Event Day {day}.mp4",
                    True,
                    _truth("mpp", year=year, day=str(day)),
                )
            )
        for episode in range(1, 16):
            out.append(
                Sample(
                    f"GGMillions/GGMillions {year}/GGMillions {year} Super High Roller "
                    f"EP{episode}.mp4",
                    True,
                    _truth("ggmillions", year=year, episode=episode),
                )
            )
    for season in range(1, 7):
        for episode in range(1, 13):
            out.append(
                Sample(
                    f"GOG/GOG S{season}/GOG S{season} EP{episode:02d}.mp4",
                    True,
                    _truth("gog", season=season, episode=episode),
                )
            )
            out.append(
                Sample(
                    f"PokerGO/High Stakes Poker S{season}/High Stakes Poker S{season} "
                    f"E{episode}.mp4",
                    True,
                    _truth("pokergo", season=season, episode=episode),
                )
            )


def _hard(rng: random.Random, out: list[Sample]) -> None:
    """Names typed less carefully: abbreviations, underscores, dashed dates, bare numbers."""
    for season in (9, 10, 11):
        for episode in range(1, 11):
            name = rng.choice(
                [
                    f"PAD_S{season}_EP{episode:02d}_FINAL.mp4",
                    f"Poker After Dark S{season}E{episode:02d}.mp4",
                    f"PAD Season {season} Episode {episode}.mov",
                    f"PAD S{season} Ep.{episode}.mp4",
                ]
            )
            out.append(
                Sample(
                    f"PAD/PAD S{season}/{name}",
                    True,
                    _truth("pad", season=season, episode=episode),
                )
            )
    for day in range(1, 6):
        for part in (1, 2):
            name = rng.choice(
                [
                    f"WSOP 2019 ME Day{day} Pt{part}.mp4",
                    f"WSOP_2019_Main_Event_Day_{day}_Part_{part}.mp4",
                    f"WSOP 2019 ME D{day} P{part}.mp4",  # abbreviations the rules do not read
                ]
            )
            out.append(
                Sample(
                    f"WSOP/WSOP 2019/{name}",
                    True,
                    _truth("wsop", year=2019, day=str(day), part=part),
                )
            )
    for _ in range(20):
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        players = rng.sample(PLAYERS, 3)
        out.append(
            Sample(
                f"HCL/2023/2023-{month:02d}-{day:02d} - {', '.join(players)}.mp4",
                True,
                _truth(
                    "hcl", year=2023, stream_date=f"2023-{month:02d}-{day:02d}", players=players
                ),
            )
        )


def _noise(rng: random.Random, sample: Sample) -> Sample:
    """Spelling variants that must not change any fact: case, NFD, separators, a root."""
    path = sample.path
    roll = rng.random()
    if roll < 0.04:
        path = path.upper().replace(".MP4", ".mp4")
    elif roll < 0.08:
        path = path.lower()
    elif roll < 0.12:
        path = unicodedata.normalize("NFD", path)
    elif roll < 0.15:
        path = path.replace("/", "\\")
    elif roll < 0.18:
        path = "ARCHIVE/" + path
    elif roll < 0.2:
        head, dot, ext = path.rpartition(".")
        path = f"{head}{dot}{ext.upper()}"
    return Sample(path, sample.media, sample.truth)


def generate(seed: int = 5) -> list[Sample]:
    """The generated archive: a few thousand media paths plus junk, in a fixed order."""
    rng = random.Random(seed)
    out: list[Sample] = []
    _wsop_br(rng, out)
    _wsop_circuits(rng, out)
    _wsop_archive(rng, out)
    _hcl(rng, out)
    _others(rng, out)
    _hard(rng, out)
    out = [_noise(rng, s) for s in out]
    folders = sorted({s.path.rsplit("/", 1)[0] for s in out})
    for junk in JUNK:
        for folder in rng.sample(folders, 10):
            out.append(Sample(f"{folder}/{junk}", False, {}))
    return out


FACTS = ("catalog", "year", "season", "episode", "day", "part", "event_number")


def check(sample: Sample, got: dict[str, Any]) -> list[str]:
    """The facts of ``got`` (a ``classify --json`` object) that differ from the truth."""
    wrong = [f for f in FACTS if got.get(f) != sample.truth.get(f)]
    for optional in ("location", "buy_in", "stream_date", "kind", "duplicate"):
        if optional in sample.truth and got.get(optional) != sample.truth[optional]:
            wrong.append(optional)
    players = [str(p).casefold() for p in got.get("players") or []]
    if "players" in sample.truth and players != [p.casefold() for p in sample.truth["players"]]:
        wrong.append("players")
    return wrong
