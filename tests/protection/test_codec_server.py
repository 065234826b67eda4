"""The codec server (api/codec_server.py) as the Web UI and the CLI call it: Temporal's codec-server
contract, CORS for the UI's origin only, decode_payloads holders only, every decode audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from api.codec_server import create_codec_app
from readmodel.audit import AuditAction
from readmodel.store import ReadModel
from tests.conftest import auth, stack_settings
from tests.protection.keys import DATA_CONVERTER

UI = "http://127.0.0.1:8233"  # the Web UI the test settings name (Settings.temporal_ui_url's default)
COMPLAINANT = {"name": "Li Na", "phone": "13800138000", "address": "Xihu, Hangzhou"}


class Codec:
    def __init__(self, http: httpx.AsyncClient, read_model: ReadModel) -> None:
        self.http, self.read_model = http, read_model

    def decodes(self) -> list[tuple[str, str]]:
        rows, _ = self.read_model.audit.page(action=AuditAction.DECODE)
        return [(r.actor_id, r.role) for r in rows]


@pytest.fixture
async def codec(tmp_path: Path) -> AsyncIterator[Codec]:
    settings = stack_settings(tmp_path)
    app = create_codec_app(settings)
    async with LifespanManager(app) as manager:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://codec") as http:
            read_model = ReadModel(settings.database_url)
            yield Codec(http, read_model)
            read_model.dispose()


async def encrypted(value: object) -> dict:
    """What the Web UI finds in a history event: the project's encrypted payloads, as protobuf JSON."""
    return json_format.MessageToDict(Payloads(payloads=await DATA_CONVERTER.encode([value])))


async def test_decode_gives_back_the_payload_the_worker_wrote_and_is_audited(codec: Codec) -> None:
    body = await encrypted(COMPLAINANT)
    assert "Li Na" not in str(body)  # ciphertext before the codec

    resp = await codec.http.post("/decode", json=body, headers={**auth("operations"), "X-Namespace": "default"})

    assert resp.status_code == 200, resp.text
    decoded = json_format.ParseDict(resp.json(), Payloads())
    assert DATA_CONVERTER.payload_converter.from_payloads(decoded.payloads, [dict]) == [COMPLAINANT]
    # A mounted prefix works too (the contract reads only the last part of the path).
    again = await codec.http.post("/codec/default/decode", json=body, headers=auth("supervisor"))
    assert again.status_code == 200, again.text
    # One audit row per decode, naming who; policy permissions.decode_payloads holds both roles.
    assert codec.decodes() == [("sup-ma", "supervisor"), ("ops-lin", "operations")]


async def test_encode_then_decode_round_trips_and_encode_is_not_audited(codec: Codec) -> None:
    plain = json_format.MessageToDict(Payloads(payloads=DATA_CONVERTER.payload_converter.to_payloads([COMPLAINANT])))
    resp = await codec.http.post("/encode", json=plain, headers=auth("head_office_cs"))
    assert resp.status_code == 200, resp.text
    sealed = json_format.ParseDict(resp.json(), Payloads())
    assert [p.metadata["encryption-key-id"] for p in sealed.payloads] == [b"test-1"]
    assert await DATA_CONVERTER.decode(sealed.payloads, [dict]) == [COMPLAINANT]
    assert codec.decodes() == []


async def test_without_a_token_401_and_without_decode_payloads_403_and_nothing_audited(codec: Codec) -> None:
    body = await encrypted(COMPLAINANT)
    assert (await codec.http.post("/decode", json=body)).status_code == 401
    assert (await codec.http.post("/decode", json=body, headers={"Authorization": "Bearer nope"})).status_code == 401
    # decode_payloads is [head_office_cs, supervisor, operations]: the auditor reads the log, not the data.
    for role in ("front_seat", "auditor", "regional_cs"):
        resp = await codec.http.post("/decode", json=body, headers=auth(role))
        assert resp.status_code == 403, (role, resp.text)
        assert "may not decode payloads" in resp.json()["detail"]
    assert (await codec.http.post("/encode", json=body, headers=auth("front_seat"))).status_code == 403
    assert codec.decodes() == []


async def test_cors_answers_the_web_ui_origin_only(codec: Codec) -> None:
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,x-namespace"}
    ok = await codec.http.options("/decode", headers={"Origin": UI, **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == UI
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert {h.strip().lower() for h in ok.headers["access-control-allow-headers"].split(",")} >= {
        "authorization", "content-type", "x-namespace"}

    elsewhere = "http://evil.example"
    refused = await codec.http.options("/decode", headers={"Origin": elsewhere, **preflight})
    assert "access-control-allow-origin" not in refused.headers
    post = await codec.http.post("/decode", json=await encrypted(COMPLAINANT),
                                 headers={"Origin": elsewhere, **auth("operations")})
    assert "access-control-allow-origin" not in post.headers  # the browser withholds the answer


async def test_a_person_signs_in_once_and_the_cookie_carries_the_decodes(codec: Codec) -> None:
    refused = await codec.http.post("/session", data={"token": "dev-front-seat"})
    assert refused.status_code == 403 and "codec_token" not in refused.cookies
    signed_in = await codec.http.post("/session", data={"token": "dev-operations"})
    assert signed_in.status_code == 200 and "Signed in as" in signed_in.text
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie  # 8 h

    assert "dev-operations" not in cookie  # the token's digest: a copied cookie is no bearer for the API

    resp = await codec.http.post("/decode", json=await encrypted(COMPLAINANT))  # the client keeps the cookie
    assert resp.status_code == 200, resp.text
    assert codec.decodes() == [("ops-lin", "operations")]
    codec.http.cookies.clear()
    codec.http.cookies.set("codec_token", "0" * 64)  # a digest no token has (revoked, or made up)
    assert (await codec.http.post("/decode", json=await encrypted(COMPLAINANT))).status_code == 401


async def test_bad_requests_name_what_is_wrong(codec: Codec) -> None:
    other = await codec.http.post("/decode", json=await encrypted(COMPLAINANT),
                                  headers={**auth("operations"), "X-Namespace": "billing"})
    assert other.status_code == 400 and "X-Namespace" in other.json()["detail"]
    garbled = await codec.http.post("/decode", content=b"{not json", headers=auth("operations"))
    assert garbled.status_code == 400 and garbled.json()["detail"].startswith("body:")
    assert codec.decodes() == []
