"""What an outsider can do with the API and the pages (issue #14 items 6, 7, 9): tokens kept as digests
and compared in constant time; the page log-in by POST and a signed session cookie that is not the
token; `?token=` taken out of the address; security headers on the pages; the intake rate per token;
a body cap; and bad input answered with a 4xx naming the field, echoing the input only in brief."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from api import tokens as token_module
from api.tokens import load_tokens
from rules.policy import PolicyFile
from settings import ROOT
from tests.conftest import TOKENS, Stack, auth, running_stack
from tests.factories import complaint_body

TOKENS_FILE = ROOT / "config" / "tokens.dev.yaml"
POLICY_FILE = ROOT / "policies" / "express_carrier.yaml"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- tokens ---------------------------------------------------------------------------------------

def test_the_server_keeps_only_the_digests_of_the_tokens() -> None:
    raw_tokens = list(yaml.safe_load(TOKENS_FILE.read_text(encoding="utf-8"))["tokens"])
    known = load_tokens(TOKENS_FILE, PolicyFile(POLICY_FILE).current())

    held = repr(known)
    assert not [t for t in raw_tokens if t in held], "a raw token is held in memory"
    # what is held is each token's SHA-256, and it still finds the actor
    assert sorted(d for d, _ in known.by_digest) == sorted(sha256(t) for t in raw_tokens)
    actor = known.actor_for("dev-supervisor")
    assert actor is not None and actor.id == "sup-ma"
    assert known.actor_for("dev-supervisor ") is None and known.actor_for(sha256("dev-supervisor")) is None


def test_a_presented_token_is_compared_in_constant_time_with_every_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    known = load_tokens(TOKENS_FILE, PolicyFile(POLICY_FILE).current())
    compared: list[tuple[bytes, bytes]] = []
    constant_time = hmac.compare_digest

    def compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return constant_time(a, b)

    monkeypatch.setattr(token_module.hmac, "compare_digest", compare_digest)
    for token in ("dev-front-seat", "dev-operations", "no-such-token"):
        compared.clear()
        known.actor_for(token)
        # no early exit: as many comparisons for the first token of the file, the last, and none at all
        assert len(compared) == len(known.by_digest)
        assert {b for _, b in compared} == {sha256(token).encode()}


# --- page log-in ----------------------------------------------------------------------------------

def set_cookie(resp: httpx.Response) -> dict[str, str | bool]:
    """The page session's Set-Cookie header as {name: value, attribute: value or True}."""
    [header] = [h for h in resp.headers.get_list("set-cookie") if h.startswith("desk_session=")]
    name_value, *attributes = [p.strip() for p in header.split(";")]
    found: dict[str, str | bool] = {"desk_session": name_value.split("=", 1)[1]}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        found[key.lower()] = value or True
    return found


async def test_the_log_in_form_posts_the_token_and_gets_a_session_cookie_that_is_not_the_token(stack: Stack) -> None:
    form = await stack.http.get("/dashboard")
    assert form.status_code == 401
    assert re.search(r'<form method="post" action="/login">', form.text)
    assert 'name="next" value="/dashboard"' in form.text

    logged_in = await stack.http.post("/login", data={"token": TOKENS["supervisor"], "next": "/dashboard"})

    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/dashboard"
    cookie = set_cookie(logged_in)
    assert cookie["httponly"] is True and cookie["samesite"] == "strict" and "secure" not in cookie  # plain HTTP here
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(int(stack.settings.session_hours * 3600))
    assert TOKENS["supervisor"] not in str(cookie["desk_session"])
    page = await stack.http.get("/dashboard", headers={"Cookie": f"desk_session={cookie['desk_session']}"})
    assert page.status_code == 200 and "Ma Rui" in page.text

    over_https = await stack.http.post("https://api/login", data={"token": TOKENS["supervisor"], "next": "/dashboard"})
    assert set_cookie(over_https)["secure"] is True

    wrong = await stack.http.post("/login", data={"token": "dev-guess", "next": "/dashboard"})
    assert wrong.status_code == 401 and "unknown or revoked token" in wrong.text
    assert not [h for h in wrong.headers.get_list("set-cookie") if h.startswith("desk_session=")]
    elsewhere = await stack.http.post("/login", data={"token": TOKENS["supervisor"], "next": "//evil.example/x"})
    assert elsewhere.headers["location"] == "/dashboard"  # only a path of this site


