"""/calendars: agents preview a due instant on a unit's working calendar."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from activities.calendar import deadline_for
from api.dependencies import ServicesDep, require
from rules.actors import Actor, Permission
from rules.calendar import CheckWindowRule, WorkingHoursRule
from rules.intake import AwareDatetime
from workflows.deadlines import DeadlineRequest

router = APIRouter(prefix="/calendars", tags=["calendars"])


class DeadlinePreview(BaseModel):
    unit: str
    calendar: str
    time_zone: str
    start: datetime
    rule: str
    due: datetime
    due_local: str
    calendar_version: str


@router.get("/{unit}/deadline", response_model=DeadlinePreview)
def preview_deadline(
    unit: str,
    services: ServicesDep,
    _: Annotated[Actor, Depends(require(Permission.READ_COMPLAINTS))],
    start: Annotated[AwareDatetime, Query(description="with a zone offset (years 2000–2499), e.g. 2026-03-06T17:00:00+08:00")],
    hours: Annotated[float | None, Query(gt=0, le=10_000)] = None,
    rule: Literal["working_hours", "check_windows"] = "working_hours",
) -> DeadlinePreview:
    policy = services.policy
    if unit not in policy.units:
        raise HTTPException(404, f"no unit {unit}")
    if rule == "working_hours":
        if hours is None:
            raise HTTPException(422, [{"loc": ["query", "hours"], "msg": "required for working_hours", "input": None}])
        deadline_rule: WorkingHoursRule | CheckWindowRule = WorkingHoursRule(hours=hours)
    else:
        deadline_rule = CheckWindowRule()
    deadline = deadline_for(policy, DeadlineRequest(unit=unit, start=start, rule=deadline_rule))
    return DeadlinePreview(
        unit=unit,
        calendar=deadline.calendar,
        time_zone=policy.calendars[deadline.calendar].time_zone,
        start=start,
        rule=rule if rule == "check_windows" else f"{hours:g} working hours",
        due=deadline.due,
        due_local=deadline.due_local,
        calendar_version=deadline.calendar_version,
    )
