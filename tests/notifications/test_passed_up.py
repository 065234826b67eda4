"""A notice is never dropped for want of a recipient (DOMAIN §6 "Who takes a notice"): a unit with
nobody in the role passes it up the org chart, and past head office to the policy's catch-all
(head-office customer-service duty). The notify activity runs on a real worker on the
time-skipping server and texts a real HTTP gateway; the outbox row says who took the notice and
from which unit it was passed up."""

from __future__ import annotations

import logging

import pytest
from temporalio.testing import WorkflowEnvironment

from notifications.directory import Directory, RoleHolder
from notifications.messages import NotifyResult
from readmodel.outbox import Outbox
from readmodel.store import ReadModel
from rules.actors import Role
from rules.policy import Policy, load_policy
from settings import ROOT
from tests.notifications.conftest import GD_DIRECTOR, GD_DIRECTOR_DEPUTY, GD_VICE_PRESIDENT
from tests.notifications.receivers import SmsGateway
from tests.notifications.test_sms import (
    activity_attempts,
    escalation,
    new_case,
    notify_worker,
    sms_activities,
    start_notify,
)
from notifications.senders import SmsGatewaySender

GZ_DIRECTOR = RoleHolder(id="gz-director-he", name="何静", role=Role.DIRECTOR, unit="gd-gz", phone="+8613800000009")
HQ_CS_DUTY = RoleHolder(id="hq-cs-duty", name="总部客服值班", role=Role.HEAD_OFFICE_CS, unit="hq-cs", phone="+8610950000")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policies" / "express_carrier.yaml")


@pytest.fixture
def chart_directory(policy: Policy) -> Directory:
    """Guangdong's two directors and its vice-president, Guangzhou's director, head-office CS duty;
    the shipped org chart and its catch-all (head_office_cs in hq-cs)."""
    catch_all = policy.directory_catch_all
    assert catch_all is not None and (catch_all.role, catch_all.unit) == (Role.HEAD_OFFICE_CS, "hq-cs")
    return Directory(
        [GD_DIRECTOR, GD_DIRECTOR_DEPUTY, GD_VICE_PRESIDENT, GZ_DIRECTOR, HQ_CS_DUTY],
        policy.org_chart,
        (catch_all.role, catch_all.unit),
    )


async def test_a_unit_with_no_vice_president_passes_the_notice_up_once_through_a_retry(
    time_env: WorkflowEnvironment,
    read_model: ReadModel,
    gateway: SmsGateway,
    chart_directory: Directory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    gateway.script = [503]  # the first attempt's text is refused: the activity retries
    activities = sms_activities(read_model, chart_directory, SmsGatewaySender(gateway.url, timeout=5))
    case_id = new_case()
    # Guangzhou city has no vice-president: its parent, Guangdong, has one (赵敏).
    request = escalation(case_id, Role.VICE_PRESIDENT, unit="gd-gz")
    async with notify_worker(time_env, activities) as task_queue:
        handle = await start_notify(time_env, task_queue, request)
        result: NotifyResult = await handle.result()
        again: NotifyResult = await (await start_notify(time_env, task_queue, request)).result()

    [row] = Outbox(read_model.engine).list_for_case(case_id)
    assert (row.recipient_id, row.recipient_role, row.recipient_unit, row.passed_up_from) == (
        GD_VICE_PRESIDENT.id, "vice_president", "gd", "gd-gz",
    )  # fmt: skip
    assert (row.status, row.attempts) == ("delivered", 2)
    [outcome] = result.messages
    assert (outcome.recipient_id, outcome.recipient_unit, outcome.passed_up_from) == (GD_VICE_PRESIDENT.id, "gd", "gd-gz")
    assert await activity_attempts(handle) == [2]
    # Exactly once, counted on the wire and on the phone: refused, then taken; the second notify sent nothing.
    assert [(r.idempotency_key, r.status) for r in gateway.requests] == [(row.id, 503), (row.id, 201)]
    assert len(gateway.texts_to(GD_VICE_PRESIDENT.phone)) == 1
    assert again.already_delivered == [row.id] and len(gateway.requests) == 2
    # The log says from where to where, with ids and units only.
    assert "passed up to gd" in caplog.text and "gd-gz" in caplog.text
    assert GD_VICE_PRESIDENT.phone not in caplog.text and GD_VICE_PRESIDENT.name not in caplog.text  # type: ignore[operator]


async def test_nobody_up_to_head_office_sends_the_notice_to_the_catch_all(
    time_env: WorkflowEnvironment, read_model: ReadModel, gateway: SmsGateway, chart_directory: Directory
) -> None:
    activities = sms_activities(read_model, chart_directory, SmsGatewaySender(gateway.url, timeout=5))
    case_id = new_case()
    # Xihu station → Hangzhou → Zhejiang → head office: no vice-president on the way.
    async with notify_worker(time_env, activities) as task_queue:
        handle = await start_notify(time_env, task_queue, escalation(case_id, Role.VICE_PRESIDENT, unit="zj-hz-xihu"))
        result: NotifyResult = await handle.result()

    [row] = Outbox(read_model.engine).list_for_case(case_id)
    assert (row.recipient_id, row.recipient_role, row.recipient_unit, row.passed_up_from, row.status) == (
        HQ_CS_DUTY.id, "head_office_cs", "hq-cs", "zj-hz-xihu", "delivered",
    )  # fmt: skip
    assert result.delivered == [row.id]
    assert await activity_attempts(handle) == [1]
    assert [m["text"] for m in gateway.texts_to(HQ_CS_DUTY.phone)] == [row.body]
    assert len(gateway.requests) == 1


async def test_a_notice_to_the_level_above_skips_the_units_own_holder(
    time_env: WorkflowEnvironment, read_model: ReadModel, gateway: SmsGateway, chart_directory: Directory
) -> None:
    activities = sms_activities(read_model, chart_directory, SmsGatewaySender(gateway.url, timeout=5))
    case_id = new_case()
    # A missed clock of Guangzhou city: the level above is Guangdong, whose two directors hear of it;
    # Guangzhou's own director does not.
    request = escalation(case_id, Role.DIRECTOR, step="first_contact-overdue", unit="gd-gz", level_above=True)
    async with notify_worker(time_env, activities) as task_queue:
        await (await start_notify(time_env, task_queue, request)).result()

    rows = Outbox(read_model.engine).list_for_case(case_id)
    assert sorted((r.recipient_id, r.recipient_unit, r.passed_up_from) for r in rows) == sorted(
        [(GD_DIRECTOR.id, "gd", None), (GD_DIRECTOR_DEPUTY.id, "gd", None)]
    )
    assert len(gateway.texts_to(GD_DIRECTOR.phone)) == len(gateway.texts_to(GD_DIRECTOR_DEPUTY.phone)) == 1
    assert gateway.requests_to(GZ_DIRECTOR.phone) == []
