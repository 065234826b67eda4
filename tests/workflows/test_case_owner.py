"""A case's owner (交接班) is workflow state: the seat that takes the case into handling owns it, a
hand-over moves it, and it survives continue-as-new (ComplaintCarryOver.owner), on the
time-skipping server. The case is the customer-clock tests' delay complaint (received Monday 09:00,
led by gd), filed to continue as new after 50 history events: left without progress updates for
two working days, its missed intervals grow the history past that."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError

from rules.actors import Actor, Role
from tests.waiting import eventually
from tests.workflows.test_continue_as_new import current_details
from tests.workflows.test_clocks import filing, start
from tests.workflows.test_customer_clocks import AGENT, CareDesk, desk, until  # noqa: F401 (fixture)
from tests.workflows.test_dispatches import skip_to
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import HandOverCase, TakeIntoHandling

EVENING = Actor(id="gd-evening", name="Zhou Yu (evening seat)", role=Role.REGIONAL_CS, unit="gd")


async def test_the_owner_moves_at_hand_over_and_survives_continue_as_new(desk: CareDesk) -> None:
    await skip_to(desk.env, desk.at(0, 9))
    f = filing(desk.at(0, 9)).model_copy(update={"continue_as_new_after_events": 50})
    handle = await start(desk.env, f, desk.queue)
    with pytest.raises(WorkflowUpdateFailedError):  # nobody has taken it yet: nothing to hand over
        await handle.execute_update(ComplaintWorkflow.hand_over, HandOverCase(actor=AGENT, to=EVENING))

    taken = await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    assert taken.owner == AGENT
    handed = await handle.execute_update(ComplaintWorkflow.hand_over, HandOverCase(actor=AGENT, to=EVENING, note="call at 17:00"))
    assert handed.owner == EVENING
    assert "owned by seat gd-evening of gd" in await current_details(handle)  # the Web UI's current details
    await until(desk.env, lambda: getattr(desk.read_model.complaints.find(f.complaint_id), "owner_id", None) == EVENING.id)

    first_run = (await handle.describe()).run_id
    await skip_to(desk.env, desk.at(2, 9))  # two working days of missed progress updates

    async def new_run() -> str | None:
        run = (await handle.describe()).run_id
        return run if run != first_run else None

    await eventually(desk.env, new_run, "the complaint never continued as new")
    assert (await handle.query(ComplaintWorkflow.state)).owner == EVENING  # carried into the new run
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ComplaintWorkflow.hand_over, HandOverCase(actor=AGENT, to=EVENING))
    assert "seat gd-evening owns the complaint already" in str(refused.value.cause)
    back = await handle.execute_update(ComplaintWorkflow.hand_over, HandOverCase(actor=EVENING, to=AGENT))
    assert back.owner == AGENT
    row = desk.read_model.complaints.find(f.complaint_id)
    assert row is not None and (row.owner_id, row.owner_unit) == (AGENT.id, "gd")
