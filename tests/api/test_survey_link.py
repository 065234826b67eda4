"""The satisfaction call-back by survey link (DOMAIN §5, rules/survey.py) through the HTTP API, on the
time-skipping server with a real worker and the SMS gateway stand-in: a handler has the link texted,
the customer answers on the page, the answer is the case's call-back (4 or 5 closes, 1–3 reopens by
the policy's `callback_survey.satisfied_ratings`), and a link is refused once used, once expired,
once its case moved on, and when its signature does not hold.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx

from rules.policy import load_policy
from settings import ROOT
from tests.api.test_complaint_lifecycle import act, file
from tests.conftest import Stack, auth
from tests.factories import complaint_body
from tests.notifications.receivers import SmsGateway
from tests.waiting import eventually
from tests.workflows.test_dispatches import desk

__all__ = ["desk"]  # the fixture: a time-skipping server of its own, a worker and the SMS gateway

POLICY = load_policy(ROOT / "policies" / "express_carrier.yaml")
PHONE = complaint_body()["complainant"]["phone"]
NAME = complaint_body()["complainant"]["name"]


async def confirmed_case(stack: Stack) -> str:
    """A complaint resolved and confirmed in writing: its call-back is owed."""
    cid = (await file(stack))["complaint_id"]
    await act(stack, cid, "handling", {"note": "asked the Tianhe station"})
    await act(stack, cid, "resolution", {"solution": "delivered today by a dedicated courier"})
    await act(stack, cid, "customer-confirmation", {"message": "Your parcel was delivered", "medium": "sms"})
    return cid


async def send_survey(stack: Stack, cid: str) -> httpx.Response:
    return await stack.http.post(f"/complaints/{cid}/callback-survey", headers=auth("front_seat"))


async def texted_link(stack: Stack, gateway: SmsGateway, cid: str, nth: int = 1) -> str:
    """The path of the survey link in the nth survey text the customer's phone got for the case."""
    async def texts() -> list[str]:
        found = [m["text"] for m in gateway.texts_to(PHONE) if cid in m["text"] and "/survey/" in m["text"]]
        return found if len(found) >= nth else []

    text = (await eventually(stack.env, texts, "the survey text never reached the phone"))[nth - 1]
    [url] = re.findall(r"https?://\S+", text)
    words = text.replace(url, "")  # the link's signature is random base64 and may spell anything
    assert NAME not in words and "Li" not in words  # the text names the case, never the customer
    assert url.startswith(f"{stack.settings.survey_url}/survey/")
    return url.removeprefix(stack.settings.survey_url)


async def surveyed_case(stack: Stack, gateway: SmsGateway) -> tuple[str, str]:
    """A confirmed case whose customer was texted a survey link: its id and the link's path."""
    cid = await confirmed_case(stack)
    assert (await send_survey(stack, cid)).status_code == 201
    return cid, await texted_link(stack, gateway, cid)


async def answer(stack: Stack, path: str, rating: str, comment: str = "") -> httpx.Response:
    return await stack.http.post(path, data={"rating": rating, "comment": comment})


async def dashboard_figures(stack: Stack) -> dict[str, str]:
    page = await stack.http.get("/dashboard", headers=auth("supervisor"))
    assert page.status_code == 200, page.text
    return dict(re.findall(r'id="(surveys-[a-z]+)">([^<]*)<', page.text))


async def complaint(stack: Stack, cid: str) -> dict:
    resp = await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_a_customer_rates_5_by_the_texted_link_and_the_case_closes_as_satisfied(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    cid = await confirmed_case(stack)

    sent = await send_survey(stack, cid)
    assert sent.status_code == 201, sent.text
    survey = sent.json()
    assert survey["handling_round"] == 0
    # good for the policy's callback_survey.link_hours (48) from the sending
    hours = POLICY.callback_survey.link_hours
    assert (datetime.fromisoformat(survey["expires_at"]) - datetime.fromisoformat(survey["sent_at"])
            == timedelta(hours=hours))
    path = await texted_link(stack, gateway, cid)
    assert survey["link_id"] in path and "token" not in sent.text

    page = await stack.http.get(path)
    assert page.status_code == 200
    assert 'name="rating"' in page.text and cid in page.text and NAME not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]

    assert await dashboard_figures(stack) == {"surveys-waiting": "1", "surveys-answered": "0",
                                              "surveys-satisfied": "0 satisfied"}
    done = await answer(stack, path, "5", "Quick and polite, thank you")
    assert done.status_code == 200, done.text
    assert "5 of 5" in done.text
    # the supervisors' dashboard counts today's answer, satisfied, and no link waiting any more
    assert await dashboard_figures(stack) == {"surveys-waiting": "0", "surveys-answered": "1",
                                              "surveys-satisfied": "1 satisfied"}

    detail = await complaint(stack, cid)
    assert detail["status"] == "closed"  # 5 is in satisfied_ratings [4, 5]: the satisfied call-back closes
    actions = [e["action"] for e in detail["timeline"]]
    assert actions[-2:] == ["send_callback_survey", "record_satisfied_callback"]
    callback = detail["timeline"][-1]
    assert callback["actor_id"] == "customer-survey"
    assert callback["detail"].items() >= {"via": "survey_link", "rating": 5, "link_id": survey["link_id"],
                                          "customer_words": "Quick and polite, thank you", "satisfied": True}.items()
    assert "/survey/" not in str(detail)  # the link itself is in no answer of the API
    [shown] = detail["callback_surveys"]
    assert (shown["rating"], shown["satisfied"], shown["outcome"]) == (5, True, "recorded")

    # A second use of the link is refused, on the form and on the page.
    again = await answer(stack, path, "1", "changed my mind")
    assert again.status_code == 410
    assert "has been used" in again.text
    assert (await stack.http.get(path)).status_code == 410
    assert (await complaint(stack, cid))["timeline"][-1]["action"] == "record_satisfied_callback"


