"""Session secret, CSRF tokens, device cookies, derived keys and the https-only cookie layer.

Sessions are Starlette's ``SessionMiddleware`` cookies: signed with itsdangerous, HttpOnly,
SameSite=Lax. The secret comes from ``settings.session_secret`` or, when unset, from
``data_dir/session_secret``, generated once with mode 0600. It is never logged.

Every state-changing request carries the session's CSRF token: forms in a hidden ``csrf``
field, API calls in the ``X-CSRF-Token`` header. Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


def derived_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose (stream links, device cookies) derived from the session secret,
    so one leaked signature type cannot be replayed as another."""
    return hmac.new(secret.encode(), f"archive-analyzer:{purpose}".encode(), "sha256").digest()


# --- device cookies (login throttling, see web/throttle.py) ---------------------------------

DEVICE_COOKIE = "archive_device"
DEVICE_MAX_AGE = 365 * 24 * 3600


def device_cookie(secret: str, username: str) -> str:
    """A signed cookie value naming a new device of ``username``."""
    serializer = URLSafeTimedSerializer(derived_key(secret, "device"), salt="device")
    return serializer.dumps({"n": username.casefold(), "d": secrets.token_urlsafe(12)})


def device_of(secret: str, cookie: str | None, username: str) -> str | None:
    """The device id in ``cookie`` when it is valid and belongs to ``username``, else None."""
    if not cookie:
        return None
    serializer = URLSafeTimedSerializer(derived_key(secret, "device"), salt="device")
    try:
        value = serializer.loads(cookie, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(value, dict) or value.get("n") != username.strip().casefold():
        return None
    device = value.get("d")
    return device if isinstance(device, str) else None


# --- transport -------------------------------------------------------------------------------

HSTS = b"max-age=31536000"


class HttpsOnlyCookies:
    """ASGI middleware: on an https request (TLS here, or a trusted proxy's
    ``X-Forwarded-Proto: https``), every cookie gets ``Secure`` and the response an HSTS header.

    Plain http (loopback, a closed LAN) keeps working: the flag follows the request's scheme,
    which ``uvicorn``'s ``ProxyHeadersMiddleware`` sets only for ``trusted_proxies``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = []
                for name, value in message.get("headers", []):
                    if name.lower() == b"set-cookie" and b"; secure" not in value.lower():
                        value += b"; Secure"
                    if name.lower() != b"strict-transport-security":
                        headers.append((name, value))
                headers.append((b"strict-transport-security", HSTS))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, secure)
