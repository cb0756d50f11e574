"""The Firestore sink: google-cloud-firestore ``WriteBatch`` commits with retries.

Each ``commit`` is one ``WriteBatch`` (atomic, at most 500 writes). Transient gRPC failures
(UNAVAILABLE, ABORTED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) are retried with exponential
backoff by tenacity; everything else, and a transient failure that outlasts the retries, raises
``SyncError`` with a one-line message. Sets replace whole documents and deletes of missing
documents succeed, so resending a batch after an ambiguous failure is harmless.

The BulkWriter is not used: its BatchWrite RPC is non-atomic, and the emulator the tests run
against does not implement it. Collection-group queries are not used either (same reason).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from archive_analyzer.errors import ConfigError, SyncError
from archive_analyzer.sync.sink import MAX_BATCH_OPS, DocOp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep retrying a transient failure (exponential backoff between tries)."""

    attempts: int = 6
    initial_s: float = 0.5
    max_wait_s: float = 8.0
    deadline_s: float = 60.0  # total time spent on one batch, retries included
    rpc_timeout_s: float = 20.0  # one commit call


def _transient_types() -> tuple[type[BaseException], ...]:
    from google.api_core import exceptions as gexc

    return (
        gexc.ServiceUnavailable,
        gexc.Aborted,
        gexc.DeadlineExceeded,
        gexc.ResourceExhausted,
    )


def is_transient(exc: BaseException) -> bool:
    """True for the gRPC failures worth retrying (the service may succeed next time)."""
    return isinstance(exc, _transient_types())


def _describe(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    name = getattr(code, "name", None) or type(exc).__name__
    message = getattr(exc, "message", None) or str(exc)
    first = str(message).strip().splitlines()[0] if str(message).strip() else ""
    return f"{name}: {first}"[:300]


class FirestoreSink:
    """A ``Sink`` writing to Firestore (or an emulator at ``emulator_host``)."""

    def __init__(
        self,
        project: str,
        *,
        emulator_host: str | None = None,
        credentials_file: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        from google.cloud import firestore

        self._retry = retry or RetryPolicy()
        credentials: Any = None
        if emulator_host:
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
        elif credentials_file:
            try:
                from google.oauth2 import service_account

                credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                    credentials_file
                )
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot read Firestore credentials file: {exc}") from exc
        try:
            self._client = firestore.Client(project=project, credentials=credentials)
        except Exception as exc:  # google.auth.exceptions.DefaultCredentialsError and kin
            raise SyncError(f"cannot create Firestore client: {_describe(exc)}") from exc
        if emulator_host:
            # The library only looks at the FIRESTORE_EMULATOR_HOST variable; settings come
            # from our config, so hand it the host directly (read lazily on first call).
            self._client._emulator_host = emulator_host

    # --- writes ----------------------------------------------------------------------------

    def commit(self, ops: Sequence[DocOp]) -> None:
        """Commit ``ops`` as one atomic ``WriteBatch``, retrying transient failures."""
        if not ops:
            return
        if len(ops) > MAX_BATCH_OPS:
            raise SyncError(f"batch of {len(ops)} operations exceeds {MAX_BATCH_OPS}")
        self._call(lambda: self._commit_once(ops), what=f"commit of {len(ops)} writes")

    def _commit_once(self, ops: Sequence[DocOp]) -> None:
        batch = self._client.batch()
        for op in ops:
            ref = self._client.document(op.path)
            if op.kind == "set":
                batch.set(ref, dict(op.data))
            else:
                batch.delete(ref)
        batch.commit(retry=None, timeout=self._retry.rpc_timeout_s)

    # --- reads -----------------------------------------------------------------------------

    def get(self, path: str) -> dict[str, Any] | None:
        def read() -> dict[str, Any] | None:
            snap = self._client.document(path).get(retry=None, timeout=self._retry.rpc_timeout_s)
            return dict(snap.to_dict() or {}) if snap.exists else None

        found: dict[str, Any] | None = self._call(read, what=f"read of {path}")
        return found

    def list_ids(self, collection: str) -> list[str]:
        def read() -> list[str]:
            query = self._client.collection(collection).select([])
            return sorted(
                snap.id for snap in query.stream(retry=None, timeout=self._retry.rpc_timeout_s)
            )

        ids: list[str] = self._call(read, what=f"listing of {collection}")
        return ids

    def close(self) -> None:
        try:
            self._client.close()  # type: ignore[no-untyped-call]
        except Exception:  # closing a channel that never opened; nothing to release
            log.debug("closing the Firestore client failed", exc_info=True)

    # --- retries ---------------------------------------------------------------------------

    def _call(self, fn: Any, *, what: str) -> Any:
        policy = self._retry

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "Firestore %s failed (%s); retry %d/%d",
                what,
                _describe(exc) if exc else "?",
                state.attempt_number,
                policy.attempts - 1,
            )

        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.deadline_s),
            wait=wait_exponential(multiplier=policy.initial_s, max=policy.max_wait_s),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(fn)
        except SyncError:
            raise
        except Exception as exc:
            from google.api_core import exceptions as gexc

            if is_transient(exc):
                raise SyncError(
                    f"Firestore unreachable: {what} still failing after retries ({_describe(exc)})"
                ) from exc
            if isinstance(exc, gexc.GoogleAPICallError | gexc.RetryError):
                raise SyncError(f"Firestore refused the {what}: {_describe(exc)}") from exc
            if isinstance(exc, ValueError | TypeError):
                raise SyncError(f"Firestore rejected the {what}: {exc}") from exc
            raise
