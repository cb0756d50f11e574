"""Source specs: a local path or ``smb://[user@]host[:port]/share/path``.

Parsing is pure (string in, value out). A password in the URL is refused: passwords come from
settings (``ARCHIVE_SMB_PASSWORD`` or a 0600 credentials file) only. The error message never
repeats the spec, so the password cannot leak through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from archive_analyzer import paths
from archive_analyzer.errors import ConfigError

SMB_SCHEME = "smb://"
DEFAULT_SMB_PORT = 445
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True, slots=True)
class LocalSpec:
    """A local or mounted folder."""

    root: Path

    @property
    def display(self) -> str:
        """The folder as text (display-safe)."""
        return str(self.root)


@dataclass(frozen=True, slots=True)
class SMBSpec:
    """An SMB share, optionally a folder inside it (``path``, a catalog path)."""

    host: str
    share: str
    path: str = ""
    port: int = DEFAULT_SMB_PORT
    user: str | None = None

    @property
    def display(self) -> str:
        """The URL without any secret: ``smb://user@host:port/share/path``."""
        who = f"{self.user}@" if self.user else ""
        port = "" if self.port == DEFAULT_SMB_PORT else f":{self.port}"
        tail = f"/{self.path}" if self.path else ""
        return f"smb://{who}{self.host}{port}/{self.share}{tail}"

    @property
    def unc_root(self) -> str:
        """``\\\\host\\share[\\path]`` for smbprotocol (port not included)."""
        base = f"\\\\{self.host}\\{self.share}"
        return base + ("\\" + self.path.replace("/", "\\") if self.path else "")


SourceSpec = LocalSpec | SMBSpec


def parse(spec: str) -> SourceSpec:
    """Parse a source spec into a ``LocalSpec`` or ``SMBSpec``.

    Raises ``ConfigError`` for an empty spec, a malformed SMB URL, or a URL that carries a
    password (the message names the problem, never the URL).
    """
    text = spec.strip()
    if not text:
        raise ConfigError("empty source: give a folder or smb://[user@]host[:port]/share/path")
    if text[: len(SMB_SCHEME)].lower() == SMB_SCHEME:
        return _parse_smb(text[len(SMB_SCHEME) :])
    scheme = _SCHEME.match(text)
    if scheme:
        if scheme.group(1).lower() != "file":
            raise ConfigError(
                f"unsupported source scheme {scheme.group(1)!r}: use a folder or smb://"
            )
        text = unquote(text[scheme.end() :]) or "/"
    return LocalSpec(root=Path(text).expanduser())


def _split_userinfo(rest: str) -> tuple[str | None, str]:
    """Split ``[userinfo@]hostport/...`` into userinfo and the remainder.

    A password may itself contain ``/`` or ``@``, so the userinfo is everything up to the LAST
    ``@`` that precedes the share, recognised either by having no ``/`` before it or by a ``:``
    that is not followed by a numeric port.
    """
    at = rest.rfind("@")
    if at == -1:
        return None, rest
    before = rest[:at]
    slash = rest.find("/")
    if slash == -1 or slash > at:
        return before, rest[at + 1 :]
    colon = rest.find(":")
    if -1 < colon < slash and not rest[colon + 1 : slash].isdigit():
        return before, rest[at + 1 :]
    # the ``@`` belongs to the share path (e.g. a folder named ``@eaDir``)
    return None, rest


def _parse_smb(rest: str) -> SMBSpec:
    userinfo, hostpath = _split_userinfo(rest)
    user: str | None = None
    if userinfo is not None:
        if ":" in userinfo:
            raise ConfigError(
                "the source URL must not contain a password; set ARCHIVE_SMB_PASSWORD "
                "or smb_credentials_file (mode 0600) instead"
            )
        user = unquote(userinfo) or None
    hostport, _, sharepath = hostpath.partition("/")
    host, port = _split_port(hostport)
    if not host:
        raise ConfigError("smb source without a host: smb://[user@]host[:port]/share/path")
    share, _, sub = sharepath.partition("/")
    share = unquote(share)
    if not share:
        raise ConfigError("smb source without a share: smb://[user@]host[:port]/share/path")
    try:
        sub_path = paths.normalize(unquote(sub))
    except ValueError as exc:
        raise ConfigError(f"smb source path is invalid: {exc}") from None
    return SMBSpec(host=host, share=share, path=sub_path, port=port, user=user)


def _split_port(hostport: str) -> tuple[str, int]:
    if hostport.startswith("["):  # IPv6 literal
        end = hostport.find("]")
        if end == -1:
            raise ConfigError("smb source has a malformed IPv6 host")
        host, tail = hostport[1:end], hostport[end + 1 :]
        port_text = tail[1:] if tail.startswith(":") else ""
    else:
        host, _, port_text = hostport.partition(":")
    if not port_text:
        return host, DEFAULT_SMB_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError("smb source has an invalid port")
    return host, int(port_text)
