"""The measures management steers by (DOMAIN §8): what each counts, and how a figure compares with
its target. The counting itself is aggregate SQL in readmodel/measures.py; this module says what
is counted, so a reader asking "what is the one-time resolution rate" opens one file.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from rules.intake import YEARS


class Better(StrEnum):
    HIGHER = "higher"  # a target is a floor: ≥ 90 %
    LOWER = "lower"  # a target is a ceiling: 0 % escalations


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    label_zh: str
    numerator: str
    denominator: str
    better: Better
    counted_when: str  # which instant puts an item into a period


MEASURES: dict[str, Measure] = {m.key: m for m in (
    Measure("ticket_timely_reply_rate", "Ticket 48-hour timely-reply rate", "工单48小时及时回复率",
            "tickets answered by their due instant (20 working hours)",
            "tickets due, those cancelled or closed unanswered after their due instant included", Better.HIGHER,
            "the ticket's due instant (tickets not yet due are not counted)"),
    Measure("one_time_resolution_rate", "One-time resolution rate", "一次解决率",
            "tickets (协查工单) whose reply was accepted with no redispatch and no returned reply",
            "tickets handled (each ticket once: a redispatch is the same ticket again)", Better.HIGHER,
            "the ticket's reply"),
    Measure("escalation_rate", "Escalation rate", "升级率",
            "tickets whose escalation ladder was climbed", "tickets raised", Better.LOWER, "raising"),
    Measure("direct_dispatch_timely_rate", "Direct-dispatch 2-hour timely rate", "直派调度2小时及时率",
            "direct dispatches answered by their due instant", "direct dispatches due (as for tickets)", Better.HIGHER,
            "the due instant"),
    Measure("linked_dispatch_timely_rate", "Linked-dispatch 4-hour timely rate", "关联调度4小时及时率",
            "linked dispatches answered by their due instant", "linked dispatches due (as for tickets)", Better.HIGHER,
            "the due instant"),
    Measure("return_rate", "Return rate", "退回率", "replies returned (退回)", "replies", Better.LOWER, "the reply"),
    Measure("invalid_appeal_rate", "Invalid-appeal rate", "无效申诉率",
            "appeals decided as at fault", "judgements initially at fault", Better.LOWER, "the judgement's sending"),
    Measure("handling_timely_rate", "Handling timely rate", "处理及时率",
            "closed complaints that missed no customer clock",
            "closed complaints, and open ones that have already missed a customer clock", Better.HIGHER,
            "closing; an open complaint that already missed a clock: its receipt"),
    Measure("satisfaction_rate", "Satisfaction", "满意率",
            "satisfied call-backs", "call-backs", Better.HIGHER, "the call-back"),
    Measure("repeat_complaint_rate", "Repeat-complaint rate", "重复投诉率",
            "complaints of a customer or parcel whose earlier case was closed", "complaints received", Better.LOWER,
            "receipt"),
)}

GROUPINGS = ("office", "unit", "category", "channel")


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    """A day (2026-10-05), an ISO week (2026-W41) or a month (2026-10) on the organisation's clock."""

    kind: PeriodKind
    first_day: date
    next_first_day: date
    label: str

    @classmethod
    def parse(cls, kind: PeriodKind | str, value: str) -> Period:
        """The period written so; ValueError for anything else, or for one outside the desk's YEARS."""
        try:
            period = cls._parse(PeriodKind(kind), value)
        except (ValueError, OverflowError):  # OverflowError: a year past what a date holds
            raise ValueError(f"not a {kind}: {value!r}") from None
        if period.first_day.year not in YEARS:
            raise ValueError(f"{value!r} lies outside the years {YEARS[0]}–{YEARS[-1]}")
        return period

    @classmethod
    def _parse(cls, kind: PeriodKind, value: str) -> Period:
        if kind is PeriodKind.DAY:
            day = date.fromisoformat(value)
            return cls(kind, day, day + timedelta(days=1), day.isoformat())
        if kind is PeriodKind.WEEK:
            year, _, week = value.partition("-W")
            monday = date.fromisocalendar(int(year), int(week), 1)
            return cls(kind, monday, monday + timedelta(days=7), f"{int(year)}-W{int(week):02d}")
        year, _, month = value.partition("-")
        first = date(int(year), int(month), 1)
        return cls(kind, first, _add_months(first, 1), f"{first:%Y-%m}")

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as instants: midnight to midnight on the organisation's clock."""
        return datetime.combine(self.first_day, time(0), zone), datetime.combine(self.next_first_day, time(0), zone)

    def previous(self, count: int) -> list[Period]:
        """This period and the `count - 1` before it, oldest first (the trend of a report)."""
        periods: list[Period] = [self]
        for _ in range(count - 1):
            last = periods[0]
            if self.kind is PeriodKind.MONTH:
                first = _add_months(last.first_day, -1)
                periods.insert(0, Period(self.kind, first, last.first_day, f"{first:%Y-%m}"))
            else:
                step = timedelta(days=1 if self.kind is PeriodKind.DAY else 7)
                first = last.first_day - step
                label = first.isoformat() if self.kind is PeriodKind.DAY else f"{first.isocalendar()[0]}-W{first.isocalendar()[1]:02d}"
                periods.insert(0, Period(self.kind, first, last.first_day, label))
        return periods


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Figure:
    """One measure for one group: the counts, the rate and how it stands against the target."""

    numerator: int
    denominator: int
    target: float | None
    better: Better

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None  # nothing to measure

    @property
    def meets_target(self) -> bool | None:
        if self.rate is None or self.target is None:
            return None
        return self.rate >= self.target if self.better is Better.HIGHER else self.rate <= self.target


def share_above(counts: dict[str, int], bound: float) -> list[str]:
    """The keys holding more than `bound` of the total (a month's hot spots: categories above 15 %)."""
    total = sum(counts.values())
    return sorted((k for k, n in counts.items() if total and n / total > bound), key=lambda k: -counts[k])
