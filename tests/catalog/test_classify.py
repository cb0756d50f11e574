from __future__ import annotations

import unicodedata
from collections import defaultdict
from typing import Any

import pytest
from bench.archive_paths import check, generate
from hypothesis import given, settings
from hypothesis import strategies as st

from archive_analyzer.catalog.classify import classify, series_id, unique_titles
from archive_analyzer.catalog.classify_json import as_json
from tests.catalog.catalog_rows import CLASSIFY_KEYS

EU = "WSOP/WSOP-BR/WSOP-EUROPE/2025 WSOP-Europe/2025 WSOP-EUROPE MAIN EVENT"
ARCH = "WSOP/WSOP ARCHIVE (PRE-2016)"

# (path, expected facts). Every example of the reference's folder and file names, and more.
CASES: list[tuple[str, dict[str, Any]]] = [
    (
        f"{EU}/NO COMMENTARY WITH GRAPHICS VER/Day 1 A/2025 WSOP-EUROPE MAIN EVENT Day 1A.mp4",
        {
            "catalog": "wsop",
            "sub_brand": "WSOP-BR",
            "location": "europe",
            "year": 2025,
            "day": "1A",
            "series_title": "2025 WSOP-EUROPE MAIN EVENT",
            "versions": ["no-commentary", "with-graphics"],
            "kind": "episode",
            "duplicate": False,
        },
    ),
    (
        f"{EU}/Day 1 A/2025 WSOP-EUROPE MAIN EVENT Day 1A.mp4",
        {"day": "1A", "versions": [], "series_title": "2025 WSOP-EUROPE MAIN EVENT"},
    ),
    (f"{EU}/Day1C/Main Event Day1C.mp4", {"day": "1C", "year": 2025}),
    (f"{EU}/Day 2/clip.mp4", {"day": "2", "title": "clip · Day 2"}),
    (
        "WSOP/WSOP-BR/WSOP-PARADISE/2024 WSOP-PARADISE SUPER MAIN EVENT/Day 4/"
        "2024 WSOP Paradise Super Main Event Day 4 (Part 2).mov",
        {
            "catalog": "wsop",
            "location": "paradise",
            "year": 2024,
            "day": "4",
            "part": 2,
            "series_title": "2024 WSOP-PARADISE SUPER MAIN EVENT",
            "title": "2024 WSOP Paradise Super Main Event Day 4 (Part 2)",
        },
    ),
    (
        "WSOP/WSOP-BR/WSOP-LAS VEGAS/2024 WSOP-LAS VEGAS (PokerGo Clip)/"
        "WSOP 2024 Event #58 $50K PPC Day 3.mp4",
        {
            "catalog": "wsop",
            "location": "las vegas",
            "year": 2024,
            "event_number": 58,
            "buy_in": "$50K",
            "day": "3",
            "kind": "clip",
            "series_title": "2024 WSOP-LAS VEGAS (PokerGo Clip)",
        },
    ),
    (
        "WSOP/WSOP-C/2024 WSOP-C LA/2024 WSOP-C LA STREAM/2024 WSOP-C LA Main Event Day 2.mp4",
        {
            "sub_brand": "WSOP-C",
            "location": "la",
            "series_title": "2024 WSOP-C LA",
            "versions": ["stream"],
            "kind": "episode",
            "day": "2",
        },
    ),
    (
        "WSOP/WSOP-C/2024 WSOP-C LA/2024 WSOP-C LA SUBCLIP/"
        "2024 WSOP-C LA Main Event_subclip_Alex Foxen.mp4",
        {
            "location": "la",
            "series_title": "2024 WSOP-C LA",
            "kind": "clip",
            "players": ["Alex Foxen"],
            "versions": ["subclip"],
            "title": "2024 WSOP-C LA Main Event – Alex Foxen",
        },
    ),
    (
        # a space, not a '_', before 'subclip_' (issue 17)
        "WSOP/WSOP-C/2024 WSOP-C LA/2024 WSOP-C LA SUBCLIP/LA 2024 subclip_Alex Foxen.mp4",
        {
            "location": "la",
            "series_title": "2024 WSOP-C LA",
            "kind": "clip",
            "players": ["Alex Foxen"],
            "versions": ["subclip"],
            "title": "LA 2024 – Alex Foxen",
        },
    ),
    (
        "WSOP/WSOP-C/2024 WSOP-C LA/2024 WSOP-C LA SUBCLIP/Final Table SUBCLIP_Daniel Negreanu.mp4",
        {"kind": "clip", "players": ["Daniel Negreanu"], "title": "Final Table – Daniel Negreanu"},
    ),
    (
        "WSOP/WSOP-C/2023 WSOP-C Cherokee/2023 WSOP-C Cherokee STREAM/Main Event Day 1B.mp4",
        {"location": "cherokee", "series_title": "2023 WSOP-C Cherokee", "day": "1B"},
    ),
    (
        "WSOP/WSOP-SC/2025 WSOP-SC (Cyprus)/$5M GTD   WSOP Super Circuit Cyprus Main Event 2025/"
        "Day 1 A.mp4",
        {
            "sub_brand": "WSOP-SC",
            "location": "cyprus",
            "year": 2025,
            "day": "1A",
            "buy_in": "$5M GTD",
            "series_title": "$5M GTD WSOP Super Circuit Cyprus Main Event 2025",
        },
    ),
    (
        f"{ARCH}/WSOP Archive (1973-2002)/1995/WSOP - 1995 (3).mp4",
        {
            "sub_brand": "WSOP Archive",
            "year": 1995,
            "part": 3,
            "series_title": "WSOP 1995",
            "title": "WSOP - 1995 (Part 3)",
            "players": [],
        },
    ),
    (
        f"{ARCH}/WSOP Archive (1973-2002)/1973/WSOP - 1973 (1)-001.mp4",
        {"year": 1973, "part": 1, "duplicate": True, "series_title": "WSOP 1973"},
    ),
    (
        f"{ARCH}/WSOP Archive (2003-2010)/WSOP 2007/MXFs/WSOP 2007 Main Event Episode 3.mxf",
        {"year": 2007, "episode": 3, "series_title": "WSOP 2007"},
    ),
    (
        f"{ARCH}/WSOP Archive (2003-2010)/WSOP 2007/MOVs/WSOP 2007 Main Event Episode 3.mov",
        {"year": 2007, "episode": 3, "series_title": "WSOP 2007"},
    ),
    (
        f"{ARCH}/WSOP Archive (2003-2010)/WSOP 2008/Generic/WSOP 2008 Episode 1.mp4",
        {"year": 2008, "episode": 1, "series_title": "WSOP 2008"},
    ),
    (
        f"{ARCH}/WSOP Archive (2003-2010)/WSOP 2009/Masters/WSOP 2009 Ep. 12.mxf",
        {"year": 2009, "episode": 12, "series_title": "WSOP 2009"},
    ),
    (
        f"{ARCH}/WSOP Archive (2011-2016)/WSOP 2015/Main Event MOVs/WSOP 2015 Main Event Day 5.mov",
        {"year": 2015, "day": "5", "series_title": "WSOP 2015 Main Event"},
    ),
    (
        f"{ARCH}/WSOP Archive (2003-2010)/WSOP 2003 - 복사본/WSOP 2003 Main Event Episode 2.mp4",
        {"year": 2003, "episode": 2, "duplicate": True, "series_title": "WSOP 2003"},
    ),
    (
        unicodedata.normalize(
            "NFD", f"{ARCH}/WSOP Archive (2003-2010)/WSOP 2003 - 복사본/WSOP 2003 Episode 2.mp4"
        ),
        {"year": 2003, "episode": 2, "duplicate": True, "series_title": "WSOP 2003"},
    ),
    (
        "WSOP/WSOP 2025/WSOP 2025 Main Event _ Day 8 (Part 2).mp4",
        {
            "year": 2025,
            "day": "8",
            "part": 2,
            "title": "WSOP 2025 Main Event – Day 8 (Part 2)",
            "event_number": None,
        },
    ),
    (
        "WSOP/WSOP 2025/WSOP 2025 Bracelet Events _ Event #46.mp4",
        {"year": 2025, "event_number": 46, "title": "WSOP 2025 Bracelet Events – Event #46"},
    ),
    (
        "WSOP/WSOP 2024/WSOP 2024 Event #58 $50K PPC Day 3.mp4",
        {"year": 2024, "event_number": 58, "buy_in": "$50K", "day": "3"},
    ),
    (
        f"{ARCH}/WSOP Archive (1973-2002)/2001/WSOP 2001 Main Event - Daniel Negreanu.mp4",
        {"year": 2001, "players": ["Daniel Negreanu"], "event_name": "Main Event"},
    ),
    (
        "HCL/2025/20250611 - Nik Airball, Sashimi, Tom Dwan.mp4",
        {
            "catalog": "hcl",
            "year": 2025,
            "stream_date": "2025-06-11",
            "players": ["Nik Airball", "Sashimi", "Tom Dwan"],
            "series_title": "HCL 2025",
            "title": "2025-06-11 - Nik Airball, Sashimi, Tom Dwan",
            "versions": [],
        },
    ),
    (
        "HCL/2025/20250611 - Nik Airball, Sashimi, Tom Dwan Commentary.mp4",
        {"players": ["Nik Airball", "Sashimi", "Tom Dwan"], "versions": ["commentary"]},
    ),
    (
        "HCL/2024/20241203 - Garrett Adelstein, 김정수, Mariano, ....mp4",
        {"players": ["Garrett Adelstein", "김정수", "Mariano"], "year": 2024},
    ),
    (
        "HCL/HCL Poker Clip/Hand 12 - Tom Dwan vs Phil Ivey.mp4",
        {"catalog": "hcl", "kind": "clip", "players": ["Tom Dwan", "Phil Ivey"], "year": None},
    ),
    (
        "HCL/HCL Poker Clip/Hand 13 - AA vs KK.mp4",
        {"kind": "clip", "players": []},
    ),
    ("HCL/HCL S5/HCL S5 E12.mp4", {"season": 5, "episode": 12, "series_title": "HCL S5"}),
    ("HCL/HCL S5/HCL S5E13.mp4", {"season": 5, "episode": 13}),
    (
        "PAD/PAD S12/PAD S12 EP05.mp4",
        {"catalog": "pad", "season": 12, "episode": 5, "series_title": "PAD S12", "year": None},
    ),
    ("PAD/PAD S13/PAD S13 EP10.mov", {"season": 13, "episode": 10}),
    (
        "MPP/$1M GTD   $1K PokerOK Mystery Bounty/Day 1A.mp4",
        {
            "catalog": "mpp",
            "buy_in": "$1K",
            "guarantee": "$1M GTD",
            "day": "1A",
            "series_title": "$1M GTD $1K PokerOK Mystery Bounty",
        },
    ),
    ("GGMillions/GGMillions 2024 EP3.mp4", {"catalog": "ggmillions", "year": 2024, "episode": 3}),
    ("GOG/GOG S2/GOG S2 EP04.mp4", {"catalog": "gog", "season": 2, "episode": 4}),
    ("PokerGO/High Stakes Poker S10 E3.mp4", {"catalog": "pokergo", "season": 10, "episode": 3}),
    ("ARCHIVE/PAD/PAD S12/PAD S12 EP06.mp4", {"catalog": "pad", "episode": 6}),
    ("WSOP\\WSOP 2025\\WSOP 2025 Main Event _ Day 7.mp4", {"catalog": "wsop", "day": "7"}),
    ("wsop/wsop 2022/wsop 2022 main event day 2 part 3.mp4", {"day": "2", "part": 3}),
    ("WSOP/WSOP  2022/WSOP   2022 Main   Event Day 3 Pt. 2.mp4", {"year": 2022, "part": 2}),
    ("misc/whatever.mp4", {"catalog": None, "series_title": "misc", "title": "whatever"}),
    ("WSOP 2019 Main Event Day 1.mp4", {"catalog": "wsop", "year": 2019, "day": "1"}),
    ("WSOP/WSOP 2021/WSOP 2021 Main Event Day 1 Flight C.mp4", {"day": "1C", "year": 2021}),
    ("WSOP/WSOP 2021/WSOP 2021 Day 3 Final Table.mp4", {"day": "3"}),
    ("WSOP/WSOP 2021/WSOP 2021 메인 이벤트 2일차 2부.mp4", {"day": "2", "part": 2}),
    ("PAD/PAD 시즌 12/PAD 시즌 12 5회.mp4", {"season": 12, "episode": 5}),
    ("", {"catalog": None, "kind": None}),
    ("HCL/2025/20250611 - A B, C D.mp4.part", {"catalog": "hcl", "kind": None}),
    ("WSOP/WSOP 2025/Thumbs.db", {"catalog": "wsop", "kind": None}),
    ("WSOP/WSOP 2025/x.MXF", {"kind": "episode"}),
]


