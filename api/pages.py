"""Server-rendered pages for people in a browser (the dashboard, the printable monthly report): how
they log in and how a template becomes a response.

A browser cannot easily send a bearer header, so these pages — and only these — also take the
token as `?token=<token>`; a page opened so sets it in an HttpOnly cookie, and the next pages are
read with the cookie. The role check is the same as the JSON API's.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from api.charts import percent
from api.dependencies import Services, require
from rules.actors import Actor, Permission

TOKEN_COOKIE = "desk_token"
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["percent"] = percent


def local_time(value: datetime | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "—" if value is None else value.astimezone(zone).strftime(fmt)


def page_token(request: Request) -> str | None:
    """The token of a page request: `?token=`, else the cookie, else a bearer header (for scripts)."""
    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    return request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE) or bearer


def page_actor(request: Request, services: Services, permission: Permission) -> Actor | Response:
    """The actor of a page, or the page to answer instead: the login form (401) or the refusal (403)."""
    token = page_token(request)
    actor = services.tokens.get(token) if token else None
    if actor is None:
        message = "unknown or revoked token" if token else "log in with your token"
        return templates.TemplateResponse(request, "login.html", {"message": message, "path": request.url.path,
                                                                   "query": _query_without_token(request)},
                                          status_code=401)
    try:
        return require(permission)(actor, services)
    except HTTPException as refused:
        return templates.TemplateResponse(request, "refused.html", {"message": refused.detail, "actor": actor},
                                          status_code=refused.status_code)


def render(request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
    """The page; a token given in the address is kept in a cookie for the pages opened from it."""
    response = templates.TemplateResponse(request, template, context)
    if token := request.query_params.get("token"):
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="lax")
    return response


def _query_without_token(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k != "token"}
