"""When and how fast the hasher may read: a byte-rate cap, quiet hours, viewers first.

- ``hash_max_mib_s`` caps each hash job's read rate (a token bucket with a one-second burst).
- While viewers stream (``viewers()`` is true) the cap drops to ``hash_busy_mib_s``; 0 pauses
  hashing until they stop. The web app reports streams in flight; see ``jobs/hashing.py``.
- Quiet hours (``hash_quiet_hours``, e.g. ``22:00-06:00`` in ``hash_timezone``) restrict
  hashing to a daily window; outside it a job stops at its next chunk boundary, keeping its
  place (``Hasher`` returns status ``paused``).

Pure apart from the injected clock, monotonic timer and sleep.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dtime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from archive_analyzer.errors import ConfigError

MIB = 1024 * 1024
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
VIEWER_CHECK_S = 1.0  # ask whether viewers stream at most this often
PAUSE_STEP_S = 0.5


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window ``start``-``end`` in ``zone``; ``end`` before ``start`` spans midnight."""

    start: dtime
    end: dtime
    zone: str = "UTC"

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.zone)).time()
        if self.start == self.end:
            return True  # a window of the whole day
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_quiet_hours(text: str | None, zone: str = "UTC") -> QuietHours | None:
    """``"22:00-06:00"`` -> ``QuietHours``; None or empty -> None. ``ConfigError`` when bad."""
    if text is None or not text.strip():
        return None
    match = _WINDOW.match(text)
    if match is None:
        raise ConfigError(f"hash_quiet_hours must look like 22:00-06:00, got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ConfigError(f"hash_quiet_hours has an impossible time: {text!r}")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"hash_timezone: unknown time zone {zone!r}") from exc
    return QuietHours(dtime(h1, m1), dtime(h2, m2), zone)


class Throttle:
    """Paces reads: call ``take(n)`` after reading ``n`` bytes; it sleeps as the caps require.

    ``max_bps`` 0 means no cap. While ``viewers()`` is true the cap is ``busy_bps`` (0: wait
    until the viewers are gone). ``waited_s`` and ``viewer_waits_s`` say how long it slept.
    """

    def __init__(
        self,
        *,
        max_bps: float,
        busy_bps: float = 0.0,
        viewers: Callable[[], bool] = lambda: False,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self._max = max_bps
        self._busy = busy_bps
        self._viewers = viewers
        self._monotonic = monotonic
        self._sleep = sleep
        self._should_stop = should_stop
        self._start = monotonic()
        self._credit = 0.0  # bytes the current rate allows beyond what was read
        self._last = self._start
        self._viewer_at = -1e9
        self._viewer_now = False
        self.waited_s = 0.0
        self.viewer_waits_s = 0.0

    def viewers_active(self) -> bool:
        now = self._monotonic()
        if now - self._viewer_at >= VIEWER_CHECK_S:
            self._viewer_at = now
            try:
                self._viewer_now = bool(self._viewers())
            except Exception:  # a failing signal must not stop hashing; viewers unknown
                self._viewer_now = False
        return self._viewer_now

    def _rate(self) -> float:
        return self._busy if self.viewers_active() else self._max

    def take(self, nbytes: int) -> None:
        """Account for ``nbytes`` just read; sleep until the current cap allows more."""
        while self.viewers_active() and self._busy <= 0 and not self._should_stop():
            self._pause(PAUSE_STEP_S, viewer=True)
            self._credit = 0.0
            self._last = self._monotonic()
        rate = self._rate()
        now = self._monotonic()
        if rate <= 0:  # no cap
            self._last = now
            return
        # Refill for the time since the last read, at most one second's worth (burst).
        self._credit = min(rate, self._credit + (now - self._last) * rate) - nbytes
        self._last = now
        if self._credit < 0:
            self._pause(-self._credit / rate, viewer=rate == self._busy and rate != self._max)
            self._credit = 0.0
            self._last = self._monotonic()

    def _pause(self, seconds: float, *, viewer: bool) -> None:
        self._sleep(seconds)
        self.waited_s += seconds
        if viewer:
            self.viewer_waits_s += seconds
