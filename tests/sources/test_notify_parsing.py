"""Turning what a watch reports into catalog changes (pure): SMB FILE_NOTIFY_INFORMATION
buffers and watchdog events."""

from __future__ import annotations

import struct
import unicodedata

from watchdog.events import (
    DirDeletedEvent,
    DirModifiedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
)

from archive_analyzer.sources import local_watch, smb_notify
from archive_analyzer.sources.changes import Change, ChangeKind


def notify_buffer(*entries: tuple[int, str]) -> bytes:
    """FILE_NOTIFY_INFORMATION entries chained as a server sends them (4-byte aligned)."""
    parts = []
    for index, (action, name) in enumerate(entries):
        encoded = name.encode("utf-16-le")
        body = struct.pack("<III", 0, action, len(encoded)) + encoded
        body += b"\0" * (-len(body) % 4)
        following = len(body) if index < len(entries) - 1 else 0
        parts.append(struct.pack("<I", following) + body[4:])
    return b"".join(parts)


def test_smb_notify_buffers_become_catalog_changes() -> None:
    nfd = unicodedata.normalize("NFD", "예선")
    buffer = notify_buffer(
        (1, "WSOP\\2025\\Day 1.mp4"),
        (4, "WSOP\\2025\\Day 1.mp4"),
        (5, "WSOP\\2025\\Day 1 final.mp4"),
        (3, f"{nfd}.mp4"),
        (2, "@eaDir\\thumb.jpg"),
        (9, "gone.mxf"),
        (42, "unknown action.mp4"),
    )
    actions = smb_notify.parse_notify(buffer)
    assert actions[0] == (1, "WSOP\\2025\\Day 1.mp4") and len(actions) == 7
    assert smb_notify.to_changes(actions) == [
        Change(ChangeKind.ADDED, "WSOP/2025/Day 1.mp4"),
        Change(ChangeKind.RENAMED_FROM, "WSOP/2025/Day 1.mp4"),
        Change(ChangeKind.RENAMED_TO, "WSOP/2025/Day 1 final.mp4"),
        Change(ChangeKind.MODIFIED, "예선.mp4"),
        Change(ChangeKind.REMOVED, "gone.mxf"),
    ]
    assert smb_notify.parse_notify(b"") == []
    assert smb_notify.to_changes([(1, "..\\outside.mp4")]) == []


def test_watchdog_events_become_catalog_changes() -> None:
    root = "/srv/archive"
    convert = local_watch.to_changes
    assert convert(root, FileCreatedEvent(f"{root}/a/b.mp4")) == [
        Change(ChangeKind.ADDED, "a/b.mp4", False)
    ]
    assert convert(root, FileModifiedEvent(f"{root}/b.mp4")) == [
        Change(ChangeKind.MODIFIED, "b.mp4", False)
    ]
    assert convert(root, FileClosedEvent(f"{root}/b.mp4")) == [
        Change(ChangeKind.CLOSED, "b.mp4", False)
    ]
    assert convert(root, FileMovedEvent(f"{root}/x.mp4", f"{root}/y/x.mp4")) == [
        Change(ChangeKind.RENAMED_FROM, "x.mp4", False),
        Change(ChangeKind.RENAMED_TO, "y/x.mp4", False),
    ]
    # moved out of the tree: only the old name; a folder's own mtime and the root: nothing
    assert convert(root, FileMovedEvent(f"{root}/x.mp4", "/tmp/x.mp4")) == [
        Change(ChangeKind.RENAMED_FROM, "x.mp4", False)
    ]
    assert convert(root, DirModifiedEvent(f"{root}/a")) == []
    assert convert(root, DirDeletedEvent(root)) == []
    assert convert(root, FileCreatedEvent(f"{root}/#recycle/old.mp4")) == []
