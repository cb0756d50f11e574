"""Progress of long work: a rich bar on a terminal, periodic log lines otherwise.

A ``Progress`` counts files and bytes. ``for_terminal`` picks the right one for stderr.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.progress import TaskID

log = logging.getLogger(__name__)


class Progress(Protocol):
    """Receives counts while a scan or a probe run goes on."""

    def start(self, total_files: int | None) -> None:
        """Begin; ``total_files`` is an estimate (the previous scan's count) or None."""
        ...

    def advance(self, files: int, nbytes: int) -> None:
        """``files`` more files done, ``nbytes`` more bytes."""
        ...

    def finish(self) -> None:
        """Done (also called after a failure)."""
        ...


class NullProgress:
    """Shows nothing."""

    def start(self, total_files: int | None) -> None:
        pass

    def advance(self, files: int, nbytes: int) -> None:
        pass

    def finish(self) -> None:
        pass


class LogProgress:
    """One log line every ``every_s`` seconds: files, bytes, files/s and, with a total, ETA."""

    def __init__(
        self,
        label: str,
        *,
        every_s: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
        logger: logging.Logger = log,
    ) -> None:
        self._label = label
        self._every = every_s
        self._monotonic = monotonic
        self._log = logger
        self._total: int | None = None
        self._files = 0
        self._bytes = 0
        self._t0 = 0.0
        self._last = 0.0

    def start(self, total_files: int | None) -> None:
        self._total = total_files
        self._t0 = self._last = self._monotonic()

    def advance(self, files: int, nbytes: int) -> None:
        self._files += files
        self._bytes += nbytes
        now = self._monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._log.info("%s", self.line(now))

    def line(self, now: float) -> str:
        """The progress line as of ``now``."""
        elapsed = max(now - self._t0, 1e-9)
        rate = self._files / elapsed
        text = f"{self._label}: {self._files} files, {human_bytes(self._bytes)}, {rate:.0f} files/s"
        if self._total and rate > 0 and self._total > self._files:
            text += f", ETA {(self._total - self._files) / rate:.0f}s"
        return text

    def finish(self) -> None:
        self._log.info("%s", self.line(self._monotonic()))


class RichProgress:
    """A rich progress bar on stderr: files, bytes, files/s and ETA (when a total is known)."""

    def __init__(self, label: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self._bar = Bar(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[size]}"),
            TextColumn("{task.fields[rate]} files/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._label = label
        self._task: TaskID | None = None
        self._bytes = 0
        self._files = 0
        self._t0 = 0.0

    def start(self, total_files: int | None) -> None:
        self._bar.start()
        self._t0 = time.monotonic()
        self._task = self._bar.add_task(self._label, total=total_files, size="0 B", rate="0")

    def advance(self, files: int, nbytes: int) -> None:
        if self._task is None:
            return
        self._bytes += nbytes
        self._files += files
        rate = self._files / max(time.monotonic() - self._t0, 1e-9)
        task = self._bar.tasks[0]
        if task.total is not None and self._files > task.total:
            self._bar.update(self._task, total=None)  # the estimate was low: no false ETA
        self._bar.update(
            self._task, advance=files, size=human_bytes(self._bytes), rate=f"{rate:.0f}"
        )

    def finish(self) -> None:
        if self._task is not None:
            self._bar.stop()
            self._task = None


def for_terminal(label: str) -> Progress:
    """A rich bar when stderr is a terminal, log lines otherwise."""
    if sys.stderr.isatty():
        return RichProgress(label)
    return LogProgress(label)


def human_bytes(count: int) -> str:
    """``1536`` -> ``1.5 KB`` (binary units)."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
