"""Session secret and CSRF tokens.

Sessions are Starlette's ``SessionMiddleware`` cookies: signed with itsdangerous, HttpOnly,
SameSite=Lax. The secret comes from ``settings.session_secret`` or, when unset, from
``data_dir/session_secret``, generated once with mode 0600. It is never logged.

Every state-changing request carries the session's CSRF token: forms in a hidden ``csrf``
field, API calls in the ``X-CSRF-Token`` header. Tokens are compared in constant time.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from starlette.requests import Request

from archive_analyzer.config import Settings
from archive_analyzer.errors import ConfigError

SECRET_FILE = "session_secret"
CSRF_KEY = "csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"


def session_secret(settings: Settings) -> str:
    """The signing secret: from settings, else read or create ``data_dir/session_secret``.

    Raises ``ConfigError`` when the file exists but others may read it.
    """
    if settings.session_secret is not None:
        value = settings.session_secret.get_secret_value()
        if len(value) < 16:
            raise ConfigError("session_secret must have at least 16 characters")
        return value
    path = Path(settings.data_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{path} must not be readable by others (chmod 600)") from None
        value = path.read_text(encoding="ascii").strip()
        if len(value) < 16:
            raise ConfigError(f"{path} holds no usable secret") from None
        return value
    value = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def csrf_ok(request: Request, presented: str | None) -> bool:
    """Whether ``presented`` is this session's CSRF token."""
    expected = request.session.get(CSRF_KEY)
    if not isinstance(expected, str) or not expected or not presented:
        return False
    return secrets.compare_digest(expected.encode(), presented.encode())
