"""SMB options and credentials: a user from the URL or a credentials file, a password from
the options.

``SMBOptions`` is what an SMB source needs of the settings (built at the entrance from
``smb_password``, ``smb_credentials_file``, ``smb_timeout_s``, ``smb_list_concurrency`` and
the ``smb_read_*``, ``smb_recheck_s``, ``smb_signing`` settings).
The password comes from ``SMBOptions.password`` (``ARCHIVE_SMB_PASSWORD``) or from the
credentials file named by ``SMBOptions.credentials_file``, which must not be readable by
group or others (mode 0600 or 0400). Its format is the one ``smbclient -A`` and ``mount.cifs``
read::

    username = archive
    password = secret
    domain = WORKGROUP      (optional)

The password is kept as a ``SecretStr`` and never appears in a message, log line or repr.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from archive_analyzer.errors import ConfigError


@dataclass(frozen=True, slots=True)
class SMBOptions:
    """How to reach SMB shares: the password or credentials file, and time-out and listing
    concurrency. ``repr`` never shows the password (``SecretStr``)."""

    password: SecretStr | None = None
    credentials_file: Path | None = None
    timeout_s: float = 30.0
    list_concurrency: int = 8
    # reading files (docs/sources.md "Reading files"): bytes per READ, READs ahead per
    # sequential reader, path check period, signing, connections readers spread over
    read_chunk_kib: int = 1024
    read_window: int = 8
    recheck_s: float | None = 2.0
    signing: Literal["required", "auto"] = "required"
    read_connections: int = 4


@dataclass(frozen=True, slots=True)
class SMBCredentials:
    """Who to log in as. ``repr`` shows the user only."""

    user: str
    password: SecretStr
    domain: str = ""

    def __repr__(self) -> str:
        return f"SMBCredentials(user={self.user!r}, domain={self.domain!r}, password=***)"


def parse_credentials_file(text: str) -> dict[str, str]:
    """``key = value`` lines (``#`` comments allowed) to a dict with lower-case keys."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")) or "=" not in stripped:
            continue
        key, _, value = stripped.partition("=")
        values[key.strip().lower()] = value.strip()
    return values


def read_credentials_file(path: Path) -> dict[str, str]:
    """The values of a credentials file, after checking that only its owner can read it.

    Raises ``ConfigError`` when it is missing, unreadable or readable by group/others.
    """
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"cannot read SMB credentials file {path}: {exc.strerror}") from None
    if stat.S_IMODE(mode) & 0o077:
        raise ConfigError(
            f"SMB credentials file {path} is readable by others "
            f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read SMB credentials file {path}: {reason}") from None
    return parse_credentials_file(text)


def resolve_credentials(url_user: str | None, options: SMBOptions) -> SMBCredentials:
    """The credentials for an SMB source whose URL names ``url_user`` (or nobody).

    Raises ``ConfigError`` when no user or no password can be found.
    """
    from_file: dict[str, str] = {}
    if options.credentials_file is not None:
        from_file = read_credentials_file(options.credentials_file)
    user = url_user or from_file.get("username") or from_file.get("user")
    if not user:
        raise ConfigError(
            "no SMB user: put it in the URL (smb://user@host/share) or the credentials file"
        )
    domain = from_file.get("domain", "")
    if "\\" in user:  # DOMAIN\user
        domain, _, user = user.partition("\\")
    if options.password is not None:
        password = options.password
    elif "password" in from_file:
        password = SecretStr(from_file["password"])
    else:
        raise ConfigError(
            "no SMB password: set ARCHIVE_SMB_PASSWORD or smb_credentials_file (mode 0600)"
        )
    return SMBCredentials(user=user, password=password, domain=domain)
