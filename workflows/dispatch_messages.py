"""The messages of a DispatchWorkflow (调度 / 工单, DOMAIN §4, §6): its order, the updates a unit or
the urgent-item group sends it, its view in the read model and what it tells its complaint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from rules.dispatch import DispatchKind, DispatchStatus, TicketPriority
from rules.escalation import LadderStep
from rules.reply_checks import Reply, ReplyCheckRules, ReplyOutcome
from workflows.case import ByActor, Message, Text
from rules.actors import Actor


def dispatch_workflow_id(complaint_id: str, n: int) -> str:
    return f"dispatch-{complaint_id}-{n}"


RECORD_DISPATCH_CHANGES_ACTIVITY = "record_dispatch_changes"


class DispatchOrder(Message):
    """The input of a DispatchWorkflow: resolved at raising time from the policy, so the workflow
    never reads the policy (the ladder it will climb is recorded in its history)."""

    dispatch_id: str  # = workflow id, dispatch-<complaint id>-<n>
    complaint_id: str
    kind: DispatchKind
    priority: TicketPriority = TicketPriority.NORMAL
    unit: str  # the unit that must act; its calendar runs the clock
    instruction: Text
    raised_by: Actor
    raised_at: datetime
    review_unit: str | None = None  # urgent tickets: the urgent-item group
    ladder: list[LadderStep]  # climbed once the dispatch is overdue
    confirm_notice: LadderStep | None = None  # urgent ticket confirmed: who is texted at once
    review_overdue_notice: LadderStep | None = None  # urgent review late: the group's head
    downgrade_ladder: list[LadderStep] | None = None  # urgent ticket downgraded: climbs this one instead
    reviewed: bool = False  # an urgent ticket already reviewed (a confirmed ticket's redispatch)
    parent_workflow_id: str
    replaces: str | None = None  # the dispatch this one redispatches
    reply_checks: ReplyCheckRules  # the policy's checks at raising time
    level: int | None = None  # the complaint's level: quiet hours never hold a level-1 case's notices (issue #16)
    # The workflow patches (workflows/dispatch.py DISPATCH_PATCHES) this dispatch was started with:
    # taken without asking workflow.patched (no marker, no version upsert); an older one asks.
    built_with: list[str] = []


class UrgentReview(Message):
    """The urgent-item group's review of an urgent ticket (it re-listens to the call)."""

    confirm: bool  # confirm → dispatch at once; downgrade → a normal ticket
    reason: Text


class RaiseDispatch(ByActor):
    """Raise a dispatch or open a ticket for a complaint; the API resolves the policy into it."""

    kind: DispatchKind
    priority: TicketPriority = TicketPriority.NORMAL
    unit: str
    instruction: Text
    review_unit: str | None = None
    ladder: list[LadderStep]
    confirm_notice: LadderStep | None = None
    review_overdue_notice: LadderStep | None = None
    downgrade_ladder: list[LadderStep] | None = None
    reply_checks: ReplyCheckRules


class ReviewUrgentTicket(UrgentReview, ByActor):
    pass


class ReplyToDispatch(ByActor):
    reply: Reply


class ReplyReturn(Message):
    """The reviewing office sends an accepted reply back by hand (退回), saying why."""

    reason: Text


class ReturnReply(ReplyReturn, ByActor):
    pass


class DispatchView(BaseModel):
    """A dispatch as the read model and the API show it."""

    dispatch_id: str
    complaint_id: str
    kind: DispatchKind
    priority: TicketPriority
    unit: str
    status: DispatchStatus
    instruction: str
    raised_by: str
    raised_at: datetime
    due: datetime | None = None
    due_local: str | None = None
    answered_at: datetime | None = None
    in_time: bool | None = None
    late_working_minutes: int | None = None
    returns: int = 0
    escalation_level: int = 0
    warn_at: datetime | None = None  # its first warning before the due instant: due soon from then (issue #16)
    warn_at_local: str | None = None
    # The clock's pause in force (rules/pauses.py): since when, why, when it ends by itself at the latest.
    paused_at: datetime | None = None
    pause_reason: str | None = None
    pause_ends_by: datetime | None = None
    pause_ends_by_local: str | None = None
    finding: str | None = None
    failing_link: str | None = None
    replaces: str | None = None


class DispatchEvent(Message):
    seq: int
    at: datetime
    actor: Actor
    action: str
    from_status: DispatchStatus | None
    to_status: DispatchStatus
    detail: dict[str, Any] = {}


class DispatchChange(Message):
    workflow_id: str
    event: DispatchEvent
    view: DispatchView


class ReplyAnswer(BaseModel):
    """What the replying unit is told: accepted, returned with the reason, or redispatched."""

    outcome: ReplyOutcome
    reason: str
    dispatch: DispatchView


class DispatchResult(BaseModel):
    """Sent to the complaint when a dispatch is answered or redispatched (and returned as the
    workflow's result); `reopened` when the reviewing office returned the answer by hand."""

    dispatch: DispatchView
    redispatch: bool = False
    reopened: bool = False


def opening_change(order: DispatchOrder, at: datetime) -> DispatchChange:
    """The dispatch's first row and event (seq 1, "raise"): written by the complaint that raises it,
    before the dispatch id is handed out, and again by the dispatch itself (the write is idempotent)."""
    urgent = order.kind is DispatchKind.TICKET and order.priority is TicketPriority.URGENT and not order.reviewed
    view = DispatchView(
        dispatch_id=order.dispatch_id, complaint_id=order.complaint_id, kind=order.kind, priority=order.priority,
        unit=order.unit, status=DispatchStatus.AWAITING_REVIEW if urgent else DispatchStatus.OPEN,
        instruction=order.instruction, raised_by=order.raised_by.id, raised_at=order.raised_at,
        replaces=order.replaces,
    )
    event = DispatchEvent(seq=1, at=at, actor=order.raised_by, action="raise", from_status=None,
                          to_status=view.status, detail={"instruction": order.instruction})
    return DispatchChange(workflow_id=order.dispatch_id, event=event, view=view)


def redispatch_order(old: DispatchOrder, view: DispatchView, dispatch_id: str, now: datetime) -> DispatchOrder:
    """重派: the same order again to the same unit, with a fresh clock. An urgent ticket's review is
    not repeated: a confirmed one stays urgent and reviewed (its director was texted already), a
    downgraded one is a normal ticket with the normal ladder (DOMAIN §4, §11)."""
    update: dict[str, Any] = {"dispatch_id": dispatch_id, "raised_at": now, "replaces": view.dispatch_id}
    if old.kind is DispatchKind.TICKET and old.priority is TicketPriority.URGENT:
        update.update(reviewed=True, confirm_notice=None, review_overdue_notice=None, review_unit=None)
        if view.priority is TicketPriority.NORMAL:
            update.update(priority=TicketPriority.NORMAL, ladder=old.downgrade_ladder or old.ladder,
                          downgrade_ladder=None)
    return old.model_copy(update=update)

