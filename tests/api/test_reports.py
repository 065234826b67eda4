"""The monthly report (DOMAIN §8) through the HTTP API on a hand-built read model: JSON figures worked
out by hand in the comments, the same figures as CSV, a printable page with SVG charts, and who may
read it.

October 2026 on the head office's clock (Asia/Shanghai); the real "now" is later, so every ticket
due in October is due.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from readmodel.store import ReadModel
from tests.conftest import Stack, TOKENS, auth
from tests.factories import stored
from tests.readmodel.test_measures import at, complaint, judgement, ticket

# (prefix, how many, category, lead office, channel)
OCTOBER_COMPLAINTS = (
    ("D", 8, "delay", "call-centre", "hotline"),
    ("L", 6, "loss_or_damage", "gd", "wechat"),
    ("S", 3, "staff_attitude", "zj", "app"),
    ("F", 3, "fee_dispute", "gd", "email"),
)


def a_month_of_complaints(read_model: ReadModel) -> None:
    """20 complaints received in October 2026, one in September and one just after October."""
    closed = {  # closed in October: (one-time resolved, customer clocks missed)
        "D1": (True, 0), "D2": (True, 0), "L1": (False, 1), "S1": (True, 0)}
    rows: list[Any] = []
    for prefix, many, category, lead, channel in OCTOBER_COMPLAINTS:
        for n in range(1, many + 1):
            cid = f"{prefix}{n}"
            one_time, missed = closed.get(cid, (True, 0))
            rows.append(complaint(cid, at(10, n + 1), closed=at(10, 20) if cid in closed else None, category=category,
                                  lead_unit=lead, channel=channel, one_time_resolution=one_time, missed_clocks=missed,
                                  is_repeat=cid == "L2"))
    rows += [
        complaint("X9", at(9, 20), closed=at(9, 28), one_time_resolution=True),  # September: received and closed
        complaint("X11", at(11, 1, 0, 10)),  # ten past midnight on 1 November: not October
        # Tickets: T0 (September) answered at once; T1 answered before its due instant, after a reply
        # returned; T2 never answered, its ladder climbed.
        ticket("T0", "X9", "zj", at(9, 21), at(9, 23), answered=at(9, 22)),
        ticket("T1", "D1", "gd-gz-tianhe", at(10, 3), at(10, 5), answered=at(10, 5, 9), returns=1),
        ticket("T2", "L1", "gd-gz", at(10, 8), at(10, 10), escalation_level=1),
        # Judgements final at fault in October: two at Guangdong (one after an invalid appeal), one at Zhejiang.
        judgement("D1", "gd", at(10, 12), "accepted", at(10, 14), invalid_appeal=False),
        judgement("L1", "gd", at(10, 13), "accepted", at(10, 22), invalid_appeal=True),
        judgement("S1", "zj", at(10, 15), "accepted_by_silence", at(10, 23), invalid_appeal=False),
    ]
    stored(read_model, rows)


async def report(stack: Stack, month: str = "2026-10", role: str = "supervisor", **params: str) -> Any:
    return await stack.http.get("/reports/monthly", params={"month": month, **params}, headers=auth(role))


async def test_the_monthly_report_counts_the_month(stack: Stack) -> None:
    a_month_of_complaints(stack.read_model)
    resp = await report(stack)
    assert resp.status_code == 200, resp.text
    body = resp.json()

    # received in October: 8 delay + 6 loss + 3 attitude + 3 fee = 20 (X9 September, X11 November)
    assert body["complaints"] == 20
    assert [(c["key"], c["count"], c["share"]) for c in body["by_category"]] == [
        ("delay", 8, 0.4), ("loss_or_damage", 6, 0.3), ("fee_dispute", 3, 0.15), ("staff_attitude", 3, 0.15)]
    # lead offices: call-centre 8 (D), gd 6 (L) + 3 (F) = 9, zj 3 (S)
    assert [(c["key"], c["count"]) for c in body["by_unit"]] == [("gd", 9), ("call-centre", 8), ("zj", 3)]
    assert body["by_unit"][0]["label"] == "Guangdong provincial customer service"
    assert [(c["key"], c["count"]) for c in body["by_channel"]] == [
        ("hotline", 8), ("wechat", 6), ("app", 3), ("email", 3)]
    # hot spots: above 15 % of 20 = above 3 → delay (40 %) and loss or damage (30 %); 3 of 20 is exactly 15 %: not one
    assert body["hot_spot_share"] == 0.15
    assert [(c["key"], c["count"]) for c in body["hot_spots"]] == [("delay", 8), ("loss_or_damage", 6)]
    # final at fault in October: gd D1 and L1, zj S1 (by silence)
    assert [(c["key"], c["count"]) for c in body["at_fault_tickets"]] == [("gd", 2), ("zj", 1)]

    measures = {m["key"]: m for m in body["measures"]}
    # tickets handled in October: T1 (a reply returned first: not resolved at once; T2 never answered)
    # → 0 / 1 = 0 %, against ≥ 85 %: misses. The complaints' own flags (D1 one-time) do not count.
    one_time = measures["one_time_resolution_rate"]
    assert (one_time["numerator"], one_time["denominator"], one_time["rate"], one_time["meets_target"]) == (0, 1, 0.0, False)
    # its trend: no ticket handled May–August, T0 at once in September (1 / 1), then 0 / 1
    assert [(p["period"], p["rate"]) for p in one_time["trend"]] == [
        ("2026-05", None), ("2026-06", None), ("2026-07", None), ("2026-08", None), ("2026-09", 1.0), ("2026-10", 0.0)]
    # received in October: 20; repeats: L2 → 1 / 20 = 5 %, against ≤ 5 %: meets
    repeat = measures["repeat_complaint_rate"]
    assert (repeat["numerator"], repeat["denominator"], repeat["meets_target"]) == (1, 20, True)
    # tickets due in October: T1 in time, T2 never answered → 1 / 2; raised: T1, T2, T2 escalated → 1 / 2
    assert (measures["ticket_timely_reply_rate"]["numerator"], measures["ticket_timely_reply_rate"]["denominator"]) == (1, 2)
    assert measures["escalation_rate"]["rate"] == 0.5 and measures["escalation_rate"]["meets_target"] is False
    # judgements sent in October: 3; invalid appeals: L1's → 1 / 3
    assert (measures["invalid_appeal_rate"]["numerator"], measures["invalid_appeal_rate"]["denominator"]) == (1, 3)


async def test_the_report_as_csv_parses_and_carries_the_same_figures(stack: Stack) -> None:
    a_month_of_complaints(stack.read_model)
    by_param = await report(stack, format="csv")
    by_accept = await stack.http.get("/reports/monthly", params={"month": "2026-10"},
                                     headers={**auth("auditor"), "Accept": "text/csv"})
    assert by_param.status_code == 200 and by_param.headers["content-type"].startswith("text/csv")
    assert by_accept.text == by_param.text

    rows = list(csv.DictReader(io.StringIO(by_param.text)))
    def section(name: str) -> dict[str, dict[str, str]]:
        return {r["key"]: r for r in rows if r["section"] == name}

    assert section("complaints")["total"]["count"] == "20"
    assert {k: r["count"] for k, r in section("by_category").items()} == {
        "delay": "8", "loss_or_damage": "6", "staff_attitude": "3", "fee_dispute": "3"}
    assert section("hot_spot").keys() == {"delay", "loss_or_damage"}
    assert section("hot_spot")["delay"]["value"] == "0.4000"
    assert {k: r["count"] for k, r in section("at_fault_tickets").items()} == {"gd": "2", "zj": "1"}
    # every measure with six months of trend: 10 measures × 6 rows
    trend = [r for r in rows if r["section"] == "measure"]
    assert len(trend) == 60
    october = {r["key"]: r for r in trend if r["period"] == "2026-10"}
    assert (october["one_time_resolution_rate"]["numerator"], october["one_time_resolution_rate"]["denominator"],
            october["one_time_resolution_rate"]["value"], october["one_time_resolution_rate"]["meets_target"]) == (
        "0", "1", "0.0000", "false")
    may = {r["key"]: r for r in trend if r["period"] == "2026-05"}
    assert may["one_time_resolution_rate"]["value"] == "" and may["one_time_resolution_rate"]["meets_target"] == ""


async def test_the_printable_report_has_charts_and_an_empty_state(stack: Stack) -> None:
    a_month_of_complaints(stack.read_model)
    page = await report(stack, format="html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<svg" in html
    for chart in ("by-category", "by-unit", "by-channel", "at-fault", "measures", "trend-one_time_resolution_rate"):
        assert f'data-chart="{chart}"' in html
    assert 'id="complaints-total">20<' in html
    assert 'data-label="Loss or damage" data-value="6 (30.0 %)"' in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing loads from elsewhere

    # September: X9 only, and no judgement became final: the at-fault section says so
    september = (await report(stack, "2026-09", format="html")).text
    assert 'id="complaints-total">1<' in september
    assert "No ticket's judgement became final at fault this month." in september

    # a browser asks for HTML: the page, and it takes the token in the address (for the session cookie)
    browser = await stack.http.get("/reports/monthly", params={"month": "2026-10", "token": TOKENS["director"]},
                                   headers={"Accept": "text/html,application/xhtml+xml"}, follow_redirects=True)
    assert browser.status_code == 200 and "<svg" in browser.text


async def test_who_may_read_the_report_and_a_bad_month(stack: Stack) -> None:
    refused = await report(stack, role="front_seat")
    assert refused.status_code == 403 and "read measures" in refused.json()["detail"]
    assert (await report(stack, role="front_seat", format="html")).status_code == 403
    assert (await stack.http.get("/reports/monthly", params={"month": "2026-10"})).status_code == 401
    # the JSON and CSV answers take a bearer header only; the token in the address is for the page
    assert (await stack.http.get("/reports/monthly", params={"month": "2026-10", "token": TOKENS["auditor"]})).status_code == 401
    for month in ("2026-13", "October", "2026"):
        bad = await report(stack, month)
        assert bad.status_code == 422, month
        assert bad.json()["detail"][0]["loc"] == ["query", "month"]
    assert (await report(stack, format="pdf")).status_code == 422
