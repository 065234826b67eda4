"""The codec server: decrypts (and encrypts) workflow payloads for the Temporal Web UI and the CLI.

Temporal's codec-server contract: POST `…/decode` and `…/encode` with a `Payloads` message as
protobuf JSON, `X-Namespace` naming the namespace. Only the Web UI's origin may call it from a
browser (CORS), and only a role holding `decode_payloads` may call it at all; every decode is
written to the audit log (PIPL art. 51). Its own app on its own port (CODEC_SERVER_PORT), so the
API's CORS stays closed and the codec can be deployed, or left out, on its own.

Who is calling:
- the CLI sends the bearer itself: `temporal workflow show --codec-endpoint URL --codec-auth 'Bearer <token>'`;
- the Web UI sends a bearer only from its own OIDC login and only to an https endpoint ("Pass access
  token"), so a person signs in here once (`GET /session`, a form): the pages' signed session
  (api/pages.py: the token's digest and an expiry, HttpOnly) under this server's own cookie, which the
  UI's requests carry when its codec settings include cross-origin credentials.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from api.dependencies import Services, ServicesDep, current_actor, require
from api.pages import session_actor, set_session
from api.tokens import load_tokens, token_digest
from protection.codec import EncryptionCodec, PayloadDecryptionError
from readmodel.audit import AuditAction
from readmodel.store import ReadModel
from rules.actors import Actor, Permission
from rules.policy import PolicyFile
from settings import Settings, get_settings
from temporal_client import payload_key_ring

SESSION_COOKIE = "codec_token"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allowed_to_decode(token: str | None, services: Services) -> Actor:
    """401 without a known token, 403 for a role without decode_payloads: the API's own checks and texts."""
    actor = current_actor(services, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token) if token else None)
    return require(Permission.DECODE_PAYLOADS)(actor, services)


def decoding_actor(request: Request, services: ServicesDep) -> Actor:
    """The bearer header (the CLI), else the sign-in cookie (the Web UI)."""
    header = request.headers.get("authorization", "")
    signed_in = request.cookies.get(SESSION_COOKIE)
    if header or not signed_in:
        return allowed_to_decode(header[7:].strip() if header.lower().startswith("bearer ") else None, services)
    actor = session_actor(request, services, cookie=SESSION_COOKIE)
    if actor is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "signed out: the session expired or its token was revoked; sign in again at /session",
                            headers={"WWW-Authenticate": "Bearer"})
    return require(Permission.DECODE_PAYLOADS)(actor, services)


DecoderDep = Annotated[Actor, Depends(decoding_actor)]


async def payloads_of(request: Request, services: Services) -> Payloads:
    namespace = request.headers.get("x-namespace")
    if namespace is not None and namespace != services.settings.temporal_namespace:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"X-Namespace: this codec server holds the keys of namespace"
                            f" {services.settings.temporal_namespace!r}, not {namespace!r}")
    try:
        return json_format.Parse(await request.body(), Payloads())
    except json_format.ParseError as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"body: not a Payloads message as protobuf JSON ({err})") from None


def payloads_response(payloads: list) -> JSONResponse:  # type: ignore[type-arg]
    return JSONResponse(json_format.MessageToDict(Payloads(payloads=payloads)))


def create_codec_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Like the API: a bad policy, tokens file or key ring stops start-up, naming what is wrong.
    policy_file = PolicyFile(settings.policy_file)
    tokens = load_tokens(settings.tokens_file, policy_file.current())
    codec = EncryptionCodec(payload_key_ring(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        read_model = ReadModel(settings.database_url)
        read_model.create_schema()
        # The codec server never talks to Temporal: the UI and the CLI fetch histories themselves.
        app.state.services = Services(settings, policy_file, tokens, None, read_model)  # type: ignore[arg-type]
        try:
            yield
        finally:
            read_model.dispose()

    app = FastAPI(title="Complaint desk codec server", lifespan=lifespan, openapi_url=None)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[origin_of(settings.temporal_ui_url)],
        allow_credentials=True,  # the sign-in cookie
        allow_methods=["POST"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
        max_age=600,
    )

    async def decode(request: Request, actor: DecoderDep, services: ServicesDep) -> JSONResponse:
        payloads = await payloads_of(request, services)
        try:
            decoded = await codec.decode(payloads.payloads)
        except PayloadDecryptionError as err:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"payloads: {err}") from None
        services.read_model.audit.record(actor, AuditAction.DECODE,
                                         f"workflow payloads ({len(decoded)}) of namespace {settings.temporal_namespace}")
        return payloads_response(decoded)

    async def encode(request: Request, actor: DecoderDep, services: ServicesDep) -> JSONResponse:
        # Nothing is revealed by encrypting, so not audited; the role check still applies (it writes case data).
        payloads = await payloads_of(request, services)
        return payloads_response(await codec.encode(payloads.payloads))

    # The contract looks only at the last part of the path, so the endpoint may sit under any prefix.
    for path in ("/decode", "/{prefix:path}/decode"):
        app.post(path, include_in_schema=False)(decode)
    for path in ("/encode", "/{prefix:path}/encode"):
        app.post(path, include_in_schema=False)(encode)

    @app.get("/session", response_class=HTMLResponse)
    def sign_in_form() -> HTMLResponse:
        return sign_in_page("Sign in to read case payloads in the Temporal Web UI.")

    @app.post("/session", response_class=HTMLResponse)
    async def sign_in(request: Request, services: ServicesDep) -> Response:
        token = (parse_qs((await request.body()).decode()).get("token") or [""])[0].strip()
        try:
            actor = allowed_to_decode(token or None, services)
        except HTTPException as refused:
            return sign_in_page(str(refused.detail), status_code=refused.status_code)
        page = sign_in_page(
            f"Signed in as {actor.name}, role {actor.role.value}, for {settings.session_hours:g} hours. In the Web UI"
            f" ({settings.temporal_ui_url}), open Codec Server (top right), choose “Use my browser setting”, paste"
            f" {settings.codec_server_url} and turn on “Include cross-origin credentials”. Every decode is audited.",
            signed_in=True)
        # The pages' signed session under this server's own cookie: a copied cookie opens this server
        # only, never the API, and only until it expires.
        return set_session(page, request, services, token_digest(token), cookie=SESSION_COOKIE)

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def sign_in_page(message: str, *, status_code: int = 200, signed_in: bool = False) -> HTMLResponse:
    form = "" if signed_in else (
        '<form method="post" action="/session"><label>Bearer token <input name="token" type="password"'
        ' autocomplete="off" required></label> <button type="submit">Sign in</button></form>')
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Codec server</title></head>"
        f"<body><h1>Complaint desk codec server</h1><p>{escape(message)}</p>{form}</body></html>",
        status_code=status_code)


def app() -> FastAPI:
    """Factory for `uvicorn --factory api.codec_server:app`."""
    return create_codec_app()
