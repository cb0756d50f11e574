"""SMB2/3 share as a source (placeholder until the smbprotocol implementation lands)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from archive_analyzer.errors import SourceUnavailable
from archive_analyzer.sources.base import FileInfo
from archive_analyzer.sources.url import SMBSpec

if TYPE_CHECKING:
    from archive_analyzer.config import Settings


class SMBSource:
    """Placeholder: every operation raises ``SourceUnavailable``."""

    def __init__(self, spec: SMBSpec, settings: Settings) -> None:
        self._spec = spec

    @property
    def name(self) -> str:
        return self._spec.display

    def connect(self) -> None:
        raise SourceUnavailable(f"SMB sources are not implemented yet: {self.name}")

    def close(self) -> None:
        pass

    def reconnect(self) -> None:
        self.connect()

    def list_directory(self, path: str = "", recursive: bool = False) -> Iterator[FileInfo]:
        self.connect()
        return iter(())

    def stat(self, path: str) -> FileInfo:
        self.connect()
        raise AssertionError

    def read_partial(self, path: str, offset: int, length: int) -> bytes:
        self.connect()
        raise AssertionError

    def open(self, path: str) -> BinaryIO:
        self.connect()
        raise AssertionError