@pytest.mark.parametrize(("path", "expected"), CASES, ids=[c[0][-60:] for c in CASES])
def test_classify_table(path: str, expected: dict[str, Any]) -> None:
    got = as_json(classify(path))
    assert {k: got[k] for k in expected} == expected


def test_cli_contract_keys_are_present_and_null_when_missing() -> None:
    got = as_json(classify("PAD/PAD S12/PAD S12 EP05.mp4"))
    assert set(got) >= CLASSIFY_KEYS
    assert got["year"] is None and got["day"] is None and got["location"] is None


def test_nfc_nfd_and_spacing_give_the_same_series() -> None:
    a = classify(f"{ARCH}/WSOP Archive (2003-2010)/WSOP 2003 - 복사본/x.mp4")
    b = classify(unicodedata.normalize("NFD", a.path))
    c = classify(f"{ARCH}/WSOP Archive (2003-2010)/WSOP  2003/x.mp4")
    assert a.series == b.series == c.series


def test_series_id_is_stable_and_distinct() -> None:
    assert series_id("wsop", "wsop 2007") == series_id("wsop", "wsop 2007")
    assert series_id("wsop", "2024 wsop c la") != series_id("wsop", "2024 wsop-c la")
    assert series_id(None, "x").startswith("unsorted-")


