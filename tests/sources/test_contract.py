"""The source contract, run against every implementation (local folder and real smbd)."""

from __future__ import annotations

import io
import logging
import os
import unicodedata
from concurrent.futures import ThreadPoolExecutor

import pytest

from archive_analyzer import paths
from archive_analyzer.errors import FileVanished, NotADirectory, PermissionDenied
from tests.sources.conftest import Target

KOREAN = "WSOP 2003 - 복사본"


def listed(target: Target, path: str = "", recursive: bool = True) -> list[str]:
    return [info.path for info in target.source.list_directory(path, recursive=recursive)]


def test_listing_order_and_fields(target: Target) -> None:
    target.write("b/x.mp4", b"12345")
    target.write("a b/y.mov", b"1")
    target.write("a/z.mxf", b"")
    target.write("a-/q", b"22")
    target.write("Z.mp4", b"333")
    target.write("a/deeper/more/f.mp4", b"4444")
    target.mkdir("a/empty")

    infos = list(target.source.list_directory("", recursive=True))
    got = [info.path for info in infos]
    assert got == sorted(got, key=paths.sort_key)
    assert got == [
        "Z.mp4",
        "a",
        "a/deeper",
        "a/deeper/more",
        "a/deeper/more/f.mp4",
        "a/empty",
        "a/z.mxf",
        "a b",
        "a b/y.mov",
        "a-",
        "a-/q",
        "b",
        "b/x.mp4",
    ]
    by_path = {info.path: info for info in infos}
    assert by_path["b/x.mp4"].size == 5
    assert by_path["a/deeper/more/f.mp4"].size == 4
    assert by_path["a"].is_dir and not by_path["Z.mp4"].is_dir
    assert all(info.file_id for info in infos)
    assert len({info.file_id for info in infos}) == len(infos)
    disk_mtime = os.stat(target.root / "b/x.mp4").st_mtime
    assert abs(by_path["b/x.mp4"].mtime - disk_mtime) < 0.01

    assert listed(target, "a", recursive=False) == ["a/deeper", "a/empty", "a/z.mxf"]
    assert listed(target, "", recursive=False) == ["Z.mp4", "a", "a b", "a-", "b"]
    stat = target.source.stat("b/x.mp4")
    assert stat == by_path["b/x.mp4"]
    assert target.source.stat("a").is_dir


def test_nfd_names_are_listed_as_nfc_and_readable(target: Target) -> None:
    nfd_folder = unicodedata.normalize("NFD", KOREAN)
    nfd_file = unicodedata.normalize("NFD", "한글 파일.mp4")
    target.write(f"{nfd_folder}/{nfd_file}", b"korean bytes")
    target.write("NFC 복사본/a.mp4", b"x")

    got = listed(target)
    nfc_path = f"{KOREAN}/한글 파일.mp4"
    assert got == sorted([KOREAN, nfc_path, "NFC 복사본", "NFC 복사본/a.mp4"], key=paths.sort_key)
    assert all(unicodedata.is_normalized("NFC", p) for p in got)
    assert target.source.stat(nfc_path).size == len(b"korean bytes")
    assert target.source.read_partial(nfc_path, 0, 6) == b"korean"
    with target.source.open(nfc_path) as handle:
        assert handle.read() == b"korean bytes"
    assert listed(target, KOREAN) == [nfc_path]


def test_nfd_path_resolved_without_a_prior_listing(target: Target) -> None:
    nfd = unicodedata.normalize("NFD", "복사본/파일.mp4")
    target.write(nfd, b"data")
    assert target.source.read_partial("복사본/파일.mp4", 1, 2) == b"at"


def test_spaces_dollar_hash_and_long_paths(target: Target) -> None:
    names = [
        "MPP/$1M GTD   $1K PokerOK Mystery Bounty/Event #46.mp4",
        "WSOP/WSOP-SC/$5M GTD   WSOP Super Circuit/Day 1 A.mp4",
        "  leading spaces/x  y.mp4",
    ]
    long_parts = [("긴 폴더 이름 " * 8).strip() + f" {i}" for i in range(6)]
    long_path = "/".join([*long_parts, "파일 " * 30 + ".mp4"])
    assert len(long_path) > 300
    for name in [*names, long_path]:
        target.write(name, name.encode())
    got = set(listed(target))
    for name in [*names, long_path]:
        assert name in got
        assert target.source.read_partial(name, 0, 5) == name.encode()[:5]


def test_empty_folders(target: Target) -> None:
    target.mkdir("empty")
    target.mkdir("outer/inner empty")
    assert listed(target) == ["empty", "outer", "outer/inner empty"]
    assert listed(target, "empty") == []
    assert list(target.source.list_directory("outer/inner empty", recursive=True)) == []


