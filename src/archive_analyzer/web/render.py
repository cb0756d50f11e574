"""Rendering pages: the Jinja2 environment, template helpers, language and CSRF in every page."""

from __future__ import annotations

import functools
import math
import re
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from archive_analyzer.catalog import series_order
from archive_analyzer.web import admin_view, i18n
from archive_analyzer.web.accounts import Role, User
from archive_analyzer.web.formatting import Formatter
from archive_analyzer.web.security import csrf_token


def environment() -> Environment:
    """The template environment (autoescaping on), with the formatting filters."""
    env = Environment(
        loader=PackageLoader("archive_analyzer.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = duration
    env.filters["timecode"] = timecode
    env.filters["filesize"] = filesize
    env.filters["bitrate"] = bitrate
    env.filters["browser"] = browser
    env.filters["moment"] = moment
    env.globals["day_label"] = day_label
    env.globals["final_table"] = series_order.is_final_table
    env.globals["fact"] = fact
    env.globals["view"] = admin_view  # the admin pages' labels and words
    return env


def term(text: str, t: i18n.Translate) -> str:
    """A poker term as the page's language says it (``Main Event`` -> ``메인 이벤트``); other
    text as it is."""
    key = "term_" + re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")
    found = t(key)
    return text if found == key else found


def fact(key: str, value: object, t: i18n.Translate) -> str:
    """A hand's or content's fact for reading: yes/no flags, poker terms in the page's
    language."""
    if key in ("is_all_in", "is_showdown"):
        return t("yes") if value else t("no")
    if key == "event_name" and isinstance(value, str):
        return term(value, t)
    return str(value)


def day_label(day: str, title: str, t: i18n.Translate) -> str:
    """A day as people say it: ``1A`` -> ``Day 1A`` / ``1일차 A``; ``FINAL`` -> final table."""
    match = re.match(r"(\d+)\s*(.*)", day.strip())
    if match is None:
        return t("final_table") if day.strip().casefold().startswith("f") else day
    return t("day_n", n=match.group(1), flight=match.group(2).upper()).strip()


def language(request: Request) -> str:
    return i18n.negotiate(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))


def render(
    request: Request, name: str, values: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render template ``name`` with the common values (user, language, ``t``, CSRF token)."""
    lang = language(request)
    web = request.app.state.web
    env: Environment = web.templates
    user = getattr(request.state, "user", None)
    t = i18n.translator(lang)
    fmt = Formatter(lang, web.clock)

    def tn(key: str, n: int, **values: object) -> str:
        """A message about ``n`` things (``3 episodes`` / ``에피소드 3개``)."""
        return t(i18n.plural_key(key, n, lang), n=fmt.count(n), **values)

    common: dict[str, Any] = {
        "request": request,
        "user": user,
        "editor": isinstance(user, User) and user.may(Role.EDITOR),
        "lang": lang,
        "t": t,
        "tn": tn,
        "fmt": fmt,
        "csrf": csrf_token(request),
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "qs": _qs,
    }
    html = env.get_template(name).render({**common, **(values or {})})
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


# Pages embed only our own assets; nothing may frame them.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; "
        "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _qs(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def duration(seconds: float | None) -> str:
    """``5025.3`` -> ``1:23:45``; ``62`` -> ``1:02``; None -> ``''``."""
    if seconds is None or math.isnan(seconds):
        return ""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def timecode(seconds: float | None) -> str:
    """Always ``H:MM:SS`` (the loggers' timecode form)."""
    if seconds is None:
        return ""
    total = int(seconds)
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def filesize(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def bitrate(bps: int | None) -> str:
    if not bps:
        return ""
    return f"{bps / 1e6:.1f} Mb/s" if bps >= 1e6 else f"{bps / 1e3:.0f} kb/s"


@functools.lru_cache(maxsize=256)
def browser(user_agent: str | None) -> str:
    """``Chrome 120 · Linux`` from a User-Agent (ua-parser), else its first 40 characters."""
    if not user_agent:
        return "—"
    import ua_parser

    parsed = ua_parser.parse(user_agent)
    if parsed.user_agent is None:
        return user_agent[:40]
    name = parsed.user_agent.family
    if parsed.user_agent.major:
        name += f" {parsed.user_agent.major}"
    if parsed.os is not None and parsed.os.family != "Other":
        name += f" · {parsed.os.family}"
    return name


def moment(stamp: str | None) -> str:
    """A catalog timestamp as ``2026-01-01 12:00`` (UTC), or ``—``."""
    if not stamp:
        return "—"
    return f"{stamp[:10]} {stamp[11:16]} UTC"
