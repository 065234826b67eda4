"""The kernel every case kind shares (complaints, dispatches, judgements, contacts): the message
base classes, the system actor and the search attributes the Web UI filters on.

Pure pydantic models, no I/O: safe to import inside the workflow sandbox.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from temporalio.common import SearchAttributeKey

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

