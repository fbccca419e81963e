"""Who may see the dashboard, and how its pages are protected.

The dashboard takes the admin key as the admin API does (``auth.refusal``): as a bearer
header, or once at the login, which sets a session cookie (``HttpOnly``, ``SameSite=Strict``,
``Path=/__admin``; ``Secure`` over HTTPS). The cookie is a signed expiry, not the key: an HMAC
under the store's shared secret (every worker process agrees on it) of the expiry, a nonce and
a fingerprint of who may administer (changing ``--admin-key`` or ``--api-key`` ends every
session).

A request carried by the cookie alone may change nothing unless it also sends the session's
CSRF token in ``X-CSRF-Token`` (an HMAC of the cookie, read by the page from
``/__admin/ui/api/session``, which no other origin can read) and, when the browser names its
origin (``Origin``, ``Sec-Fetch-Site``), comes from this one. A cross-site form can set
neither header, whatever it posts (even ``text/plain`` shaped as JSON).

Every dashboard response carries a strict Content-Security-Policy (scripts and styles from
this origin only, no inline script, no frames, nothing sent elsewhere).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from ...core.config import MockConfig
from ...core.reply import error, status_of
from ..auth import bearer, denied

COOKIE = "rwm_admin"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 8 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _fingerprint(config: MockConfig) -> str:
    """Who may administer, as a hash: sessions end when it changes."""
    who = config.admin_key if config.admin_key is not None else "\0".join(sorted(config.api_keys))
    return hashlib.sha256(who.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _mac(config: MockConfig, text: str) -> str:
    return hmac.new(config.media_secret, text.encode(), "sha256").hexdigest()[:40]


def _session_mac(config: MockConfig, expiry: str, nonce: str) -> str:
    return _mac(config, "\0".join(("session", expiry, nonce, _fingerprint(config))))


def new_session(config: MockConfig, now: float | None = None) -> str:
    """A session cookie's value: ``<expiry>.<nonce>.<mac>``."""
    expiry = str(int((time.time() if now is None else now) + SESSION_SECONDS))
    nonce = secrets.token_hex(12)
    return f"{expiry}.{nonce}.{_session_mac(config, expiry, nonce)}"


def session_valid(config: MockConfig, token: str | None, now: float | None = None) -> bool:
    if not token or len(token) > 200:
        return False
    expiry, _, rest = token.partition(".")
    nonce, _, mac = rest.partition(".")
    if not expiry.isascii() or not expiry.isdigit() or not nonce or not mac:
        return False
    wanted = _session_mac(config, expiry, nonce)
    fresh = int(expiry) > (time.time() if now is None else now)
    return hmac.compare_digest(wanted.encode(), mac.encode("utf-8", "surrogatepass")) and fresh


def csrf_token(config: MockConfig, session: str) -> str:
    """The CSRF token of one session (the page sends it back in ``X-CSRF-Token``)."""
    return _mac(config, "csrf\0" + session)


def refused(code: str, message: str, parameter: str | None = None) -> Response:
    """One error in Runware's shape, with its catalogue code's status."""
    return JSONResponse(
        {"errors": [error(code, message, parameter=parameter)]},
        status_code=status_of(code),
        headers=SECURITY_HEADERS,
    )


def cross_site(request: HTTPConnection) -> bool:
    """Whether the browser says the request comes from another origin."""
    headers = request.headers
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    host = headers.get("host", "")
    return origin.partition("://")[2] != host or origin == "null"


def admin_denied(config: MockConfig, request: HTTPConnection) -> Response | None:
    """None if ``request`` may use the admin API and the dashboard: the admin key as a
    bearer header, or a valid session cookie (with its CSRF token and from this origin, for
    anything but GET and HEAD). Else the 401 or 403 to send."""
    if bearer(request.headers) is not None:
        return denied(config, request, admin=True)
    session = request.cookies.get(COOKIE)
    if not session_valid(config, session):
        return denied(config, request, admin=True)  # no key: 401 missingApiKey
    if request.scope.get("method", "GET") in SAFE_METHODS:
        return None
    assert session is not None
    token = request.headers.get(CSRF_HEADER, "")
    wanted = csrf_token(config, session)
    if cross_site(request) or not hmac.compare_digest(
        wanted.encode(), token.encode("utf-8", "surrogatepass")
    ):
        return refused(
            "forbidden",
            "Refused: a change made with the dashboard's session needs its CSRF token, "
            "from the dashboard's own page (cross-site requests are refused).",
            CSRF_HEADER,
        )
    return None


def session_cookie(response: Response, request: HTTPConnection, value: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=max_age,
        path="/__admin",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