def test_permission_denied_folder_is_logged_and_skipped(
    target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    target.write("a/1.mp4")
    target.write("b locked/secret.mp4")
    target.write("c/3.mp4")
    (target.root / "b locked").chmod(0)
    caplog.set_level(logging.WARNING)
    with target.unprivileged():
        got = listed(target)
        with pytest.raises(PermissionDenied):
            list(target.source.list_directory("b locked"))
    assert "b locked/secret.mp4" not in got
    assert got == ["a", "a/1.mp4", "b locked", "c", "c/3.mp4"]
    assert any("b locked" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


def test_zero_byte_files(target: Target) -> None:
    target.write("zero.mp4", b"")
    (info,) = target.source.list_directory("")
    assert info.size == 0 and not info.is_dir
    assert target.source.read_partial("zero.mp4", 0, 100) == b""
    assert target.source.read_partial("zero.mp4", 50, 100) == b""
    with target.source.open("zero.mp4") as handle:
        assert handle.read() == b""


def test_housekeeping_entries_are_skipped(target: Target) -> None:
    for name in [
        "@eaDir/x.mp4@SynoEAStream",
        "#recycle/old.mp4",
        "#snapshot/snap.mp4",
        "show/._show.mp4",
        "show/.DS_Store",
        "show/Thumbs.db",
        "show/@eaDir/thumb.jpg",
        "show/real.mp4",
    ]:
        target.write(name, b"x")
    assert listed(target) == ["show", "show/real.mp4"]


def test_read_partial_open_and_seek(target: Target) -> None:
    data = bytes(range(256)) * 1024  # 256 KiB
    target.write("media/clip.mp4", data)
    source = target.source
    assert source.read_partial("media/clip.mp4", 1000, 50) == data[1000:1050]
    assert source.read_partial("media/clip.mp4", len(data) - 10, 100) == data[-10:]
    assert source.read_partial("media/clip.mp4", len(data) + 10, 100) == b""
    assert source.read_partial("media/clip.mp4", 0, len(data)) == data
    with source.open("media/clip.mp4") as handle:
        assert handle.seekable() and handle.readable()
        assert handle.read(4) == data[:4]
        handle.seek(-10, io.SEEK_END)
        assert handle.read() == data[-10:]
        handle.seek(5000)
        assert handle.tell() == 5000
        assert handle.read(100) == data[5000:5100]
        handle.seek(-100, io.SEEK_CUR)
        assert handle.read(3) == data[5000:5003]
        handle.seek(0)
        assert handle.read() == data


def test_large_reads_span_several_round_trips(target: Target) -> None:
    data = os.urandom(19 * 1024 * 1024 + 123)  # more than two SMB read windows
    target.write("big.mxf", data)
    assert target.source.read_partial("big.mxf", 5, len(data)) == data[5:]
    assert (
        target.source.read_partial("big.mxf", 10_000_000, 9_000_000) == data[10_000_000:19_000_000]
    )


def test_missing_and_vanished_files(target: Target) -> None:
    target.write("x/gone.mp4", b"soon gone")
    target.write("x/file.mp4", b"a file")
    (info, _) = target.source.list_directory("x")
    assert info.path == "x/file.mp4"
    (target.root / "x/gone.mp4").unlink()
    with pytest.raises(FileVanished):
        target.source.read_partial("x/gone.mp4", 0, 4)
    with pytest.raises(FileVanished):
        target.source.open("x/gone.mp4")
    with pytest.raises(FileVanished):
        target.source.stat("x/gone.mp4")
    with pytest.raises(FileVanished):
        list(target.source.list_directory("nope"))
    with pytest.raises(NotADirectory):
        list(target.source.list_directory("x/file.mp4"))


def test_file_vanishing_while_open(target: Target) -> None:
    target.write("v.mp4", b"0123456789" * 100_000)  # larger than the SMB reader's buffer
    handle = target.source.open("v.mp4")
    try:
        assert handle.read(5) == b"01234"
        if target.kind == "local":
            pytest.skip("a local open file object keeps a deleted file readable (POSIX)")
        (target.root / "v.mp4").unlink()
        handle.seek(700_000)
        with pytest.raises(FileVanished):
            handle.read(5)
    finally:
        handle.close()


def test_concurrent_reads_share_one_source(target: Target) -> None:
    blobs = {f"c/{i}.mp4": bytes([i]) * (1000 + i) for i in range(8)}
    for name, data in blobs.items():
        target.write(name, data)
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = dict(
            zip(
                blobs,
                pool.map(lambda n: target.source.read_partial(n, 0, 5000), blobs),
                strict=True,
            )
        )
    assert got == blobs


def test_local_path_is_the_file_on_this_machine_or_none(target: Target) -> None:
    """Tools that read by path (ffmpeg) get one only where the file is on this machine."""
    nfd = unicodedata.normalize("NFD", "한글/파일.mp4")
    disk = target.write(nfd, b"data")
    target.mkdir("folder")
    for rel in (f"{KOREAN}/x.mp4", "folder", "missing.mp4"):
        assert target.source.local_path(rel) is None
    found = target.source.local_path("한글/파일.mp4")
    if target.kind == "local":
        assert found is not None and found.samefile(disk)
    else:
        assert found is None  # a share's files are read through the source only
