"""The measures' figures (DOMAIN §8) as /measures, the monthly report and the dashboard show them:
every measure of a period per group, the one figure for the whole organisation, a chart of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from api.charts import Bar, bar_chart, percent
from readmodel import measures as sql
from readmodel.store import ReadModel
from rules.measures import MEASURES, Better, Figure, Period
from rules.policy import Policy


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


class OverallFigure(BaseModel):
    """A measure for the whole organisation in one period, against its target."""

    key: str
    label: str
    label_zh: str
    target: float | None
    better: Better
    numerator: int
    denominator: int
    rate: float | None  # None: nothing to measure in the period
    meets_target: bool | None


def organisation_zone(policy: Policy) -> ZoneInfo:
    """Periods run midnight to midnight on the head office's clock."""
    top = policy.units[policy.org_chart.top()]
    return ZoneInfo(policy.calendars[top.calendar].time_zone)


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
                office = policy.org_chart.office_of(unit) if unit else unit
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


def only_group(measure: MeasureFigures) -> dict[str, Any]:
    """The counts of a measure counted ungrouped (its one group), zero when nothing was counted."""
    group = measure.groups[0] if measure.groups else None
    if group is None:
        return {"numerator": 0, "denominator": 0, "rate": None, "meets_target": None}
    return {"numerator": group.numerator, "denominator": group.denominator, "rate": group.rate,
            "meets_target": group.meets_target}


def overall(measure: MeasureFigures) -> OverallFigure:
    """The one figure of a measure counted for the whole organisation (not grouped)."""
    return OverallFigure(key=measure.key, label=measure.label, label_zh=measure.label_zh, target=measure.target,
                         better=measure.better, **only_group(measure))


def category_label(policy: Policy, code: str) -> str:
    found = policy.category(code)
    return found.label if found else code  # a category since removed from the policy keeps its code


def measure_chart(name: str, title: str, measures: Sequence[OverallFigure]) -> Any:
    """Each measure's rate as a bar on a 0–100 % scale, its target across it; green meets, red misses."""
    def tone(meets: bool | None) -> str:
        return "none" if meets is None else "good" if meets else "bad"

    return bar_chart(name, title, [Bar(m.label, m.rate or 0.0, percent(m.rate), tone(m.meets_target), m.target)
                                   for m in measures], scale=1.0)
