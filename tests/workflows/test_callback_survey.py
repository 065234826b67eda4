"""The call-back by survey link in the complaint workflow (DOMAIN §5): a link sent stays answerable
across continue-as-new (ComplaintCarryOver.callback_surveys), the case's current details in the Web
UI say it awaits the customer, and a link of a round since reopened is refused by the workflow itself
(its validator), whatever the read model says. On the time-skipping server, with the SMS gateway."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from rules.actors import Actor, Role
from tests.conftest import Stack
from tests.notifications.receivers import SmsGateway
from tests.workflows.test_clocks import AGENT, filing, start
from tests.workflows.test_continue_as_new import current_details, new_run
from tests.workflows.test_dispatches import desk  # noqa: F401 (fixture)
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import ConfirmWithCustomer, RecordCallback, Resolve, SendCallbackSurvey, TakeIntoHandling

CUSTOMER = Actor(id="customer-survey", name="the customer, by survey link", role=Role.CUSTOMER, unit="gd")


def survey(link_id: str) -> SendCallbackSurvey:
    return SendCallbackSurvey(actor=AGENT, link_id=link_id, url=f"http://desk.example/survey/{link_id}.sig",
                              link_hours=48)


def answer(link_id: str, rating: int, satisfied: bool) -> RecordCallback:
    return RecordCallback(actor=CUSTOMER, satisfied=satisfied, customer_words=f"rated {rating}", survey_link=link_id,
                          rating=rating)


async def test_a_link_sent_before_continue_as_new_is_answered_in_the_next_run(desk: tuple[Stack, SmsGateway]) -> None:
    stack, gateway = desk
    f = filing(await stack.env.get_current_time()).model_copy(update={"continue_as_new_after_events": 50})
    handle = await start(stack.env, f, stack.settings.temporal_task_queue)
    first_run = (await handle.describe()).run_id
    await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    await handle.execute_update(ComplaintWorkflow.resolve, Resolve(actor=AGENT, solution="redelivered"))
    await handle.execute_update(ComplaintWorkflow.confirm_with_customer, ConfirmWithCustomer(
        actor=AGENT, message="done", medium="sms"))
    sent = await handle.execute_update(ComplaintWorkflow.send_callback_survey, survey("link-sent-in-run-one"))
    assert sent.expires_at - sent.sent_at == timedelta(hours=48)
    assert "survey link awaiting the customer's answer until" in await current_details(handle)
    # The same request again sends nothing twice: one text per link (the outbox step names the link).
    assert await handle.execute_update(ComplaintWorkflow.send_callback_survey, survey("link-sent-in-run-one")) == sent
    for n in range(4):  # resends grow the history past 50 events: the case continues as new between them
        await handle.execute_update(ComplaintWorkflow.send_callback_survey, survey(f"link-resent-in-run-{n}"))
    await new_run(stack, handle, first_run)

    closed = await handle.execute_update(ComplaintWorkflow.record_callback, answer("link-sent-in-run-one", 5, True))
    assert closed.status == "closed"  # the first run's link, carried over, took the answer
    assert len([m for m in gateway.handset if "link-sent-in-run-one" in m["text"]]) == 1


async def test_the_workflow_refuses_a_link_of_a_round_since_reopened(desk: tuple[Stack, SmsGateway]) -> None:
    stack, _ = desk
    handle = await start(stack.env, filing(await stack.env.get_current_time()), stack.settings.temporal_task_queue)
    await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))

    async def resolved_and_confirmed() -> None:
        await handle.execute_update(ComplaintWorkflow.resolve, Resolve(actor=AGENT, solution="redelivered"))
        await handle.execute_update(ComplaintWorkflow.confirm_with_customer, ConfirmWithCustomer(
            actor=AGENT, message="done", medium="sms"))

    await resolved_and_confirmed()
    await handle.execute_update(ComplaintWorkflow.send_callback_survey, survey("round-zero-survey-link"))
    # The agent's phone call comes first: dissatisfied, round 0 → 1; handled again and confirmed.
    await handle.execute_update(ComplaintWorkflow.record_callback, RecordCallback(
        actor=AGENT, satisfied=False, customer_words="still broken"))
    await resolved_and_confirmed()

    # Round 1 is confirmed and owes its call-back; the round-0 link cannot give it.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ComplaintWorkflow.record_callback, answer("round-zero-survey-link", 5, True))
    assert "can no longer be answered" in str(refused.value.cause)
    assert (await handle.query(ComplaintWorkflow.state)).status == "confirmed"