def test_versions_of_one_day_get_distinct_titles() -> None:
    a = classify(f"{EU}/Day 1 A/2025 WSOP-EUROPE MAIN EVENT Day 1A.mp4")
    b = classify(
        f"{EU}/NO COMMENTARY WITH GRAPHICS VER/Day 1 A/2025 WSOP-EUROPE MAIN EVENT Day 1A.mp4"
    )
    c = classify(f"{EU}/Day 1 A/2025 WSOP-EUROPE MAIN EVENT Day 1A.mov")
    titles = unique_titles([a, b, c])
    assert len({t.casefold() for t in titles}) == 3
    assert titles[0].startswith("2025 WSOP-EUROPE MAIN EVENT Day 1A")
    assert "No Commentary" in titles[1]
    assert titles == unique_titles([a, b, c])  # deterministic
    assert unique_titles([c, b, a]) == list(reversed(titles))  # independent of order


def test_locked_titles_are_avoided() -> None:
    a = classify("PAD/PAD S12/PAD S12 EP05.mp4")
    assert unique_titles([a], taken={"x": "pad s12 ep05"}) != ["PAD S12 EP05"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(path: str) -> None:
    result = classify(path)
    assert isinstance(result.title, str)
    as_json(result)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30),
        min_size=1,
        max_size=6,
    )
)
def test_arbitrary_component_paths_never_crash(parts: list[str]) -> None:
    result = classify("/".join(["WSOP", *parts]) + ".mp4")
    assert result.catalog == "wsop"
    assert result.series


