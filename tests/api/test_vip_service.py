"""VIP service (差异化服务) over the API: intake routes a VIP customer's case to the VIP queue with the
tier's shorter clocks; the inbox filters the queue and the dashboard counts it.

Both cases are received yesterday at 09:00 (Shanghai) by the front seat, whose call centre works
every day 08:00–18:00 (7 × 10, no holidays), so the due instants are that day's: a delay's first
contact 120 minutes (09:00 → 11:00), a VIP's 15 (→ 09:15); the solution 4 working hours (→ 13:00),
a VIP's 2 (→ 11:00). Both are overdue by now."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.api.test_complaint_lifecycle import file
from tests.conftest import Stack, auth
from tests.factories import complaint_body
from tests.waiting import settled

SHANGHAI = ZoneInfo("Asia/Shanghai")


def due_local(clocks: list[dict], name: str) -> str:
    return next(c["due_local"] for c in clocks if c["name"] == name)


async def test_a_vip_case_is_routed_to_the_vip_queue_with_shorter_clocks(stack: Stack) -> None:
    yesterday = datetime.now(UTC).astimezone(SHANGHAI).date() - timedelta(days=1)
    received = datetime.combine(yesterday, time(9), SHANGHAI)
    vip = (await file(stack, complaint_body(received_at=received.isoformat(),
                                            complainant={"name": "Wu Yi", "phone": "13900139000", "tier": "vip"})))
    plain = await file(stack, complaint_body(received_at=received.isoformat()))

    inbox = await stack.http.get("/queues/vip", headers=auth("front_seat"))
    assert [c["complaint_id"] for c in inbox.json()["items"]] == [vip["complaint_id"]]
    assert inbox.json()["items"][0]["queue"] == "vip"
    assert (await stack.http.get("/queues/gold", headers=auth("front_seat"))).status_code == 404
    everyone = await stack.http.get("/complaints", params={"sort": "priority"}, headers=auth("front_seat"))
    assert [c["complaint_id"] for c in everyone.json()["items"]] == [vip["complaint_id"], plain["complaint_id"]]

    day = yesterday.isoformat()
    vip_case = (await stack.http.get(f"/complaints/{vip['complaint_id']}", headers=auth("front_seat"))).json()
    plain_case = (await stack.http.get(f"/complaints/{plain['complaint_id']}", headers=auth("front_seat"))).json()
    assert due_local(vip_case["clocks"], "first_contact") == f"{day} 09:15"
    assert due_local(plain_case["clocks"], "first_contact") == f"{day} 11:00"

    async def solution_started(case_id: str) -> str | None:
        clocks = (await stack.http.get(f"/complaints/{case_id}", headers=auth("front_seat"))).json()["clocks"]
        return next((c["due_local"] for c in clocks if c["name"] == "solution"), None)

    assert await settled(lambda: solution_started(vip["complaint_id"]), "no solution clock") == f"{day} 11:00"
    assert await settled(lambda: solution_started(plain["complaint_id"]), "no solution clock") == f"{day} 13:00"

    # In the Web UI's workflow list the VIP case says its queue (never the customer)
    described = await stack.env.client.get_workflow_handle(vip["workflow_id"]).describe()
    assert (await described.static_summary() or "").endswith(" · vip queue")
    plain_described = await stack.env.client.get_workflow_handle(plain["workflow_id"]).describe()
    assert "queue" not in (await plain_described.static_summary() or "")

    page = await stack.http.get("/dashboard", headers=auth("supervisor"))
    assert page.status_code == 200
    figures = dict(re.findall(r'id="(vip-open-total|vip-overdue-total)">(\d+)<', page.text))
    assert figures == {"vip-open-total": "1", "vip-overdue-total": "1"}
    assert f'<tr data-id="{vip["complaint_id"]}">' in page.text and 'data-queue="vip">vip<' in page.text
