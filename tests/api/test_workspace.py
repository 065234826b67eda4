"""The workspace at HTTP level, on the Temporal dev server: My work's order, filters, paging and
working-time countdown; the forms a role sees on a case; CSRF; a refused step showing the API's own
status and reason; a form submitted twice taking its step once (a step, and a filing)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from sqlmodel import Session

from readmodel.tables import ComplaintRow
from rules.calendar import WorkingCalendar
from rules.policy import PolicyFile
from settings import ROOT
from tests.conftest import Stack, auth
from tests.factories import complaint_body, urgent_body
from tests.readmodel.test_dashboard import an_open_desk, clock, with_clocks
from tests.waiting import eventually

POLICY = PolicyFile(ROOT / "policies" / "express_carrier.yaml").current()


def ids(page: httpx.Response) -> list[str]:
    return re.findall(r'<tr data-id="([^"]+)"', page.text)


def csrf_and_key(page: httpx.Response, step: str) -> dict[str, str]:
    """The hidden fields of the form of `step` on a page."""
    form = re.search(rf'<form class="step" method="post" action="[^"]*" data-step="{step}".*?</form>', page.text, re.S)
    assert form is not None, f"no {step} form on the page"
    return dict(re.findall(r'<input type="hidden" name="(csrf|form_key)" value="([^"]+)">', form.group(0)))


def steps_shown(page: httpx.Response) -> list[str]:
    return re.findall(r'data-step="([^"]+)"', page.text)


async def filed(stack: Stack, **body: object) -> str:
    answer = await stack.http.post("/complaints", json=complaint_body(**body), headers=auth("front_seat"))
    assert answer.status_code == 201, answer.text
    return answer.json()["complaint_id"]


async def test_my_work_lists_overdue_first_then_high_priority_then_soonest_due_and_pages(stack: Stack) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    an_open_desk(stack.read_model, now)  # O1–O7 led by the call centre; O6 closed
    vip = {"name": "Gao Min", "phone": "13911112222", "tier": "vip"}  # a VIP tier is high priority (DOMAIN §3)
    with_clocks(stack.read_model, "V1", now, [clock("solution", now + timedelta(hours=20))], complainant=vip)
    with_clocks(stack.read_model, "V2", now, [clock("first_contact", now - timedelta(minutes=10),
                                                    overdue=now - timedelta(minutes=10))], complainant=vip)

    # O2's solution clock has had its warning before the breach (the policy's `warnings`, as the workflow writes it)
    with Session(stack.read_model.engine) as session:
        row = session.get(ComplaintRow, "O2")
        assert row is not None
        row.clocks = [{**c, "warnings": [{"fraction": 0.75, "at": c["due"], "at_local": "", "notify": "supervisor",
                                          "warned_at": now.isoformat(), "told": True}]} if c["name"] == "solution" else c
                      for c in row.clocks]
        session.add(row)
        session.commit()

    page = await stack.http.get("/workspace", headers=auth("front_seat"))

    assert page.status_code == 200, page.text
    # overdue first: V2 (high, missed 10 min ago), O3 (missed 90 min ago), O7 (5 min past due, not yet marked);
    # then high priority V1 (+20 h); then the soonest due: O1 (+30 min), O2 (+3 h), O4 (+2 days); O5 (no clock) last.
    # O6 is closed; the tickets E1–E3 are addressed to gd and zj, not to the call centre.
    assert ids(page) == ["V2", "O3", "O7", "V1", "O1", "O2", "O4", "O5"]
    assert re.search(r'<tr data-id="O3" data-kind="complaint" class="overdue">', page.text)
    assert re.search(r'<tr data-id="O2" data-kind="complaint" class="due-soon">', page.text)  # warned: marked
    # four a page: the same order cut in pages of 4
    first = await stack.http.get("/workspace?page_size=4", headers=auth("front_seat"))
    second = await stack.http.get("/workspace?page_size=4&page=2", headers=auth("front_seat"))
    assert ids(first) == ["V2", "O3", "O7", "V1"] and ids(second) == ["O1", "O2", "O4", "O5"]
    assert "page 2 of 2" in second.text
    # filters: O2 is the one loss-or-damage case; all are general, level 2, in handling
    only = await stack.http.get("/workspace?category=loss_or_damage", headers=auth("front_seat"))
    assert ids(only) == ["O2"]
    assert ids(await stack.http.get("/workspace?urgency=urgent", headers=auth("front_seat"))) == []
    assert len(ids(await stack.http.get("/workspace?status=in_handling&level=2", headers=auth("front_seat")))) == 8
    assert (await stack.http.get("/workspace?category=nonsense", headers=auth("front_seat"))).status_code == 422


async def test_a_clock_counts_down_in_working_time_on_the_calendar_of_the_unit_that_owes_it(stack: Stack) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    _, spec = POLICY.calendar_of("call-centre")
    # due after 1 h 20 min (and 30 s, so the page's later reading still floors to 80 min) of the call
    # centre's working time from now, wherever now falls in its 08:00–18:00
    due = WorkingCalendar(spec).deadline(now, timedelta(minutes=80, seconds=30))
    with_clocks(stack.read_model, "W1", now, [clock("first_contact", due)])

    page = await stack.http.get("/workspace", headers=auth("front_seat"))

    shown = due.astimezone(ZoneInfo(spec.time_zone)).strftime("%a %H:%M")
    assert f"due in 1 h 20 min of working time, {shown}" in page.text


async def test_a_station_sees_its_dispatch_and_the_forms_follow_the_case(stack: Stack) -> None:
    cid = await filed(stack)
    case = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("front_seat"))
    # classified: first contact, answered at once, taking into handling, a progress update (open), a
    # pause of the running clocks; no resolution yet, no dispatch (only in handling), no supervisor's
    # closing or merge for a front seat
    assert steps_shown(case) == ["record_first_contact", "answer_at_first_contact", "take_into_handling",
                                 "record_progress_update", "pause"]
    fields = csrf_and_key(case, "take_into_handling")
    taken = await stack.http.post(f"/workspace/complaints/{cid}/take_into_handling", data=fields,
                                  headers=auth("front_seat"))
    assert taken.status_code == 200 and "Done: Take into handling" in taken.text
    assert "dispatch" in steps_shown(taken) and "resolve" in steps_shown(taken)
    raised = await stack.http.post(f"/workspace/complaints/{cid}/dispatch", headers=auth("front_seat"), data={
        **csrf_and_key(taken, "dispatch"), "kind": "direct_dispatch", "unit": "gd-gz-tianhe",
        "instruction": "check the last scan"})
    assert raised.status_code == 200, raised.text
    did = re.search(r"(dispatch-\S+) raised", raised.text).group(1)  # type: ignore[union-attr]

    inbox = await stack.http.get("/workspace", headers=auth("production_unit"))  # Tianhe station
    assert ids(inbox) == [did]

    async def clock_started() -> bool:  # the dispatch's own first task starts its clock: then it may be paused
        return (await stack.http.get(f"/dispatches/{did}", headers=auth("auditor"))).json()["due"] is not None

    await eventually(stack.env, clock_started, f"{did}'s clock never started")
    station_case = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("production_unit"))
    assert steps_shown(station_case) == ["reply", "pause"]  # the station answers, or pauses its clock
    other = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("xihu_station"))
    assert steps_shown(other) == []  # addressed to Tianhe, not to Xihu


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(stack: Stack) -> None:
    cid = await filed(stack)
    refused = await stack.http.post(f"/workspace/complaints/{cid}/take_into_handling", data={"form_key": "x" * 20},
                                    headers=auth("front_seat"))
    forged = await stack.http.post(f"/workspace/complaints/{cid}/take_into_handling",
                                   data={"csrf": "0" * 64, "form_key": "x" * 20}, headers=auth("front_seat"))
    assert (refused.status_code, forged.status_code) == (403, 403)
    assert "CSRF" in refused.text
    detail = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
    assert detail["status"] == "classified"
    assert "take_into_handling" not in [e["action"] for e in detail["timeline"]]


async def test_a_refused_step_shows_the_apis_status_and_reason(stack: Stack) -> None:
    cid = await filed(stack)
    case = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("front_seat"))
    fields = csrf_and_key(case, "take_into_handling")  # any form of the page carries the page's token
    # the resolve form is not shown while the case is classified; posted anyway, the workflow refuses it
    page = await stack.http.post(f"/workspace/complaints/{cid}/resolve", data={**fields, "solution": "redelivered"},
                                 headers=auth("front_seat"))
    api = await stack.http.post(f"/complaints/{cid}/resolution", json={"solution": "redelivered"},
                                headers=auth("front_seat"))
    assert (page.status_code, api.status_code) == (409, 409)
    assert f"Refused: {api.json()['detail']}" in page.text.replace("&#39;", "'")
    # an invalid body: the API's 422 names the field, and so does the page
    blank = await stack.http.post(f"/workspace/complaints/{cid}/answer_at_first_contact", data={**fields, "answer": ""},
                                  headers=auth("front_seat"))
    assert blank.status_code == 422 and "Refused: answer: String should have at least 1 character" in blank.text


async def test_a_form_submitted_twice_takes_its_step_once(stack: Stack) -> None:
    cid = await filed(stack)
    case = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("front_seat"))
    form = {**csrf_and_key(case, "record_progress_update"), "message": "the parcel is at the depot", "medium": "sms"}

    first = await stack.http.post(f"/workspace/complaints/{cid}/record_progress_update", data=form,
                                  headers=auth("front_seat"))
    again = await stack.http.post(f"/workspace/complaints/{cid}/record_progress_update", data=form,
                                  headers=auth("front_seat"))

    assert (first.status_code, again.status_code) == (200, 200)
    timeline = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()["timeline"]
    assert [e["action"] for e in timeline].count("record_progress_update") == 1
    # a fresh form (a new key) is a new update
    fresh = {**form, **csrf_and_key(again, "record_progress_update")}
    await stack.http.post(f"/workspace/complaints/{cid}/record_progress_update", data=fresh, headers=auth("front_seat"))
    timeline = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()["timeline"]
    assert [e["action"] for e in timeline].count("record_progress_update") == 2


async def test_filing_from_the_form_warns_of_a_duplicate_first_and_files_once(stack: Stack) -> None:
    intake = await stack.http.get("/workspace/intake", headers=auth("front_seat"))
    fields = dict(re.findall(r'<input type="hidden" name="(csrf|form_key)" value="([^"]+)">', intake.text))
    form = {**fields, "channel": "hotline", "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "complainant.name": "Li Na", "complainant.phone": "13800138000", "complainant.tier": "standard",
            "tracking_number": "EX7000000001CN", "category": "delay", "nature": "complaint",
            "description": "The parcel has not moved for three days."}

    # the page loads its own script (suggestions as the agent types), and that script's fetch wants the token too
    assert "script-src 'self'" in intake.headers["Content-Security-Policy"]
    typed = {"description": form["description"], "category": "delay"}
    assert (await stack.http.post("/workspace/intake/suggestions", data=typed, headers=auth("front_seat"))).status_code == 403
    suggested = await stack.http.post("/workspace/intake/suggestions", data={**typed, "csrf": fields["csrf"]},
                                      headers=auth("front_seat"))
    assert suggested.status_code == 200 and "No solved case shares these words." in suggested.text  # none closed yet

    first = await stack.http.post("/workspace/intake", data={**form, "step": "file"}, headers=auth("front_seat"))
    again = await stack.http.post("/workspace/intake", data={**form, "step": "file"}, headers=auth("front_seat"))

    assert first.status_code == again.status_code == 200, first.text
    cid = re.search(r"Filed (C\w+)", first.text).group(1)  # type: ignore[union-attr]
    assert f"Filed {cid}" in again.text and "nothing filed twice" in again.text
    listed = (await stack.http.get("/complaints", headers=auth("auditor"))).json()
    assert listed["total"] == 1
    # the same customer, parcel and category on a new form: warned before it is filed, not filed yet
    other = await stack.http.get("/workspace/intake", headers=auth("front_seat"))
    fresh = {**form, **dict(re.findall(r'<input type="hidden" name="(csrf|form_key)" value="([^"]+)">', other.text))}
    warned = await stack.http.post("/workspace/intake", data={**fresh, "step": "file"}, headers=auth("front_seat"))
    assert 'id="duplicate-warning"' in warned.text and cid in warned.text and "File anyway" in warned.text
    assert (await stack.http.get("/complaints", headers=auth("auditor"))).json()["total"] == 1
    joined = await stack.http.post("/workspace/intake", data={**fresh, "step": "file", "confirmed": "yes"},
                                   headers=auth("front_seat"))
    assert f"same complaint as the open case {cid}" in joined.text
    assert (await stack.http.get("/complaints", headers=auth("auditor"))).json()["total"] == 1


async def test_the_case_page_reveals_one_field_audited(stack: Stack) -> None:
    cid = await filed(stack)
    case = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("front_seat"))
    assert "138******00" in case.text and "13800138000" not in case.text  # masked (GB/T 41833)
    token = csrf_and_key(case, "take_into_handling")["csrf"]
    shown = await stack.http.post(f"/workspace/complaints/{cid}/reveal", headers=auth("front_seat"),
                                  data={"csrf": token, "field": "complainant.phone", "reason": "calling back"})
    assert shown.status_code == 200 and "complainant.phone: 13800138000" in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    audit = (await stack.http.get("/audit", headers=auth("auditor"))).json()["items"]
    assert [(a["action"], a["what"], a["case_id"], a["reason"]) for a in audit] == [
        ("reveal", "complainant.phone", cid, "calling back")]


async def test_an_urgent_ticket_waits_in_the_urgent_groups_work_until_reviewed_then_in_the_offices(stack: Stack) -> None:
    answer = await stack.http.post("/complaints", json=urgent_body(), headers=auth("front_seat"))  # a passport: urgent
    cid = answer.json()["complaint_id"]
    case = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("front_seat"))
    taken = await stack.http.post(f"/workspace/complaints/{cid}/take_into_handling",
                                  data=csrf_and_key(case, "take_into_handling"), headers=auth("front_seat"))
    raised = await stack.http.post(f"/workspace/complaints/{cid}/ticket", headers=auth("front_seat"), data={
        **csrf_and_key(taken, "ticket"), "assisting_unit": "gd", "instruction": "find the parcel", "priority": ""})
    did = re.search(r"(dispatch-\S+) raised", raised.text).group(1)  # type: ignore[union-attr]

    # an urgent complaint's ticket is urgent: the urgent-item group reviews it first (DOMAIN §4)
    group = await stack.http.get("/workspace", headers=auth("urgent_group"))
    assert ids(group) == [did] and f'<tr data-id="{did}" data-kind="review"' in group.text
    assert ids(await stack.http.get("/workspace", headers=auth("regional_cs"))) == []  # not the office's yet
    reviewing = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("urgent_group"))
    assert steps_shown(reviewing) == ["review"]
    reviewed = await stack.http.post(f"/workspace/dispatches/{did}/review", headers=auth("urgent_group"), data={
        **csrf_and_key(reviewing, "review"), "confirm": "true", "reason": "a passport, the flight is on Friday"})
    assert reviewed.status_code == 200 and "Done: Urgent review" in reviewed.text

    office = await stack.http.get("/workspace", headers=auth("regional_cs"))  # Guangdong customer service
    assert ids(office) == [did] and "of working time" in office.text  # on the office's calendar
    assert re.search(rf'<tr data-id="{did}" data-kind="dispatch"[^>]*>.*?<span class="tag high">high</span>', office.text, re.S)
    assert ids(await stack.http.get("/workspace", headers=auth("urgent_group"))) == []


async def test_the_judgement_waits_on_the_lead_office_then_on_the_responsible_office(stack: Stack) -> None:
    cid = await filed(stack)
    page = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("front_seat"))

    async def take(role: str, on: str, target: str, name: str, **fields: str) -> httpx.Response:
        nonlocal page
        page = await stack.http.post(f"/workspace/{on}/{target}/{name}", headers=auth(role),
                                     data={**csrf_and_key(page, name), **fields})
        assert page.status_code == 200 and 'id="refusal"' not in page.text, page.text
        return page

    await take("front_seat", "complaints", cid, "take_into_handling")
    raised = await take("front_seat", "complaints", cid, "ticket", assisting_unit="gd-gz", instruction="find it")
    did = re.search(r"(dispatch-\S+) raised", raised.text).group(1)  # type: ignore[union-attr]
    page = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("regional_cs"))  # Guangdong, above gd-gz
    await take("regional_cs", "dispatches", did, "reply", finding="快递员周一漏派", failing_link="courier")
    page = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("front_seat"))
    await take("front_seat", "complaints", cid, "resolve", solution="redelivered on Tuesday")
    await take("front_seat", "complaints", cid, "confirm_with_customer", message="told by text", medium="sms")
    await take("front_seat", "complaints", cid, "record_callback", satisfied="true", customer_words="fine")

    # closed with an answered ticket: a judgement, a draft the lead office (the call centre) sends (DOMAIN §7)
    async def judgement_listed(role: str) -> list[str]:
        return re.findall(r'<tr data-id="(judgement-[^"]+)" data-kind="judgement"', (
            await stack.http.get("/workspace", headers=auth(role))).text)

    [jid] = await eventually(stack.env, lambda: judgement_listed("front_seat"), f"no judgement of {cid} in My work")
    page = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("front_seat"))
    assert [s for s in steps_shown(page) if s in ("draft", "send", "accept", "appeal")] == ["draft", "send"]
    await take("front_seat", "judgements", jid, "send", note="the courier missed it")
    assert await judgement_listed("front_seat") == []
    # now the responsible office's: Guangdong, the province of the answering unit
    assert await judgement_listed("regional_cs") == [jid]
    page = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("regional_cs"))
    assert [s for s in steps_shown(page) if s in ("draft", "send", "accept", "appeal")] == ["accept", "appeal"]


async def test_pause_and_resume_then_merge_and_split_through_the_forms(stack: Stack) -> None:
    cid, other = await filed(stack), await filed(stack)
    page = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("front_seat"))
    # the reasons are the policy's (pauses.complaint), each with its maximum
    assert '<option value="waiting_for_customer">waiting for customer (at most 16 working hours)</option>' in page.text
    paused = await stack.http.post(f"/workspace/complaints/{cid}/pause", headers=auth("front_seat"), data={
        **csrf_and_key(page, "pause"), "reason": "waiting_for_customer", "note": "a photo of the label"})
    assert paused.status_code == 200 and "Done: Pause the customer clocks" in paused.text
    assert "resume" in steps_shown(paused) and "pause" not in steps_shown(paused)
    assert 'data-state="paused"' in paused.text
    resumed = await stack.http.post(f"/workspace/complaints/{cid}/resume", headers=auth("front_seat"),
                                    data=csrf_and_key(paused, "resume"))
    assert "pause" in steps_shown(resumed) and "resume" not in steps_shown(resumed)

    page = await stack.http.get(f"/workspace/complaints/{cid}", headers=auth("supervisor"))
    merged = await stack.http.post(f"/workspace/complaints/{cid}/merge", headers=auth("supervisor"), data={
        **csrf_and_key(page, "merge"), "into": other, "reason": "the same parcel, called in twice"})
    assert merged.status_code == 200, merged.text
    assert (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()["status"] == "merged"
    assert steps_shown(merged) == ["split"]  # a merged complaint takes no other step
    assert cid not in ids(await stack.http.get("/workspace", headers=auth("supervisor")))  # not open to steps
    split = await stack.http.post(f"/workspace/complaints/{cid}/split", headers=auth("supervisor"),
                                  data={**csrf_and_key(merged, "split"), "reason": "two parcels after all"})
    assert split.status_code == 200 and "merge" in steps_shown(split)
    # merging into itself: the API's 422 naming `into`, shown on the page
    itself = await stack.http.post(f"/workspace/complaints/{cid}/merge", headers=auth("supervisor"), data={
        **csrf_and_key(split, "merge"), "into": cid, "reason": "by mistake"})
    assert itself.status_code == 422 and "Refused: into: a complaint cannot be merged into itself" in itself.text
