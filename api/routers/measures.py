"""/measures: every measure of DOMAIN §8 for a day, week or month, per office, unit, category or
channel, against the policy's targets, each figure explainable down to the items it counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.dependencies import ServicesDep, require
from readmodel import measures as sql
from readmodel.store import ReadModel
from rules.actors import Actor, Permission
from rules.measures import GROUPINGS, MEASURES, Better, Figure, Period, PeriodKind
from rules.policy import Policy

router = APIRouter(prefix="/measures", tags=["measures"])

Reader = Annotated[Actor, Depends(require(Permission.READ_MEASURES))]
PeriodQuery = Annotated[PeriodKind, Query(description="day, week or month")]
AtQuery = Annotated[str, Query(description="2026-10-05, 2026-W41 or 2026-10, matching the period")]
GroupQuery = Annotated[str | None, Query(description=f"one of {', '.join(GROUPINGS)}; none for the whole organisation")]


class GroupFigure(BaseModel):
    group: str | None
    numerator: int
    denominator: int
    rate: float | None  # None: nothing to measure in this period
    meets_target: bool | None


class MeasureFigures(BaseModel):
    key: str
    label: str
    label_zh: str
    numerator: str
    denominator: str
    counted_when: str
    target: float | None
    better: Better
    groups: list[GroupFigure]


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


def organisation_zone(policy: Policy) -> ZoneInfo:
    """Periods run midnight to midnight on the head office's clock."""
    top = next(u for u in policy.units.values() if u.parent is None)
    return ZoneInfo(policy.calendars[top.calendar].time_zone)


def parse_period(kind: PeriodKind, at: str) -> Period:
    try:
        return Period.parse(kind, at)
    except ValueError:
        example = {"day": "2026-10-05", "week": "2026-W41", "month": "2026-10"}[kind.value]
        raise HTTPException(422, [{"loc": ["query", "at"], "msg": f"a {kind.value} like {example}", "input": at}]) from None


def check_grouping(group_by: str | None) -> None:
    if group_by is not None and group_by not in GROUPINGS:
        raise HTTPException(422, [{"loc": ["query", "group_by"], "msg": f"one of {', '.join(GROUPINGS)}", "input": group_by}])


def figures(read_model: ReadModel, policy: Policy, period: Period, group_by: str | None, now: datetime) -> list[MeasureFigures]:
    """Every measure of the period; units folded into their offices when grouped by office."""
    start, end = period.bounds(organisation_zone(policy))
    answer = []
    for key, measure in MEASURES.items():
        if key not in sql.COUNTINGS:
            continue  # counted from judgements once they are in the read model
        counted = sql.counts(read_model.engine, key, start, end, now, group_by)
        if group_by == "office":
            folded: dict[str | None, tuple[int, int]] = {}
            for unit, (hit, total) in counted.items():
                office = policy.office_of(unit) if unit else unit
                before = folded.get(office, (0, 0))
                folded[office] = (before[0] + hit, before[1] + total)
            counted = folded
        target = policy.targets.get(key)
        groups = []
        for group, (hit, total) in sorted(counted.items(), key=lambda kv: str(kv[0])):
            figure = Figure(hit, total, target, measure.better)
            groups.append(GroupFigure(group=group, numerator=hit, denominator=total, rate=figure.rate,
                                      meets_target=figure.meets_target))
        answer.append(MeasureFigures(
            key=key, label=measure.label, label_zh=measure.label_zh, numerator=measure.numerator,
            denominator=measure.denominator, counted_when=measure.counted_when, target=target,
            better=measure.better, groups=groups))
    return answer


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
