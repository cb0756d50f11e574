"""Values that travel between hosts through the queues (pickled, like Huey's own messages)."""

from __future__ import annotations

from dataclasses import dataclass

from archive_analyzer.fixity.hasher import Checkpoint, HashResult
from archive_analyzer.pipeline import ProbeJob
from archive_analyzer.probe.result import ProbeResult


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """A probe worker's answer to one job, for the writer to ingest.

    ``result`` is None when the job failed for good (every retry raised); ``error`` says why.
    ``attempts`` counts executions of this dispatch; ``worker`` is ``host:pid`` (for logs).
    """

    job: ProbeJob
    result: ProbeResult | None
    error: str | None
    attempts: int
    worker: str


@dataclass(frozen=True, slots=True)
class HashJob:
    """One file version to hash (``kind`` 'hash': no baseline of this version; 'verify': a
    repeat read checked against ``expected`` chunk hashes; 'sample': only the sampled hash).

    ``resume`` is the checkpoint the writer kept from an earlier attempt; ``duration_s`` lets
    the worker take frame hashes (``frames``) and locate a mismatch in time.
    """

    file_id: str
    source: str
    path: str
    size: int
    mtime: float
    kind: str
    chunk_bytes: int
    expected: tuple[str, ...] | None = None
    resume: Checkpoint | None = None
    duration_s: float | None = None
    frames: bool = False


@dataclass(frozen=True, slots=True)
class HashProgress:
    """A finished chunk of a running hash job (renews its lease, keeps its place)."""

    job: HashJob
    checkpoint: Checkpoint


@dataclass(frozen=True, slots=True)
class HashOutcome:
    """A hash worker's answer: the hasher's result (or the sample), frame hashes of a new
    version, the media time of a mismatch; ``error`` when the job failed for good."""

    job: HashJob
    result: HashResult | None
    sample: str | None = None
    frames: dict[float, str] | None = None
    frames_error: str | None = None
    time_from: float | None = None
    time_to: float | None = None
    time_method: str | None = None
    error: str | None = None
    worker: str = ""
