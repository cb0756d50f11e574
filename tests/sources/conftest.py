"""Targets for the source contract suite: the same tree seen through each implementation."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive_analyzer.sources import Source
from archive_analyzer.sources.local import LocalSource
from archive_analyzer.sources.smb import SMBSource
from archive_analyzer.sources.url import SMBSpec, parse
from tests.fixtures.smb import SambaServer, SMBFolder

NOBODY = 65534


@dataclass
class Target:
    """A source under test and the folder on disk it shows."""

    kind: str
    root: Path
    source: Source
    server: SambaServer | None = None

    def write(self, rel: str, data: bytes = b"") -> Path:
        """Create a file (and its folders) below the root."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def mkdir(self, rel: str) -> Path:
        path = self.root / rel
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextlib.contextmanager
    def unprivileged(self) -> Iterator[None]:
        """Make permission bits count. smbd already serves as an unprivileged user; a local
        source read by root ignores them, so drop this thread's filesystem uid meanwhile."""
        if self.kind != "local" or os.geteuid() != 0:
            yield
            return
        libc = ctypes.CDLL(None, use_errno=True)
        libc.setfsgid(NOBODY)
        libc.setfsuid(NOBODY)
        try:
            yield
        finally:
            libc.setfsuid(0)
            libc.setfsgid(0)


@pytest.fixture(params=["local", "smb", "smb-compat"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Each source implementation over a fresh, empty folder ("smb-compat": SMB listing,
    stats and reads through smbprotocol, the path taken when the lean clients cannot serve
    the server)."""
    if request.param == "local":
        root = Path(tempfile.mkdtemp(prefix="archive-local-"))
        root.chmod(0o755)  # readable by the unprivileged fs uid used in permission tests
        try:
            yield Target("local", root, LocalSource(root))
        finally:
            for folder, subdirs, _ in os.walk(root):
                for sub in subdirs:
                    os.chmod(os.path.join(folder, sub), 0o755)
            shutil.rmtree(root, ignore_errors=True)
        return
    folder: SMBFolder = request.getfixturevalue("smb_folder")
    spec = parse(folder.url)
    assert isinstance(spec, SMBSpec)
    lean = request.param == "smb"
    source = SMBSource(spec, folder.options(), fast_listing=lean, lean=lean)
    try:
        yield Target("smb", folder.root, source, folder.server)
        # every path closed its handles (before the connection goes, which would close them)
        folder.server.wait_no_open_files()
    finally:
        source.close()
