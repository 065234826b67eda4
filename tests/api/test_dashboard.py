"""The supervisors' dashboard through the HTTP API on the dev server: what it counts on a hand-built
desk (tests/readmodel/test_dashboard.py: `an_open_desk`), a complaint filed through the API showing
its first running clock, and how a browser logs in (token in the address, exchanged for the session cookie)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.api.test_complaint_lifecycle import file
from tests.conftest import Stack, TOKENS, auth
from tests.readmodel.test_dashboard import an_open_desk, e2_answered_today

SHANGHAI = ZoneInfo("Asia/Shanghai")


def cells(html: str, table: str) -> list[list[str]]:
    """The text of each data row of a table on the page, cell by cell."""
    body = html.split(f'<table id="{table}">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr data-[a-z]+=\"[^\"]*\">(.*?)</tr>", body, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]


async def test_the_dashboard_counts_the_desk(stack: Stack) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    an_open_desk(stack.read_model, now)
    page = await stack.http.get("/dashboard", params={"token": TOKENS["supervisor"]}, follow_redirects=True)
    assert page.status_code == 200, page.text
    html = page.text

    # open: O1–O5 and O7 = 6 (O6 is closed); overdue: O3 (first contact missed) and O7 (past due, not yet marked)
    assert 'id="open-total">6<' in html
    assert re.search(r'id="overdue-total">2<', html)
    assert 'id="overdue-clocks-total">2<' in html
    assert 'id="escalations-total">1<' in html  # E1 only: E2 is answered, E3 never climbed
    buckets = dict(re.findall(r'data-bucket="([^"]+)">(\d+)<', html))
    assert buckets == {"overdue": "2", "due within 1 hour": "1", "due within 4 hours": "1", "due within 24 hours": "0",
                       "due later": "1", "no running clock": "1"}
    assert '<svg' in html and 'data-chart="open-by-due"' in html and 'data-chart="today-measures"' in html

    # by the next running clock, soonest first; each case links into the Temporal Web UI
    upcoming = cells(html, "upcoming")
    assert [r[0] for r in upcoming] == ["O7", "O1", "O2", "O3", "O4"]
    assert upcoming[1][1] == "first contact" and upcoming[1][3] in ("in 29 min", "in 30 min")
    assert upcoming[2][1] == "solution"  # O2's first contact was met
    ui = stack.settings.temporal_ui_url
    assert f'href="{ui}/namespaces/default/workflows/complaint-O1"' in html
    assert [(r[0], r[1], r[4]) for r in cells(html, "overdue")] == [
        ("O3", "first contact", "1 h 30 min late"), ("O7", "first contact", "5 min late")]
    assert cells(html, "overdue")[1][5] == "not yet marked"
    assert [(r[0], r[1], r[4]) for r in cells(html, "escalations")] == [("E1", "O3", "2")]
    assert f'href="{ui}/namespaces/default/workflows/E1"' in html

    measures = {r[0]: r for r in cells(html, "measures")}
    if not e2_answered_today(now):  # in the office's first minutes after midnight E2 was yesterday's
        pytest.skip("run within 10 minutes after the office's midnight: today's measures are empty")
    # today: E2, the one ticket answered today, nothing returned before it → 1 / 1, 100 %, meets ≥ 85 %
    assert measures["One-time resolution rate"][1:6] == ["1", "1", "100.0 %", "≥ 85.0 %", "meets"]
    # received today: O1–O7, none a repeat → 0 / 7 against ≤ 5 %
    assert measures["Repeat-complaint rate"][1:6] == ["0", "7", "0.0 %", "≤ 5.0 %", "meets"]
    # tickets due today by now: E2 (a minute ago), answered before it → 1 / 1 (E1 and E3 are not due yet)
    assert measures["Ticket 48-hour timely-reply rate"][1:6] == ["1", "1", "100.0 %", "≥ 90.0 %", "meets"]
    # no direct dispatch at all → nothing to measure
    assert measures["Direct-dispatch 2-hour timely rate"][1:6] == ["0", "0", "—", "≥ 90.0 %", "nothing to measure"]


async def test_a_filed_complaint_shows_its_first_running_clock(stack: Stack) -> None:
    cid = (await file(stack))["complaint_id"]
    for _ in range(100):  # the workflow writes its clocks a moment after the API answered
        detail = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
        running = [c for c in detail["clocks"] if c["met_at"] is None and c["overdue_at"] is None]
        if running:
            break
        await asyncio.sleep(0.1)
    first = min(running, key=lambda c: c["due"])

    html = (await stack.http.get("/dashboard", headers=auth("auditor"))).text  # a bearer header works as well
    row = next(r for r in cells(html, "upcoming") if r[0] == cid)
    due = datetime.fromisoformat(first["due"]).astimezone(SHANGHAI)
    assert row[1:3] == [first["label"], f"{due:%Y-%m-%d %H:%M}"]
    assert f"/workflows/complaint-{cid}\"" in html


async def test_the_vip_and_the_repeat_are_listed_before_a_standard_case_filed_first(stack: Stack) -> None:
    from tests.api.test_complaint_lifecycle import act
    from tests.api.test_complaint_search import customer, minutes_ago
    from tests.factories import complaint_body

    earlier = await file(stack, complaint_body(complainant=customer("13200000001"), received_at=minutes_ago(9)))
    await act(stack, earlier["complaint_id"], "first-contact-answer", {"answer": "Delivered to the locker"})
    # filed first and received first, so its clock is due first: listed last all the same
    standard = await file(stack, complaint_body(complainant=customer("13200000002"), received_at=minutes_ago(5)))
    vip = await file(stack, complaint_body(complainant=customer("13200000003", "vip"), received_at=minutes_ago(3)))
    repeat = await file(stack, complaint_body(complainant=customer("13200000001"), received_at=minutes_ago(2)))

    html = (await stack.http.get("/dashboard", headers=auth("supervisor"))).text

    # high priority first (the VIP tier, then the repeat: each group by its next due clock), then the rest
    upcoming = [(r[0], r[-1]) for r in cells(html, "upcoming")]
    assert upcoming == [(vip["complaint_id"], "high"), (repeat["complaint_id"], "high"),
                        (standard["complaint_id"], "normal")]


async def test_logging_in_to_the_pages(stack: Stack) -> None:
    stranger = await stack.http.get("/dashboard")
    assert stranger.status_code == 401 and 'name="token"' in stranger.text and "<form" in stranger.text
    # a token in the address is exchanged for the session cookie by a redirect to the address without it
    unknown = await stack.http.get("/dashboard", params={"token": "not-a-token"}, follow_redirects=True)
    assert unknown.status_code == 401 and unknown.url.params.get("token") is None

    refused = await stack.http.get("/dashboard", params={"token": TOKENS["front_seat"]}, follow_redirects=True)
    assert refused.status_code == 403 and "may not read measures" in refused.text

    first = await stack.http.get("/dashboard", params={"token": TOKENS["director"]}, follow_redirects=True)
    assert first.status_code == 200 and first.url.params.get("token") is None
    assert [r.status_code for r in first.history] == [303]
    assert "httponly" in first.history[0].headers["set-cookie"].lower()
    # the cookie carries the next pages: the dashboard again and the report it links to
    assert (await stack.http.get("/dashboard")).status_code == 200
    assert (await stack.http.get("/reports/monthly", params={"month": "2026-10", "format": "html"})).status_code == 200
    # …but never the JSON API
    assert (await stack.http.get("/reports/monthly", params={"month": "2026-10"})).status_code == 401

    out = await stack.http.get("/logout")
    assert out.status_code == 303
    assert (await stack.http.get("/dashboard")).status_code == 401
