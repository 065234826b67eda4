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
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError

from rules.actors import Actor


class CaseSearch:
    """Typed search attributes of every case kind (no personal data: they are not encrypted).
    Registered names stay as they are (running cases and operators' saved queries use them): a
    new meaning gets a name beside the old one."""

    # The complaint's id, on the complaint and on its dispatches and judgement: one query finds them all.
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

    # On contacts (consultation, rescue request, new failure mode), which are not complaints; a contact
    # also carries ComplaintId and ComplaintStatus, as it did before these existed, for saved queries.
    CONTACT_ID = SearchAttributeKey.for_keyword("ContactId")
    CONTACT_STATUS = SearchAttributeKey.for_keyword("ContactStatus")

    ALL = (COMPLAINT_ID, STATUS, CATEGORY, URGENCY, LEVEL, CHANNEL, TRACKING_NUMBER, ESCALATION_LEVEL,
           JUDGEMENT_STATUS, RESPONSIBLE_OFFICE, CONTACT_ID, CONTACT_STATUS)


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


def case_of(complaint_id: str) -> TypedSearchAttributes:
    """What a complaint's dispatches and judgement start with: `ComplaintId = 'C…'` lists them all."""
    return TypedSearchAttributes([SearchAttributePair(CaseSearch.COMPLAINT_ID, complaint_id)])


def built_in(change: str, built_with: Collection[str]) -> bool:
    """A case started with the change has it from birth; an older one asks workflow.patched, which
    says yes from the point where this code first runs it (and on every replay after)."""
    return change in built_with or workflow.patched(change)


class Patches:
    """The changes one execution runs: each asked (`built_in`) once, at the first point it matters,
    then remembered, so the rest of the run branches the same way."""

    def __init__(self, built_with: Collection[str]) -> None:
        self._built_with = built_with
        self._asked: dict[str, bool] = {}

    def has(self, change: str) -> bool:
        if change not in self._asked:
            self._asked[change] = built_in(change, self._built_with)
        return self._asked[change]

    def known(self, change: str) -> bool:
        """Asked already and yes: for a validator, which must not ask (workflow.patched is a command)."""
        return self._asked.get(change, False)
