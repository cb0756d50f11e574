"""Pure parts of SMB listing: buffer parsing and the ordered pipelined walk (fake fetcher)."""

from __future__ import annotations

import struct
import unicodedata
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive_analyzer import paths
from archive_analyzer.errors import PermissionDenied
from archive_analyzer.sources.smb_dir import (
    RawEntry,
    filetime_to_posix,
    parse_id_full_directory,
    walk,
)


def entry_bytes(
    name: str, *, size: int, mtime_ft: int, file_id: int, attrs: int, last: bool
) -> bytes:
    encoded = name.encode("utf-16-le")
    length = 80 + len(encoded)
    padded = length + (-length % 8)
    fixed = struct.pack(
        "<IIQQQQQQIIIIQ",
        0 if last else padded,
        0,
        1,
        2,
        mtime_ft,
        3,
        size,
        4096,
        attrs,
        len(encoded),
        0,
        0,
        file_id,
    )
    data = fixed + encoded
    return data if last else data + b"\x00" * (padded - length)


def test_parse_id_full_directory() -> None:
    mtime = 133_000_000_000_000_000
    buf = (
        entry_bytes(".", size=0, mtime_ft=mtime, file_id=1, attrs=0x10, last=False)
        + entry_bytes("..", size=0, mtime_ft=mtime, file_id=2, attrs=0x10, last=False)
        + entry_bytes("복사본", size=0, mtime_ft=mtime, file_id=77, attrs=0x10, last=False)
        + entry_bytes("a b.mp4", size=12345, mtime_ft=mtime, file_id=78, attrs=0x20, last=True)
    )
    got = parse_id_full_directory(buf)
    when = filetime_to_posix(mtime)
    assert got == [
        RawEntry("복사본", 0, when, "77", True),
        RawEntry("a b.mp4", 12345, when, "78", False),
    ]
    assert filetime_to_posix(116444736000000000) == 0.0


Tree = dict[str, "Tree | None"]  # name -> subtree (folder) or None (file)


class FakeFetcher:
    """Answers folder queries from a dict tree, out of order, counting what is in flight."""

    def __init__(self, tree: Tree, denied: set[str]) -> None:
        self.tree = tree
        self.denied = denied
        self.unanswered: deque[object] = deque()
        self.max_seen = 0

    def submit(self, wire_path: str) -> object:
        ticket = [wire_path]
        self.unanswered.append(ticket)
        self.max_seen = max(self.max_seen, len(self.unanswered))
        return ticket

    def in_flight(self) -> int:
        if self.unanswered:  # the "server" answers the oldest query between calls
            self.unanswered.popleft()
        return len(self.unanswered)

    def result(self, ticket: object) -> list[RawEntry]:
        if ticket in self.unanswered:
            self.unanswered.remove(ticket)
        wire = ticket[0]  # type: ignore[index]
        if wire in self.denied:
            raise PermissionDenied(wire)
        node: Tree = self.tree
        for part in wire.split("\\") if wire else []:
            child = node[part]
            assert child is not None
            node = child
        return [  # unique file ids, like a server's
            RawEntry(name, 1, 0.0, f"{wire}/{name}", sub is not None) for name, sub in node.items()
        ]


names = st.sampled_from(
    [
        "a",
        "b",
        "a b",
        "a-",
        "Z",
        "é",
        unicodedata.normalize("NFD", "é") + "x",
        "복사본",
        "@eaDir",
        "._x",
        "#recycle",
        "x y z",
    ]
)
trees: st.SearchStrategy[Tree] = st.recursive(
    st.dictionaries(names, st.none(), max_size=4),
    lambda children: st.dictionaries(names, st.one_of(st.none(), children), max_size=4),
    max_leaves=30,
)


def expected_paths(tree: Tree, prefix: str = "") -> list[str]:
    out = []
    for name, sub in tree.items():
        nfc = unicodedata.normalize("NFC", name)
        if paths.is_housekeeping(nfc):
            continue
        rel = paths.join(prefix, nfc)
        out.append(rel)
        if sub is not None:
            out.extend(expected_paths(sub, rel))
    return out


@settings(max_examples=100, deadline=None)
@given(tree=trees, in_flight=st.integers(min_value=1, max_value=6))
def test_walk_yields_every_entry_in_traversal_order(tree: Tree, in_flight: int) -> None:
    fetcher = FakeFetcher(tree, denied=set())
    got = [i.path for i in walk(fetcher, "", "", recursive=True, in_flight=in_flight)]
    want = sorted(set(expected_paths(tree)), key=paths.sort_key)
    assert got == want
    assert fetcher.max_seen <= in_flight + 1


def test_denied_subfolder_is_skipped_but_the_start_folder_raises() -> None:
    tree: Tree = {"a": {"x": None}, "b": {"y": None}, "c": {"z": None}}
    fetcher = FakeFetcher(tree, denied={"b"})
    got = [i.path for i in walk(fetcher, "", "", recursive=True)]
    assert got == ["a", "a/x", "b", "c", "c/z"]
    with pytest.raises(PermissionDenied):
        list(walk(fetcher, "b", "b", recursive=True))