async def test_a_token_in_the_address_is_exchanged_for_the_cookie_by_a_redirect_without_it(stack: Stack) -> None:
    address = f"/reports/monthly?month=2026-10&format=html&token={TOKENS['supervisor']}"

    exchanged = await stack.http.get(address)

    assert exchanged.status_code == 303
    assert exchanged.headers["location"] == "/reports/monthly?month=2026-10&format=html"
    session = str(set_cookie(exchanged)["desk_session"])
    report = await stack.http.get(exchanged.headers["location"], headers={"Cookie": f"desk_session={session}"})
    assert report.status_code == 200 and 'id="complaints-total"' in report.text

    unknown = await stack.http.get("/dashboard?token=dev-guess")
    assert unknown.status_code == 303 and unknown.headers["location"] == "/dashboard"
    assert not unknown.headers.get_list("set-cookie")


async def test_a_session_holds_only_with_its_signature_and_until_it_expires(dev_env: WorkflowEnvironment,
                                                                           tmp_path: Path) -> None:
    # Two API replicas share SESSION_SECRET: a cookie signed by the rule with it is read by either.
    secret = "a-shared-session-secret"
    async with running_stack(dev_env, tmp_path, session_secret=SecretStr(secret)) as stack:
        digest = sha256(TOKENS["supervisor"])

        def cookie(expires: int, key: str = secret, named: str = digest) -> dict[str, str]:
            signature = hmac.new(key.encode(), f"{named}.{expires}".encode(), hashlib.sha256).hexdigest()
            return {"Cookie": f"desk_session={named}.{expires}.{signature}"}

        in_an_hour = int(time.time()) + 3600
        assert (await stack.http.get("/dashboard", headers=cookie(in_an_hour))).status_code == 200
        assert (await stack.http.get("/dashboard", headers=cookie(int(time.time()) - 1))).status_code == 401
        assert (await stack.http.get("/dashboard", headers=cookie(in_an_hour, key="another"))).status_code == 401
        # a signed cookie naming a digest no token has (a revoked token) logs nobody in
        assert (await stack.http.get("/dashboard", headers=cookie(in_an_hour, named=sha256("revoked")))).status_code == 401
        # the session is for pages only: the JSON API wants the bearer token
        assert (await stack.http.get("/measures?period=day&at=2026-10-05", headers=cookie(in_an_hour))).status_code == 401


async def test_pages_forbid_framing_and_allow_only_their_own_stylesheet(stack: Stack) -> None:
    for resp in (await stack.http.get("/dashboard"), await stack.http.get("/dashboard", headers=auth("supervisor")),
                 await stack.http.get("/dashboard", headers=auth("front_seat"))):  # log-in form, page, refusal
        assert resp.status_code in (401, 200, 403)
        policy = dict(p.strip().split(" ", 1) for p in resp.headers["content-security-policy"].split(";"))
        assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
        assert policy["form-action"] == "'self'"
        [nonce] = re.findall(r'<style nonce="([^"]+)">', resp.text)
        assert policy["style-src"] == f"'nonce-{nonce}'"
        assert resp.headers["x-frame-options"] == "DENY"
        assert "<script" not in resp.text


# --- intake rate ----------------------------------------------------------------------------------

