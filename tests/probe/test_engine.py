"""The probe engine on the whole corpus, through a local folder and through real Samba."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive_analyzer.probe.engine import DEFAULT_BUDGET, ProbeOptions, probe_file, probe_many
from archive_analyzer.probe.result import ProbeStatus
from archive_analyzer.sources import open_source
from archive_analyzer.sources.base import Source
from tests.fixtures.corpus import ITEMS, corpus_dir
from tests.probe.truth import mismatches

NAMES = [item.name for item in ITEMS]
BUDGET = DEFAULT_BUDGET
SMART = ProbeOptions(budget=BUDGET, timeout_s=60)


@pytest.fixture(scope="module")
def local_source(corpus: dict[str, Path]) -> Iterator[Source]:
    source = open_source(str(corpus_dir() / "media"))
    source.connect()
    yield source
    source.close()


@pytest.mark.parametrize("name", NAMES)
def test_smart_local(name: str, corpus: dict[str, Path], local_source: Source) -> None:
    result = probe_file(local_source, corpus[name].name, SMART)
    assert mismatches(name, result, corpus) == [], result
    assert result.bytes_read <= BUDGET
    assert result.strategy == "smart"
    assert result.size == corpus[name].stat().st_size


def test_smart_reads_little(corpus: dict[str, Path], local_source: Source) -> None:
    """The long files need only their headers: the 2-hour moov-at-end and fragmented ones."""
    for name in ("mp4_2h_moov_end", "mp4_frag_2h", "mp4_frag_31min"):
        result = probe_file(local_source, corpus[name].name, SMART)
        assert result.bytes_read <= 4 * 1024 * 1024, (name, result.bytes_read)
        assert result.bytes_read < corpus[name].stat().st_size / 10


@pytest.fixture(scope="module")
def smb_corpus(smb_server: object, corpus: dict[str, Path]) -> Iterator[tuple[Source, str]]:
    """The corpus on the Samba share (hard links where possible), and a connected source."""
    folder = smb_server.new_folder("corpus")  # type: ignore[attr-defined]
    for path in corpus.values():
        target = folder.root / path.name
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
        target.chmod(0o644)
    source = open_source(folder.url, folder.options())
    source.connect()
    yield source, folder.url
    source.close()


@pytest.mark.smb
def test_smart_over_smb(corpus: dict[str, Path], smb_corpus: tuple[Source, str]) -> None:
    source, _ = smb_corpus
    paths = [(corpus[name].name, corpus[name].stat().st_size) for name in NAMES]
    results = list(probe_many(source, paths, SMART))
    assert [r.path for r in results] == [p for p, _ in paths]
    wrong = {
        name: problems
        for name, result in zip(NAMES, results, strict=True)
        if (problems := mismatches(name, result, corpus))
    }
    assert wrong == {}
    assert all(r.bytes_read <= BUDGET for r in results)


@pytest.mark.smb
def test_vanished_file_over_smb_is_an_error_result(smb_corpus: tuple[Source, str]) -> None:
    source, _ = smb_corpus
    result = probe_file(source, "no-such-file.mp4", SMART)
    assert result.status is ProbeStatus.ERROR
    assert result.error


def test_full_matches_truth(corpus: dict[str, Path], local_source: Source) -> None:
    for name in ("mp4_moov_end", "ts_2audio", "mkv"):
        full = ProbeOptions(strategy="full", budget=BUDGET, timeout_s=60)
        result = probe_file(local_source, corpus[name].name, full, local_path=corpus[name])
        assert mismatches(name, result, corpus) == [], result


def test_ladder_is_the_seed_baseline(corpus: dict[str, Path], local_source: Source) -> None:
    """The ladder answers a faststart MP4 from the first 512 KB, but gets a fragmented MP4's
    duration wrong (first fragment only) - the failure the smart strategy fixes."""
    ladder = ProbeOptions(strategy="ladder", budget=BUDGET, timeout_s=60)
    fast = probe_file(local_source, corpus["mp4_faststart"].name, ladder)
    assert mismatches("mp4_faststart", fast, corpus) == []
    frag = probe_file(local_source, corpus["mp4_frag_31min"].name, ladder)
    assert frag.duration_s is not None and frag.duration_s < 60


def test_timeout_is_a_result(corpus: dict[str, Path], local_source: Source) -> None:
    result = probe_file(local_source, corpus["mkv"].name, ProbeOptions(timeout_s=-1))
    assert result.status is ProbeStatus.ERROR
    assert "time" in (result.error or "")


def test_tiny_budget_is_a_result(corpus: dict[str, Path], local_source: Source) -> None:
    result = probe_file(local_source, corpus["mp4_2h_moov_end"].name, ProbeOptions(budget=1000))
    assert result.status is ProbeStatus.UNSUPPORTED
    assert result.bytes_read <= 1000


def test_probe_many_keeps_order_and_bounds(corpus: dict[str, Path], local_source: Source) -> None:
    names = [corpus[n].name for n in NAMES] * 3
    results = list(probe_many(local_source, iter(names), ProbeOptions(concurrency=3)))
    assert [r.path for r in results] == names


@pytest.mark.smb
def test_scan_over_smb_fills_media_info(
    corpus: dict[str, Path], smb_corpus: tuple[Source, str], smb_server: Any, tmp_path: Path
) -> None:
    """The prober wired into the scanner: a scan of the corpus share fills media_info."""
    from archive_analyzer import pipeline
    from archive_analyzer.catalog import db
    from tests.fixtures.smb import smb_settings

    _, url = smb_corpus
    cfg = smb_settings(smb_server, source=url, db=tmp_path / "archive.db")
    summary = pipeline.scan(cfg)
    assert summary.probe_failed == 0
    conn = db.connect(tmp_path / "archive.db")
    try:
        rows = {
            row["name"]: dict(row)
            for row in conn.execute(
                "SELECT f.name, f.probe_state, m.* FROM files f JOIN media_info m ON m.id = f.id"
            )
        }
    finally:
        conn.close()
    assert set(rows) == {p.name for p in corpus.values()}
    assert rows["mp4_2h_moov_end.mp4"]["status"] == "ok"
    assert rows["mp4_2h_moov_end.mp4"]["browser_playable"] == 1
    assert rows["mov_prores.mov"]["browser_playable"] == 0
    assert rows["mkv_live.mkv"]["status"] == "incomplete"
    assert rows["empty.mp4"]["status"] == "invalid"
    assert all(r["probe_state"] == "done" for r in rows.values())


_MAGICS = [
    b"",
    b"\x1a\x45\xdf\xa3",
    b"\x00\x00\x00\x18ftypisom",
    b"\x47",
    b"RIFF\x00\x00\x00\x00AVI ",
]


@settings(max_examples=40, deadline=None, database=None)
@given(magic=st.sampled_from(_MAGICS), tail=st.binary(max_size=3000))
def test_smart_never_raises_on_garbage(magic: bytes, tail: bytes) -> None:
    """Whatever the bytes, probe_file returns a result (libavformat fallback included)."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "x.mp4").write_bytes(magic + tail)
        source = open_source(folder)
        result = probe_file(source, "x.mp4", ProbeOptions(budget=64 * 1024))
    assert result.status in set(ProbeStatus)
    assert result.bytes_read <= 64 * 1024
