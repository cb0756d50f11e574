"""The ``FileReader`` contract (``Source.open_reader``), run against every source.

SMB targets check the path before every read (``smb_recheck_s = 0`` in the test settings),
so version changes are seen at the next read; by default they are seen within 2 s.
"""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata

import pytest

from archive_analyzer.errors import FileChanged, FileVanished, SourceError
from archive_analyzer.sources.base import CHUNK, FileInfo
from tests.sources.conftest import Target

MIB = 1024 * 1024


def test_whole_file_in_chunks_and_random_reads(target: Target) -> None:
    data = os.urandom(5 * MIB + 12345)
    target.write("show/master.mxf", data)
    with target.source.open_reader("show/master.mxf") as reader:
        info = reader.info
        assert (info.size, info.is_dir) == (len(data), False)
        assert info == target.source.stat("show/master.mxf")  # same size, mtime and id
        chunks = list(reader.chunks())
        assert all(0 < len(c) <= CHUNK for c in chunks)
        assert b"".join(chunks) == data
        assert reader.read_at(0, 10) == data[:10]
        assert reader.read_at(3 * MIB - 7, 2 * MIB) == data[3 * MIB - 7 : 5 * MIB - 7]
        assert reader.read_at(len(data) - 5, 100) == data[-5:]
        assert reader.read_at(len(data) + 5, 100) == b""
        part = b"".join(reader.chunks(MIB + 1, 2 * MIB + 3, chunk=256 * 1024))
        assert part == data[MIB + 1 : 3 * MIB + 4]
        tail = b"".join(reader.chunks(len(data) - 100))
        assert tail == data[-100:]
        assert reader.stats.bytes_read >= len(data)


def test_hashing_a_file_is_a_loop_over_chunks(target: Target) -> None:
    """The fixity use: read the whole file once, in order, and hash it."""
    data = os.urandom(3 * MIB + 1)
    target.write("a.mov", data)
    digest = hashlib.sha256()
    info = target.source.stat("a.mov")
    with target.source.open_reader("a.mov", expect=info) as reader:
        for chunk in reader.chunks():
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_memory_is_bounded_by_the_window(target: Target) -> None:
    target.write("big.ts", os.urandom(24 * MIB))
    with target.source.open_reader("big.ts") as reader:
        total = sum(len(c) for c in reader.chunks())
        assert total == 24 * MIB
        # (window + the chunk handed out) x chunk, window 8 by default
        assert 0 < reader.stats.peak_buffered <= 9 * CHUNK


def test_closing_a_stream_early_wastes_at_most_the_window(target: Target) -> None:
    target.write("long.mp4", os.urandom(20 * MIB))
    with target.source.open_reader("long.mp4") as reader:
        chunks = reader.chunks()
        next(chunks)
        next(chunks)
        chunks.close()  # type: ignore[attr-defined]  # a generator
        assert reader.stats.wasted <= 8 * CHUNK
        assert reader.read_at(0, 4) != b""  # the reader is still usable after a stream


def test_zero_byte_file(target: Target) -> None:
    target.write("empty.mp4")
    with target.source.open_reader("empty.mp4") as reader:
        assert reader.info.size == 0
        assert list(reader.chunks()) == []
        assert reader.read_at(0, 10) == b""


def test_missing_file_and_folder(target: Target) -> None:
    target.mkdir("folder")
    with pytest.raises(FileVanished):
        reader = target.source.open_reader("nope.mp4")
        try:
            reader.info  # noqa: B018  # opening may be deferred to the first use
        finally:
            reader.close()
    with pytest.raises(SourceError):
        reader = target.source.open_reader("folder")
        try:
            assert reader.info.is_dir
            reader.read_at(0, 1)
        finally:
            reader.close()


def test_nfd_name_opened_by_its_nfc_path(target: Target, caplog: pytest.LogCaptureFixture) -> None:
    target.write(unicodedata.normalize("NFD", "복사본/파일.mp4"), b"korean bytes")
    caplog.set_level(logging.WARNING)
    with target.source.open_reader("복사본/파일.mp4") as reader:
        assert reader.read_at(0, 6) == b"korean"
    with target.source.open_reader("복사본/파일.mp4") as reader:
        assert b"".join(reader.chunks()) == b"korean bytes"
    assert "retry" not in caplog.text  # found by name at once, no reconnect or back-off


def test_expected_version(target: Target) -> None:
    target.write("v.mp4", b"version one")
    info = target.source.stat("v.mp4")
    with target.source.open_reader("v.mp4", expect=info) as reader:
        assert reader.read_at(0, 7) == b"version"
    other = FileInfo(info.path, info.size + 1, info.mtime, info.file_id, False)
    with pytest.raises(FileChanged):
        reader = target.source.open_reader("v.mp4", expect=other)
        try:
            reader.read_at(0, 7)
        finally:
            reader.close()


def test_file_vanishing_while_read(target: Target) -> None:
    # bigger than the read-ahead window, so reads are sent after the file is gone
    target.write("v.mp4", os.urandom(16 * MIB))
    with target.source.open_reader("v.mp4") as reader:
        chunks = reader.chunks()
        next(chunks)
        (target.root / "v.mp4").unlink()
        with pytest.raises(FileVanished):
            for _ in chunks:
                pass
        with pytest.raises(FileVanished):  # and it stays so
            reader.read_at(0, 1)


def test_file_vanishing_between_random_reads(target: Target) -> None:
    target.write("v.mp4", os.urandom(MIB))
    with target.source.open_reader("v.mp4") as reader:
        assert len(reader.read_at(0, 100)) == 100
        (target.root / "v.mp4").unlink()
        with pytest.raises(FileVanished):
            reader.read_at(500_000, 100)


def test_file_replaced_while_read(target: Target) -> None:
    target.write("r.mp4", b"a" * (16 * MIB))
    with target.source.open_reader("r.mp4") as reader:
        chunks = reader.chunks()
        assert bytes(next(chunks))[:1] == b"a"
        target.write("r.new", b"b" * (16 * MIB + 1))
        os.replace(target.root / "r.new", target.root / "r.mp4")  # how uploads replace files
        with pytest.raises(FileChanged):
            for chunk in chunks:
                assert bytes(chunk[:1]) == b"a"  # never the new version's bytes


def test_file_rewritten_in_place_while_read(target: Target) -> None:
    target.write("w.mp4", b"a" * (3 * MIB))
    with target.source.open_reader("w.mp4") as reader:
        assert reader.read_at(0, 1) == b"a"
        with open(target.root / "w.mp4", "ab") as handle:
            handle.write(b"more")
        with pytest.raises(FileChanged):
            reader.read_at(MIB, 10)