@pytest.fixture
async def limited(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(dev_env, tmp_path, intake_rate_limit=3, intake_rate_window_seconds=60) as s:
        yield s


async def test_intake_past_the_rate_of_a_token_is_429_with_retry_after(limited: Stack) -> None:
    limit, window = limited.settings.intake_rate_limit, limited.settings.intake_rate_window_seconds
    first = time.monotonic()
    for _ in range(limit):  # the limit's worth within the window: all filed
        resp = await limited.http.post("/complaints", json=complaint_body(), headers=auth("front_seat"))
        assert resp.status_code == 201, resp.text

    refused = await limited.http.post("/complaints", json=complaint_body(), headers=auth("front_seat"))

    assert refused.status_code == 429
    # admitted again once the first filing leaves the window: at most `window` s from now, and no
    # sooner than the window less what has passed since the first filing
    retry_after = int(refused.headers["retry-after"])
    assert window - (time.monotonic() - first) - 1 <= retry_after <= window
    assert f"more than {limit} filings" in refused.json()["detail"]
    # another token has its own count; a contact counts as a filing too
    assert (await limited.http.post("/complaints", json=complaint_body(), headers=auth("regional_cs"))).status_code == 201
    contact = await limited.http.post("/contacts", json={}, headers=auth("front_seat"))
    assert contact.status_code == 429
    assert (await limited.http.get("/complaints", headers=auth("auditor"))).json()["total"] == limit + 1


# --- bad input --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "address", "field"), [
    ("auditor", "/complaints?page=99999999999999999999", ["query", "page"]),
    ("supervisor", "/measures?period=day&at=0001-01-01", ["query", "at"]),
    ("supervisor", "/measures?period=day&at=9999-12-31", ["query", "at"]),
    ("supervisor", "/measures/return_rate/items?period=month&at=0001-01", ["query", "at"]),
    ("supervisor", "/reports/monthly?month=0001-01", ["query", "month"]),
    ("supervisor", "/judgements/appeal-rates?month=0000-00", ["query", "month"]),
    ("supervisor", "/judgements/appeal-rates?month=2026-13", ["query", "month"]),
    ("auditor", "/calendars/gd/deadline?start=9999-12-31T17:00:00%2B08:00&hours=20", ["query", "start"]),
])
async def test_what_was_a_500_is_a_422_naming_the_field(stack: Stack, role: str, address: str, field: list[str]) -> None:
    resp = await stack.http.get(address, headers=auth(role))
    assert resp.status_code == 422, resp.text
    assert field in [e["loc"] for e in resp.json()["detail"]]


@pytest.mark.parametrize("received_at", [
    "0001-01-01", "0001-01-01T00:00:00+08:00", "1970-01-01T08:00:00+08:00", "9999-12-31T23:59:59Z", 0, 1764000000,
], ids=["year 1, no zone", "year 1", "1970", "year 9999", "epoch zero", "epoch seconds"])
async def test_a_received_time_outside_the_desks_years_or_as_a_number_is_422(stack: Stack, received_at: object) -> None:
    resp = await stack.http.post("/complaints", json=complaint_body(received_at=received_at), headers=auth("front_seat"))
    assert resp.status_code == 422, resp.text
    assert ["body", "received_at"] in [e["loc"] for e in resp.json()["detail"]]


@pytest.mark.parametrize(("where", "field"), [
    ('"description": "lost \\ud800 parcel"', ["body", "description"]),
    ('"complainant": {"name": "Li \\udfff", "phone": "13800138000"}', ["body", "complainant", "name"]),
    ('"evidence": [{"kind": "photo", "reference": "x"}, {"kind": "photo", "reference": "\\ud83d"}]',
     ["body", "evidence", 1, "reference"]),
])
async def test_a_lone_surrogate_in_a_text_field_is_422_naming_it(stack: Stack, where: str, field: list) -> None:
    key = where.split('"')[1]
    body = {k: v for k, v in complaint_body().items() if k != key}
    raw = json.dumps(body)[:-1] + ", " + where + "}"  # the escape as a client writes it: json.dumps would refuse it
    resp = await stack.http.post("/complaints", content=raw, headers={**auth("front_seat"), "Content-Type": "application/json"})
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == field
    assert (await stack.http.get("/complaints", headers=auth("auditor"))).json()["total"] == 0


