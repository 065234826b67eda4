"""The timelines the API shows: a complaint's or a contact's (who acted, by name) and a dispatch's or
a judgement's (the same shape without the name)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class TimelineEvent(BaseModel):
    seq: int
    at: datetime
    actor_id: str
    actor_name: str
    actor_role: str
    actor_unit: str
    action: str
    from_status: str | None
    to_status: str
    detail: Any


class DispatchEventView(BaseModel):
    seq: int
    at: datetime
    actor_id: str
    actor_role: str
    actor_unit: str
    action: str
    from_status: str | None
    to_status: str
    detail: Any
