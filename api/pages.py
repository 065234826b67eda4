"""Server-rendered pages for people in a browser (the dashboard, the printable monthly report): how
they log in and how a template becomes a response.

Logging in: the form POSTs the token to /login, which answers with a session cookie and a redirect
back to the page. The cookie is not the token: it names the token's SHA-256 digest and an expiry,
signed with the session secret (HMAC-SHA256), HttpOnly, SameSite=Strict, Secure when the page was
reached over HTTPS. Nothing is stored on the server, so any API replica holding the same
`SESSION_SECRET` reads it; revoking a token ends its sessions at once (the digest no longer names an
actor); logging out deletes the cookie in that browser, and a copy of it lapses with its expiry.

A link may still carry `?token=` (bookmarks, scripts): the page exchanges it for the cookie by a
redirect to the same address without it, so the token stays neither in the address bar nor in the
history. Scripts may send a bearer header instead. The role check is the JSON API's.

Every page carries a Content-Security-Policy (no script at all, the one inline stylesheet by its
nonce, no framing) and is not cached.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.charts import percent
from api.dependencies import Services, ServicesDep, require
from api.tokens import token_digest
from rules.actors import Actor, Permission

SESSION_COOKIE = "desk_session"
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["percent"] = percent
router = APIRouter(include_in_schema=False)

# Without SESSION_SECRET: this process's own key (one replica only; its sessions end when it stops).
_PROCESS_SESSION_KEY = secrets.token_bytes(32)

# Documented on the page routes (their 200 is the page).
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    303: {"description": "`?token=` exchanged for the session cookie: the same address without it"},
    401: {"description": "not logged in: the log-in form", "content": {"text/html": {}}},
    403: {"description": "this role may not read the page", "content": {"text/html": {}}},
}


def local_time(value: datetime | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "—" if value is None else value.astimezone(zone).strftime(fmt)


def page_actor(request: Request, services: Services, permission: Permission) -> Actor | Response:
    """The actor of a page, or the response to give instead: the redirect that takes a `?token=` out of
    the address, the log-in form (401) or the refusal (403)."""
    if "token" in request.query_params:
        return _token_exchanged(request, services)
    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    actor = services.tokens.actor_for(bearer) if bearer else session_actor(request, services)
    if actor is None:
        message = "unknown or revoked token" if bearer else "log in with your token"
        return login_form(request, message, _address_without_token(request))
    try:
        return require(permission)(actor, services)
    except HTTPException as refused:
        return render(request, "refused.html", {"message": refused.detail, "actor": actor}, status_code=refused.status_code)


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200, *,
           own_script: bool = False) -> HTMLResponse:
    """A template as a page, with its security headers; its inline stylesheet carries the CSP nonce.
    `own_script`: the page loads a script of this site (and it fetches from this site only)."""
    nonce = secrets.token_urlsafe(16)
    response = templates.TemplateResponse(request, template, {**context, "csp_nonce": nonce}, status_code=status_code)
    return secured(response, nonce, own_script=own_script)


def secured(response: Response, nonce: str | None = None, *, own_script: bool = False) -> Response:
    styles = f"'nonce-{nonce}'" if nonce else "'none'"
    scripts = "script-src 'self'; connect-src 'self'; " if own_script else ""
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; {scripts}style-src {styles}; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")
    response.headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers that predate it
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def login_form(request: Request, message: str, back_to: str) -> HTMLResponse:
    return render(request, "login.html", {"message": message, "next": back_to}, status_code=401)


@router.post("/login")
async def log_in(request: Request, services: ServicesDep) -> Response:
    """The log-in form's POST (token, next): a session cookie and a redirect to the page it came from."""
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), max_num_fields=10))
    back_to = _local_address(form.get("next", ""))
    token = form.get("token", "")
    actor = services.tokens.actor_for(token) if token else None
    if actor is None:
        return login_form(request, "unknown or revoked token", back_to)
    return _with_session(RedirectResponse(back_to, status_code=303), request, services, token_digest(token))


@router.get("/logout")
async def log_out() -> Response:
    """Forget the session cookie: the next page asks for a token again."""
    response = RedirectResponse("/dashboard", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return secured(response)


def session_actor(request: Request, services: Services, cookie: str = SESSION_COOKIE) -> Actor | None:
    """The actor a session cookie names, if its signature holds and it has not expired (the pages'
    cookie, or the codec server's own)."""
    digest, _, rest = request.cookies.get(cookie, "").partition(".")
    expires, _, signature = rest.partition(".")
    if not expires.isdigit() or int(expires) < time.time():
        return None
    if not hmac.compare_digest(signature.encode("ascii", "replace"), _signature(services, digest, expires).encode()):
        return None
    return services.tokens.actor_for_digest(digest)


def _signature(services: Services, digest: str, expires: str) -> str:
    secret = services.settings.session_secret
    key = secret.get_secret_value().encode() if secret else _PROCESS_SESSION_KEY
    return hmac.new(key, f"{digest}.{expires}".encode("ascii", "replace"), hashlib.sha256).hexdigest()


def set_session(response: Response, request: Request, services: Services, digest: str,
                cookie: str = SESSION_COOKIE) -> Response:
    """A signed session cookie naming the token's digest, for `session_hours` (never the token itself)."""
    lifetime = int(services.settings.session_hours * 3600)
    expires = str(int(time.time()) + lifetime)
    response.set_cookie(cookie, f"{digest}.{expires}.{_signature(services, digest, expires)}",
                        max_age=lifetime, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


def form_token(request: Request, services: Services) -> str:
    """The CSRF token every form of a page carries: the signature of the credential that logged the
    page in (its session cookie, or a script's bearer header), so a form posted from another site,
    which cannot read the page, cannot hold it. Nothing is stored: any replica checks it."""
    credential = request.cookies.get(SESSION_COOKIE) or request.headers.get("authorization", "")
    return _signature(services, "form", hashlib.sha256(credential.encode()).hexdigest())


def form_token_holds(request: Request, services: Services, given: str) -> bool:
    return hmac.compare_digest(given.encode("ascii", "replace"), form_token(request, services).encode())


def _with_session(response: Response, request: Request, services: Services, digest: str) -> Response:
    return secured(set_session(response, request, services, digest))


def _token_exchanged(request: Request, services: Services) -> Response:
    """The same address without `?token=`; with the session cookie if the token is known (if not,
    the page there asks to log in)."""
    response = RedirectResponse(_address_without_token(request), status_code=303)
    token = request.query_params.get("token", "")
    if services.tokens.actor_for(token) is None:
        return secured(response)
    return _with_session(response, request, services, token_digest(token))


def _address_without_token(request: Request) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def _local_address(address: str) -> str:
    """Where to go after logging in: a path of this site only (never `//elsewhere` or a full URL)."""
    if address.startswith("/") and not address.startswith(("//", "/\\")):
        return address
    return "/dashboard"
