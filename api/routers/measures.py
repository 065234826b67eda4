"""/measures: every measure of DOMAIN §8 for a day, week or month, per office, unit, category or
channel, against the policy's targets, each figure explainable down to the items it counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.dependencies import ServicesDep, require
from api.figures import MeasureFigures, figures, organisation_zone
from readmodel import measures as sql
from rules.actors import Actor, Permission
from rules.intake import YEARS
from rules.measures import GROUPINGS, Period, PeriodKind

router = APIRouter(prefix="/measures", tags=["measures"])

Reader = Annotated[Actor, Depends(require(Permission.READ_MEASURES))]
PeriodQuery = Annotated[PeriodKind, Query(description="day, week or month")]
AtQuery = Annotated[str, Query(description="2026-10-05, 2026-W41 or 2026-10, matching the period")]
GroupQuery = Annotated[str | None, Query(description=f"one of {', '.join(GROUPINGS)}; none for the whole organisation")]


class MeasuresAnswer(BaseModel):
    period: str
    start: datetime
    end: datetime
    group_by: str | None
    measures: list[MeasureFigures]


class MeasureItem(BaseModel):
    id: str
    complaint_id: str
    at: datetime
    in_numerator: bool


class MeasureItems(BaseModel):
    measure: str
    period: str
    group: str | None
    numerator: int
    denominator: int
    items: list[MeasureItem]  # the denominator's items (up to `limit`), each marked if it hits


def parse_period(kind: PeriodKind, value: str, name: str = "at") -> Period:
    """The period a query parameter names, else a 422 naming it."""
    try:
        return Period.parse(kind, value)
    except ValueError:
        example = {"day": "2026-10-05", "week": "2026-W41", "month": "2026-10"}[kind.value]
        years = f"{YEARS[0]}–{YEARS[-1]}"
        raise HTTPException(422, [{"type": "value_error", "loc": ["query", name], "input": value,
                                   "msg": f"a {kind.value} like {example}, in the years {years}"}]) from None


def check_grouping(group_by: str | None) -> None:
    if group_by is not None and group_by not in GROUPINGS:
        raise HTTPException(422, [{"loc": ["query", "group_by"], "msg": f"one of {', '.join(GROUPINGS)}", "input": group_by}])


@router.get("", response_model=MeasuresAnswer)
async def get_measures(
    services: ServicesDep, actor: Reader, period: PeriodQuery, at: AtQuery, group_by: GroupQuery = None,
) -> Any:
    check_grouping(group_by)
    chosen = parse_period(period, at)
    policy = services.policy
    start, end = chosen.bounds(organisation_zone(policy))
    found = await run_in_threadpool(figures, services.read_model, policy, chosen, group_by, datetime.now(UTC))
    return MeasuresAnswer(period=chosen.label, start=start, end=end, group_by=group_by, measures=found)


@router.get("/{measure}/items", response_model=MeasureItems)
async def explain_measure(
    measure: str, services: ServicesDep, actor: Reader, period: PeriodQuery, at: AtQuery,
    group_by: GroupQuery = None, group: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> Any:
    """The items counted in a figure's denominator, each marked whether it is in the numerator."""
    if measure not in sql.COUNTINGS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no measure {measure}; one of {', '.join(sql.COUNTINGS)}")
    check_grouping(group_by)
    if group_by == "office":
        raise HTTPException(422, [{"loc": ["query", "group_by"], "msg": "list items per unit; an office is its units",
                                   "input": group_by}])
    chosen = parse_period(period, at)
    start, end = chosen.bounds(organisation_zone(services.policy))
    items, total = await run_in_threadpool(
        sql.members, services.read_model.engine, measure, start, end, datetime.now(UTC), group_by, group, limit)
    hits = sum(1 for i in items if i["in_numerator"])
    if total > len(items):  # the listing is cut: count the numerator in the database
        counted = sql.counts(services.read_model.engine, measure, start, end, datetime.now(UTC), group_by)
        hits = counted.get(group if group_by else None, (0, 0))[0]
    return MeasureItems(measure=measure, period=chosen.label, group=group, numerator=hits, denominator=total,
                        items=[MeasureItem(**i) for i in items])
