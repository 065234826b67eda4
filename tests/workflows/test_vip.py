"""VIP service (差异化服务, DOMAIN §5): a VIP customer's clocks are the policy's for their tier where
those are stricter, and a clock a VIP case misses is told to the VIP desk's supervisor as well, on
the time-skipping server with the instants on the Guangdong office's calendar (Mon–Fri 8–18).

Both cases are delay complaints, level 2, received on a plain week's Monday at 09:00, led by gd.
From policies/express_carrier.yaml: a delay's first contact is 120 working minutes (by_category),
the solution 4 working hours, a progress update every 2; `by_tier.vip` makes them 15 minutes, 2 hours
and 1 hour, and its written confirmation half an hour instead of 1.
"""

from __future__ import annotations

from datetime import timedelta

from rules.classification import classify
from rules.policy import load_policy
from tests.workflows.test_clocks import POLICY, filing, start
from tests.workflows.test_customer_clocks import (AGENT, CareDesk, clocks, desk, local, missed, notices,  # noqa: F401
                                                  until)
from tests.workflows.test_dispatches import skip_to
from workflows.complaint import ComplaintWorkflow
from workflows.complaint_messages import ComplaintFiling, Resolve, TakeIntoHandling, VipService

VIP_DESK = "call-centre-vip"
VIP_DESK_SUPERVISOR_PHONE = "+8610950006"  # vip-desk-supervisor-han in the policy's directory


def vip_filing(desk: CareDesk, tier: str) -> ComplaintFiling:
    """As intake files it: the tier on the complainant, classified again, a VIP served by the VIP desk."""
    f = filing(desk.at(0, 9))
    intake = f.intake.model_copy(update={"complainant": f.intake.complainant.model_copy(update={"tier": tier})})
    vip = VipService(queue="vip", desk=VIP_DESK) if tier == "vip" else None
    return f.model_copy(update={"intake": intake, "classification": classify(intake, load_policy(POLICY)), "vip": vip})


async def test_a_vip_case_owes_shorter_clocks_and_its_missed_first_contact_tells_the_vip_desk(desk: CareDesk) -> None:
    await skip_to(desk.env, desk.at(0, 9))
    vip = await start(desk.env, vip_filing(desk, "vip"), desk.queue)
    standard = await start(desk.env, vip_filing(desk, "standard"), desk.queue)
    await until(desk.env, lambda: all(desk.read_model.complaints.find(h.id.removeprefix("complaint-")) for h in (vip, standard)))

    opened_vip, opened_standard = await clocks(vip), await clocks(standard)
    assert local(opened_vip["first_contact"].due) == desk.at(0, 9, 15)  # 15 working minutes from 09:00
    assert local(opened_standard["first_contact"].due) == desk.at(0, 11)  # a delay's 120 minutes
    assert local(opened_vip["solution"].due) == desk.at(0, 11)  # 2 working hours from 09:00
    assert local(opened_standard["solution"].due) == desk.at(0, 13)  # 4

    # Nobody called the VIP back by 09:15: a missed clock, told to the level above gd and to the VIP desk.
    await skip_to(desk.env, desk.at(0, 9, 16))
    await until(desk.env, lambda: missed(desk, vip) == 1)
    vip_notices = [(n.role, n.unit) for n in notices(desk.read_model, vip)]
    above_gd = load_policy(POLICY).org_chart.parent_of("gd")  # the level above the lead unit on the chart
    assert ("supervisor", above_gd) in vip_notices and ("supervisor", VIP_DESK) in vip_notices
    await until(desk.env, lambda: len(desk.texts_to(VIP_DESK_SUPERVISOR_PHONE)) == 1)
    assert vip.id.removeprefix("complaint-") in desk.texts_to(VIP_DESK_SUPERVISOR_PHONE)[0]["text"]

    # Taken into handling at 09:20: the next progress update is owed 1 working hour later, not 2.
    await skip_to(desk.env, desk.at(0, 9, 20))
    for handle in (vip, standard):
        await handle.execute_update(ComplaintWorkflow.take_into_handling, TakeIntoHandling(actor=AGENT))
    assert local((await clocks(vip))["progress_update"].due) == desk.at(0, 10, 20)
    assert local((await clocks(standard))["progress_update"].due) == desk.at(0, 11, 20)

    # Resolved at 10:00: the written confirmation is owed in half an hour (the standard case's in one).
    await skip_to(desk.env, desk.at(0, 10))
    for handle in (vip, standard):
        await handle.execute_update(ComplaintWorkflow.resolve, Resolve(actor=AGENT, solution="Redelivered by courier"))
    assert local((await clocks(vip))["written_confirmation"].due) == desk.at(0, 10, 30)
    assert local((await clocks(standard))["written_confirmation"].due) == desk.at(0, 11)

    # The standard case's first contact, missed at 11:00, is no business of the VIP desk.
    await skip_to(desk.env, desk.at(0, 11) + timedelta(minutes=1))
    await until(desk.env, lambda: missed(desk, standard) >= 1)
    assert all(n.unit != VIP_DESK for n in notices(desk.read_model, standard))
    assert len(desk.texts_to(VIP_DESK_SUPERVISOR_PHONE)) == 2  # the VIP's written confirmation, missed at 10:30
