from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_analyzer import paths


def test_normalize_windows_and_nfd() -> None:
    nfd = unicodedata.normalize("NFD", "WSOP\\WSOP 2003 - 복사본\\a.mp4")
    assert paths.normalize(nfd) == "WSOP/WSOP 2003 - 복사본/a.mp4"
    assert paths.normalize("/a//b/./c/") == "a/b/c"


def test_normalize_refuses_escape() -> None:
    with pytest.raises(ValueError):
        paths.normalize("a/../../etc/passwd")


@pytest.mark.parametrize(
    ("name", "skipped"),
    [
        ("@eaDir", True),
        ("#recycle", True),
        ("#snapshot", True),
        ("._x.mp4", True),
        ("Thumbs.db", True),
        (".DS_Store", True),
        ("Day 1 A", False),
        ("a.mp4", False),
    ],
)
def test_housekeeping(name: str, skipped: bool) -> None:
    assert paths.is_housekeeping(name) is skipped


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    try:
        once = paths.normalize(text)
    except ValueError:
        return
    assert paths.normalize(once) == once
