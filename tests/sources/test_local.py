"""Local-source specifics beyond the contract: root checks, messages, non-regular files."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from archive_analyzer.errors import FileVanished, SourceError, SourceUnavailable
from archive_analyzer.sources.local import LocalSource


def test_a_root_that_is_a_file_is_not_a_folder(tmp_path: Path) -> None:
    file = tmp_path / "hostname"
    file.write_text("x")
    with pytest.raises(SourceUnavailable, match=f"^not a folder: {file}$"):
        LocalSource(file).connect()
    with pytest.raises(SourceUnavailable, match="source folder not found"):
        LocalSource(tmp_path / "missing").connect()


def test_errors_about_the_root_name_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    root.mkdir()
    source = LocalSource(root)
    shutil.rmtree(root)
    with pytest.raises(FileVanished) as failure:
        list(source.list_directory(""))
    assert str(failure.value) == f"no longer exists: {root}"


def test_fifos_and_devices_are_not_listed_and_never_block(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a.mp4").write_bytes(b"data")
    os.mkfifo(tmp_path / "p.mp4")
    (tmp_path / "z.mp4").symlink_to("/dev/zero")
    (tmp_path / "sub").mkdir()
    os.mkfifo(tmp_path / "sub" / "q.mkv")
    source = LocalSource(tmp_path)
    with caplog.at_level(logging.DEBUG, logger="archive_analyzer.sources.local"):
        listed = [info.path for info in source.list_directory("", recursive=True)]
    assert listed == ["a.mp4", "sub"]
    assert "not a regular file" in caplog.text
    # no writer ever opens the FIFO: a blocking open would hang here (pytest-timeout)
    for name in ("p.mp4", "z.mp4", "sub/q.mkv"):
        with pytest.raises(SourceError, match=f"not a regular file: {name}"):
            source.open(name)
        with pytest.raises(SourceError, match="not a regular file"):
            source.read_partial(name, 0, 16)
    assert source.read_partial("a.mp4", 1, 2) == b"at"