async def test_a_body_that_is_not_utf8_is_422(stack: Stack) -> None:
    raw = json.dumps(complaint_body(description="lost parcel")).encode().replace(b"lost", b"l\xf6st")  # Latin-1 ö
    resp = await stack.http.post("/complaints", content=raw, headers={**auth("front_seat"), "Content-Type": "application/json"})
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == ["body"] and "not UTF-8" in resp.json()["detail"][0]["msg"]


async def test_a_proper_surrogate_pair_is_text_like_any_other(stack: Stack) -> None:
    raw = json.dumps(complaint_body())[:-1] + ', "demand": "call me \\ud83d\\ude00"}'  # 😀 escaped as a pair
    resp = await stack.http.post("/complaints", content=raw, headers={**auth("front_seat"), "Content-Type": "application/json"})
    assert resp.status_code == 201, resp.text


def padded_to(size: int) -> bytes:
    """A complaint whose JSON is exactly `size` bytes (its description made long enough)."""
    body = complaint_body(description="")
    base = len(json.dumps(body).encode())
    return json.dumps({**body, "description": "x" * (size - base)}).encode()


async def test_a_body_over_the_cap_is_413_and_one_at_the_cap_is_read(stack: Stack) -> None:
    cap = stack.settings.max_body_bytes
    headers = {**auth("front_seat"), "Content-Type": "application/json"}

    at_cap = await stack.http.post("/complaints", content=padded_to(cap), headers=headers)
    over = await stack.http.post("/complaints", content=padded_to(cap + 1), headers=headers)

    assert at_cap.status_code == 422  # read and validated: the description is far over its 5000 characters
    assert ["body", "description"] in [e["loc"] for e in at_cap.json()["detail"]]
    assert over.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams in
        body = padded_to(cap + 1)
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]

    streamed = await stack.http.post("/complaints", content=chunks(), headers=headers)
    assert streamed.status_code == 413


async def test_a_422_echoes_a_long_input_only_in_brief(stack: Stack) -> None:
    description = "我的包裹丢了。" * 20_000  # 140,000 characters, ~420 KB: under the body cap, far over the field's
    resp = await stack.http.post("/complaints", json=complaint_body(description=description), headers=auth("front_seat"))

    assert resp.status_code == 422
    [error] = [e for e in resp.json()["detail"] if e["loc"] == ["body", "description"]]
    # api/errors.py ECHO_CHARS: the first 200 characters, then how long the input was
    assert error["input"] == description[:200] + "… (140000 characters)"
    assert len(resp.content) < 3_000

    # a missing field echoes the whole body object: cut the same way
    body = complaint_body(description=description)
    del body["channel"]
    missing = await stack.http.post("/complaints", json=body, headers=auth("front_seat"))
    assert missing.status_code == 422 and len(missing.content) < 5_000
    [error] = [e for e in missing.json()["detail"] if e["loc"] == ["body", "channel"]]
    assert error["input"]["description"] == description[:200] + "… (140000 characters)"


# --- the schema ---------------------------------------------------------------------------------------

def test_the_schema_names_the_error_statuses_of_each_operation() -> None:
    from api.main import create_app

    paths = create_app().openapi()["paths"]
    # filing: a token (401, 403), a POST (409: an idempotency key in flight), a body (413, 422), the rate (429)
    filing = paths["/complaints"]["post"]["responses"]
    assert {"401", "403", "409", "413", "422", "429"} <= set(filing)
    assert "Retry-After" in filing["429"]["headers"]
    # a step on a complaint adds 404; a read has no 409 or 413; the health check needs no token
    assert {"401", "403", "404", "409", "413", "422"} <= set(paths["/complaints/{complaint_id}/handling"]["post"]["responses"])
    read = set(paths["/complaints/{complaint_id}"]["get"]["responses"])
    assert {"401", "403", "404", "422"} <= read and not {"409", "413", "429"} & read
    assert set(paths["/healthz"]["get"]["responses"]) == {"200"}
    # the monthly report answers its refusals as a page too, when it was asked for one
    assert "text/html" in paths["/reports/monthly"]["get"]["responses"]["403"]["content"]
