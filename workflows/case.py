"""The kernel every case kind shares (complaints, dispatches, judgements, contacts): the message
base classes, the system actor, the search attributes the Web UI filters on, how a step is refused
and how a workflow change is asked for.

Pure pydantic models and sandbox-safe calls, no I/O: safe to import inside the workflow sandbox.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, NoReturn

from pydantic import BaseModel, ConfigDict, Field
from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError

from rules.actors import Actor


class CaseSearch:
    """Typed search attributes on every complaint workflow (no personal data: they are not encrypted)."""

    COMPLAINT_ID = SearchAttributeKey.for_keyword("ComplaintId")
    STATUS = SearchAttributeKey.for_keyword("ComplaintStatus")
    CATEGORY = SearchAttributeKey.for_keyword("Category")
    URGENCY = SearchAttributeKey.for_keyword("Urgency")
    LEVEL = SearchAttributeKey.for_int("Level")
    CHANNEL = SearchAttributeKey.for_keyword("Channel")
    TRACKING_NUMBER = SearchAttributeKey.for_keyword("TrackingNumber")

    ESCALATION_LEVEL = SearchAttributeKey.for_int("EscalationLevel")  # on dispatches: ladder step reached
    JUDGEMENT_STATUS = SearchAttributeKey.for_keyword("JudgementStatus")  # on judgements (DOMAIN §7)
    RESPONSIBLE_OFFICE = SearchAttributeKey.for_keyword("ResponsibleOffice")  # on judgements: the office at fault

    ALL = (COMPLAINT_ID, STATUS, CATEGORY, URGENCY, LEVEL, CHANNEL, TRACKING_NUMBER, ESCALATION_LEVEL,
           JUDGEMENT_STATUS, RESPONSIBLE_OFFICE)


Text = Annotated[str, Field(min_length=1, max_length=4000)]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ByActor(Message):
    actor: Actor


Medium = Annotated[str, Field(pattern=r"^(sms|email|letter|call|app)$")]


UnitId = Annotated[str, Field(min_length=1, max_length=60)]


SYSTEM_ACTOR = Actor(id="system", name="Complaint workflow", role="operations", unit="hq")



# The ApplicationError type of a refused step: the API answers it with 409 and the current status.
INVALID_TRANSITION = "InvalidTransition"


def refuse(reason: str, current_status: str) -> NoReturn:
    """Refuse a step the case cannot take now; from a validator nothing enters history."""
    raise ApplicationError(reason, {"current_status": current_status}, type=INVALID_TRANSITION, non_retryable=True)


def built_in(change: str, built_with: Collection[str]) -> bool:
    """A case started with the change has it from birth; an older one asks workflow.patched, which
    says yes from the point where this code first runs it (and on every replay after)."""
    return change in built_with or workflow.patched(change)
