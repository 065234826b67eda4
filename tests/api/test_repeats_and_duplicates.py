"""Repeat and duplicate complaints at intake (DOMAIN §2), through the API on the dev server: the same
complaint once however many channels and API replicas it arrives through at once, phones compared
normalised."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack, auth, running_stack
from tests.factories import complaint_body
from tests.readmodel.postgres import PostgresCluster, running_cluster


async def detail(stack: Stack, complaint_id: str) -> dict:
    resp = await stack.http.get(f"/complaints/{complaint_id}", headers=auth("auditor"))
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_the_same_complaint_through_a_second_channel_returns_the_first_case(stack: Stack) -> None:
    first = await file(stack, complaint_body(channel="hotline", tracking_number="EX7000000001CN"))
    again = complaint_body(channel="wechat", tracking_number="EX7000000001CN", channel_message_id="wx-889")

    resp = await stack.http.post("/complaints", json=again, headers=auth("front_seat"))
    retried = await stack.http.post("/complaints", json=again, headers=auth("front_seat"))

    assert resp.status_code == 200, resp.text
    assert resp.json()["complaint_id"] == first["complaint_id"] and resp.json()["duplicate_of"] == first["complaint_id"]
    assert retried.status_code == 200 and retried.json()["complaint_id"] == first["complaint_id"]
    links = [e for e in (await detail(stack, first["complaint_id"]))["timeline"] if e["action"] == "link_duplicate"]
    assert len(links) == 1  # the retried request linked nothing twice
    assert links[0]["detail"]["channel"] == "wechat" and links[0]["detail"]["channel_message_id"] == "wx-889"
    listed = (await stack.http.get("/complaints", params={"tracking_number": "EX7000000001CN"},
                                   headers=auth("auditor"))).json()
    assert listed["total"] == 1  # no second case


async def test_another_category_or_parcel_is_a_case_of_its_own(stack: Stack) -> None:
    first = await file(stack, complaint_body(tracking_number="EX7000000002CN", category="delay"))
    other_category = await file(stack, complaint_body(tracking_number="EX7000000002CN", category="staff_attitude"))
    other_parcel = await file(stack, complaint_body(tracking_number="EX7000000003CN", category="delay"))

    assert len({first["complaint_id"], other_category["complaint_id"], other_parcel["complaint_id"]}) == 3
    assert other_category["duplicate_of"] is None and other_parcel["repeat_of"] == []  # the first is still open


async def test_complaining_again_after_closing_is_a_flagged_repeat_with_raised_priority(stack: Stack) -> None:
    customer = {"name": "Wu Lan", "phone": "13900001111", "tier": "standard"}
    earlier = await file(stack, complaint_body(complainant=customer, tracking_number="EX7000000004CN"))
    await act(stack, earlier["complaint_id"], "first-contact-answer", {"answer": "It is at the Xihu station"})

    again = await file(stack, complaint_body(complainant=customer, tracking_number="EX7000000004CN"))

    assert again["complaint_id"] != earlier["complaint_id"]  # closed: a new case, not a duplicate
    assert again["repeat_of"] == [earlier["complaint_id"]]
    assert again["classification"]["priority"] == "high"
    assert f"repeat complaint: earlier cases {earlier['complaint_id']}" in " ".join(
        again["classification"]["priority_reasons"])
    shown = await detail(stack, again["complaint_id"])
    assert shown["is_repeat"] is True and shown["repeat_of"] == [earlier["complaint_id"]]
    assert (await detail(stack, earlier["complaint_id"]))["is_repeat"] is False


async def test_the_same_parcel_from_another_customer_after_closing_is_a_repeat_too(stack: Stack) -> None:
    earlier = await file(stack, complaint_body(tracking_number="EX7000000005CN"))
    await act(stack, earlier["complaint_id"], "first-contact-answer", {"answer": "Delivered to the locker"})
    recipient = {"name": "Sun Yi", "phone": "13700002222", "tier": "vip"}

    again = await file(stack, complaint_body(complainant=recipient, tracking_number="EX7000000005CN"))

    assert again["repeat_of"] == [earlier["complaint_id"]]


# -- the same complaint at the same moment, through several channels and API replicas --------------

@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
async def replicas(request: pytest.FixtureRequest, dev_env: WorkflowEnvironment,
                   tmp_path: Path) -> AsyncIterator[tuple[Stack, httpx.AsyncClient]]:
    """Two API instances (each its own read-model engine and writer mutex, as two processes have)
    on one read model and one Temporal: SQLite, or PostgreSQL as several replicas run it."""
    overrides = {}
    if request.param == "postgresql":
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        overrides["database_url"] = cluster.create_database(f"replicas_{uuid.uuid4().hex[:8]}")
    async with running_stack(dev_env, tmp_path, **overrides) as stack:
        second = create_app(stack.settings, temporal=dev_env.client)
        async with LifespanManager(second) as manager, httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://api-2") as http:
            yield stack, http


async def test_one_complaint_through_five_channels_at_once_makes_one_case(
        replicas: tuple[Stack, httpx.AsyncClient], caplog: pytest.LogCaptureFixture) -> None:
    stack, other_replica = replicas
    # One customer, one parcel, one category; the phone as each channel wrote it (all 138 0013 8000).
    filings = [("hotline", "+86 138 0013 8000"), ("wechat", "+8613800138000"), ("app", "0086-138-0013-8000"),
               ("email", "13800138000"), ("web_form", "138-0013-8000")]
    bodies = [complaint_body(channel=channel, tracking_number="EX7100000001CN",
                             complainant={"name": "Li Na", "phone": phone, "tier": "standard"})
              for channel, phone in filings]
    caplog.set_level(logging.DEBUG)

    answers = await asyncio.gather(*(
        (stack.http if n % 2 == 0 else other_replica).post("/complaints", json=body, headers=auth("front_seat"))
        for n, body in enumerate(bodies)))

    assert sorted(a.status_code for a in answers) == [200] * 4 + [201], [a.text for a in answers]
    [opened] = [a.json() for a in answers if a.status_code == 201]
    joined = [a.json() for a in answers if a.status_code == 200]
    assert {j["complaint_id"] for j in joined} == {opened["complaint_id"]}
    assert {j["duplicate_of"] for j in joined} == {opened["complaint_id"]} and not any(j["replayed"] for j in joined)
    listed = (await stack.http.get("/complaints", params={"tracking_number": "EX7100000001CN"},
                                   headers=auth("auditor"))).json()
    assert listed["total"] == 1  # one case, on either replica's read
    links = [e["detail"]["channel"] for e in (await detail(stack, opened["complaint_id"]))["timeline"]
             if e["action"] == "link_duplicate"]
    opening_channel = (await detail(stack, opened["complaint_id"]))["channel"]
    assert sorted(links) == sorted(c for c, _ in filings if c != opening_channel)  # the other four, once each
    digits = "1380013"  # the number's middle, in whichever way it was written: never logged
    assert not [r for r in caplog.records if digits in r.getMessage().replace(" ", "").replace("-", "")]


async def test_a_repeat_is_found_however_the_phone_is_written(stack: Stack) -> None:
    earlier = await file(stack, complaint_body(complainant={"name": "Wu Lan", "phone": "+86 139 0000 1111"}))
    await act(stack, earlier["complaint_id"], "first-contact-answer", {"answer": "It is at the Xihu station"})

    again = await file(stack, complaint_body(complainant={"name": "Wu Lan", "phone": "13900001111"}))  # another parcel

    assert again["repeat_of"] == [earlier["complaint_id"]]  # the same customer by phone, its case closed
    assert again["classification"]["priority"] == "high"