async def test_a_rating_of_3_reopens_the_case_and_the_old_link_is_refused_in_the_next_round(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    cid, path = await surveyed_case(stack, gateway)

    done = await answer(stack, path, "3")
    assert done.status_code == 200, done.text
    detail = await complaint(stack, cid)
    # 3 is not in satisfied_ratings [4, 5]: a dissatisfied call-back, which reopens (round 0 → 1)
    assert (detail["status"], detail["handling_round"], detail["one_time_resolution"]) == ("in_handling", 1, False)
    assert detail["timeline"][-1]["action"] == "record_dissatisfied_callback"
    assert detail["timeline"][-1]["detail"]["customer_words"] == "rated 3 of 5 on the survey page"

    # Handled again and confirmed: the round-0 link cannot answer for round 1; a new one can.
    await act(stack, cid, "resolution", {"solution": "compensation of 200 CNY paid"})
    await act(stack, cid, "customer-confirmation", {"message": "Compensation paid", "medium": "sms"})
    stale = await stack.http.get(path)
    assert stale.status_code == 410
    assert "has been used" in stale.text
    second = await send_survey(stack, cid)
    assert second.json()["handling_round"] == 1
    new_path = await texted_link(stack, gateway, cid, nth=2)
    assert (await answer(stack, new_path, "4")).status_code == 200
    assert (await complaint(stack, cid))["status"] == "closed"  # 4 counts as satisfied


async def test_a_link_sent_before_the_case_was_reopened_by_phone_is_refused(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    cid, path = await surveyed_case(stack, gateway)
    # The agent reaches the customer by phone first: dissatisfied, reopened.
    await act(stack, cid, "callback", {"satisfied": False, "customer_words": "still broken"})

    page = await stack.http.get(path)
    assert page.status_code == 410
    assert "reopened" in page.text
    refused = await answer(stack, path, "5")
    assert refused.status_code == 410
    assert (await complaint(stack, cid))["status"] == "in_handling"  # the link changed nothing


async def test_a_link_for_a_case_already_called_back_and_closed_is_refused(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    cid, path = await surveyed_case(stack, gateway)
    await act(stack, cid, "callback", {"satisfied": True, "customer_words": "all good"})

    async def closed() -> bool:
        return (await complaint(stack, cid))["status"] == "closed"

    await eventually(stack.env, closed, "the case never closed")
    page = await stack.http.get(path)
    assert page.status_code == 410 and "closed" in page.text
    assert (await answer(stack, path, "5")).status_code == 410
    again = await send_survey(stack, cid)  # no link for a closed case either
    assert again.status_code == 409 and again.json()["current_status"] == "closed"
    assert len((await complaint(stack, cid))["callback_surveys"]) == 1


async def test_an_expired_link_is_refused_by_the_case_on_its_own_clock(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    cid = await confirmed_case(stack)
    sent = (await send_survey(stack, cid)).json()
    path = await texted_link(stack, gateway, cid)
    # The link is good until sent_at + 48 h on the case's clock: skip the time-skipping server past it.
    expires = datetime.fromisoformat(sent["expires_at"])
    await stack.env.sleep(expires - await stack.env.get_current_time() + timedelta(minutes=1))

    refused = await answer(stack, path, "5")
    assert refused.status_code == 410
    assert "expired" in refused.text
    detail = await complaint(stack, cid)
    assert detail["status"] == "confirmed"  # still waiting for its call-back: the answer changed nothing
    assert detail["callback_surveys"][0]["outcome"] == "this link has expired"
    assert "expired" in (await stack.http.get(path)).text  # and says so again


async def test_a_link_whose_signature_does_not_hold_is_refused(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    cid, path = await surveyed_case(stack, gateway)
    link_id, signature = path.removeprefix("/survey/").split(".")
    other = "A" if signature[0] != "A" else "B"
    for forged in (f"{link_id}.{other}{signature[1:]}",  # the signature altered
                   f"{other}{link_id[1:]}.{signature}",  # another link id under this signature
                   f"{link_id}.{signature[:-1]}",  # cut short
                   "not-a-link"):
        page = await stack.http.get(f"/survey/{forged}")
        assert page.status_code == 404, forged
        assert "not valid" in page.text
        assert (await answer(stack, f"/survey/{forged}", "5")).status_code == 404
    assert (await complaint(stack, cid))["status"] == "confirmed"


async def test_a_survey_is_sent_only_while_the_call_back_is_owed(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    cid = (await file(stack))["complaint_id"]
    await act(stack, cid, "handling", {"note": "asked the Tianhe station"})
    await act(stack, cid, "resolution", {"solution": "delivered today"})
    early = await send_survey(stack, cid)  # resolved, but the written confirmation has not gone out
    assert early.status_code == 409
    assert "written confirmation" in early.json()["detail"]
    assert (await complaint(stack, cid))["callback_surveys"] == []  # no link left behind
    assert (await stack.http.post("/complaints/NOPE/callback-survey", headers=auth("front_seat"))).status_code == 404
    assert (await stack.http.post(f"/complaints/{cid}/callback-survey", headers=auth("auditor"))).status_code == 403


async def test_a_rating_outside_1_to_5_is_refused_naming_the_field(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    cid, path = await surveyed_case(stack, gateway)
    for rating in ("0", "6", "", "five"):
        refused = await answer(stack, path, rating, "kept")
        assert refused.status_code == 422, rating
        assert "rating: choose one of 1 to 5" in refused.text and "kept" in refused.text
    assert (await stack.http.get(path)).status_code == 200  # the link still takes its one answer