def test_generated_archive_accuracy() -> None:
    samples = [s for s in generate() if s.media]
    assert len(samples) >= 2000
    wrong = [(s.path, check(s, as_json(classify(s.path)))) for s in samples]
    wrong = [w for w in wrong if w[1]]
    assert len(wrong) / len(samples) <= 0.02, wrong[:10]


def test_titles_unique_within_series_over_generated_archive() -> None:
    results = [classify(s.path) for s in generate() if s.media]
    by_series: dict[str, list[Any]] = defaultdict(list)
    for result in results:
        by_series[result.series].append(result)
    for series, members in by_series.items():
        titles = unique_titles(members)
        assert len({t.casefold() for t in titles}) == len(titles), series
        for result, title in zip(members, titles, strict=True):
            # Part / Event # / Day survive into the title.
            if result.part is not None:
                assert str(result.part) in title
            if result.event_number is not None:
                assert f"#{result.event_number}" in title
            if result.day:
                assert result.day[0] in title


def test_series_survive_case_nfd_and_separator_changes() -> None:
    for sample in generate()[::7]:
        if not sample.media:
            continue
        base = classify(sample.path)
        for variant in (
            sample.path.upper(),
            sample.path.lower(),
            unicodedata.normalize("NFD", sample.path),
            sample.path.replace("/", "\\"),
        ):
            other = classify(variant)
            assert (other.catalog, other.series, other.year, other.day, other.part) == (
                base.catalog,
                base.series,
                base.year,
                base.day,
                base.part,
            ), variant


_WORDS = st.sampled_from(
    ["WSOP", "2024", "Day 1A", "Day 1 A", "(Part 2)", "Event #46", "CLEAN", "STREAM", "x", "복사본"]
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(_WORDS, min_size=1, max_size=3).map(" ".join),
            st.sampled_from(["mp4", "mov", "mxf"]),
            st.sampled_from(["", "CLEAN/", "STREAM/", "copy - 복사본/"]),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_unique_titles_property(names: list[tuple[str, str, str]]) -> None:
    paths = sorted({f"WSOP/WSOP 2024/{folder}{stem}.{ext}" for stem, ext, folder in names})
    items = [classify(p) for p in paths]
    by_series: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        by_series[item.series].append(item)
    for members in by_series.values():
        titles = unique_titles(members)
        assert len({t.casefold() for t in titles}) == len(titles)
        assert unique_titles(list(reversed(members))) == list(reversed(titles))
