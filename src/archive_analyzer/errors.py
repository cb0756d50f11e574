"""The one exception tree of the project.

Adapters translate library errors into these (``raise SourceError(...) from exc``); the CLI and
the web app each turn them into messages in one place. Messages never contain secrets.
"""

from __future__ import annotations


class ArchiveError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(ArchiveError):
    """Settings are missing, malformed or unsafe (e.g. a credentials file readable by others)."""


# --- sources -------------------------------------------------------------------------------


class SourceError(ArchiveError):
    """A source (local folder or SMB share) could not do what was asked."""


class SourceUnavailable(SourceError):
    """The source cannot be reached, even after retries."""


class SourceTimeout(SourceError):
    """An operation on the source took longer than allowed."""


class FileVanished(SourceError):
    """A file that was listed no longer exists when it is opened or read."""


class FileChanged(SourceError):
    """A file is no longer the version that was opened or expected (its size, modification
    time or file id differ): a reader stops rather than mix two versions' bytes."""


class PermissionDenied(SourceError):
    """The source refused access to a file or folder."""


class NotADirectory(SourceError):
    """A path expected to be a folder is not one."""


# --- probing -------------------------------------------------------------------------------


class ProbeError(ArchiveError):
    """Probing failed for a reason that is not a property of the file (those are results)."""


class BudgetExceeded(ProbeError):
    """A probe tried to read more bytes than its per-file budget allows."""


class ProbeTimeout(ProbeError):
    """A probe took longer than its wall-clock limit."""


class ParseError(ProbeError):
    """A container parser could not make sense of the bytes it was given."""


# --- fixity ---------------------------------------------------------------------------------


class FixityError(ArchiveError):
    """Hashes cannot be taken, stored, exported or checked as asked."""


class ManifestError(FixityError):
    """An ASC MHL manifest cannot be read or written (names the file)."""


# --- catalog -------------------------------------------------------------------------------


class CatalogError(ArchiveError):
    """The catalog database could not be opened, migrated or written."""


class NotFound(CatalogError):
    """A catalog row that was asked for does not exist."""


class ImportRowError(CatalogError):
    """A value of one spreadsheet row cannot be used: the importer skips the row and reports
    ``message`` with the row's line number (``line``, when the raiser knows it)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.line = line


class HandError(CatalogError):
    """A hand (a clip between two times of an episode) cannot be stored as given."""


class ImportFileError(CatalogError):
    """An imported spreadsheet cannot be used at all (unreadable, not CSV, columns missing)."""


# --- sync / jobs / web ---------------------------------------------------------------------


class SyncError(ArchiveError):
    """Replication to the cloud failed permanently."""


class SyncLimitError(SyncError):
    """A document would break a Firestore limit (size, field length); names the row."""


class ExportError(ArchiveError):
    """An export (clip or edit list) cannot be made as asked."""


class JobError(ArchiveError):
    """The job queue could not be reached or a job failed permanently."""


class AuthError(ArchiveError):
    """Authentication or authorisation failed."""


class LoginThrottled(AuthError):
    """Too many failed logins for a user from an address (or from one address); wait."""


class InvalidUpload(ArchiveError):
    """An uploaded file is not what was asked for (not an image, too large, too many pixels)."""


class Busy(ArchiveError):
    """A bounded resource (e.g. concurrent transcodes) is exhausted; try again later."""
