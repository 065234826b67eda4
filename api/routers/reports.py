"""/reports/monthly: the monthly report of DOMAIN §8 — the month's complaints by category, unit and
channel, its hot spots, the at-fault tickets per unit, and every measure against its target with
its trend over six months — as JSON, CSV or a printable page with charts."""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from api.charts import Bar, bar_chart, percent, trend_chart
from api.dependencies import ServicesDep, bearer_token, current_actor, require
from api.figures import OverallFigure, category_label, figures, measure_chart, only_group, organisation_zone, overall
from api.pages import PAGE_RESPONSES, local_time, page_actor, render
from api.routers.measures import parse_period
from readmodel import measures as sql
from readmodel.store import ReadModel
from rules.actors import Permission
from rules.measures import Period, PeriodKind, share_above
from rules.policy import Policy

router = APIRouter(prefix="/reports", tags=["reports"])

TREND_MONTHS = 6
Format = Literal["json", "csv", "html"]


class Count(BaseModel):
    key: str
    label: str
    count: int
    share: float  # of the month's complaints (at-fault tickets: of the month's at-fault tickets)


class TrendPoint(BaseModel):
    period: str
    numerator: int
    denominator: int
    rate: float | None  # None: nothing to measure that month
    meets_target: bool | None


class MeasureTrend(OverallFigure):
    trend: list[TrendPoint]  # the last six months, oldest first, ending with the report's month


class MonthlyReport(BaseModel):
    month: str
    start: datetime
    end: datetime
    organisation: str
    complaints: int
    by_category: list[Count]
    by_unit: list[Count]  # by lead office
    by_channel: list[Count]
    hot_spot_share: float  # a category above this share of the month is a hot spot
    hot_spots: list[Count]
    at_fault_tickets: list[Count]  # per unit at fault (the smallest named, else as sent), final at fault in the month
    measures: list[MeasureTrend]


TREND_THREADS = 3


def monthly_report(read_model: ReadModel, policy: Policy, month: Period, now: datetime) -> MonthlyReport:
    start, end = month.bounds(organisation_zone(policy))
    engine = read_model.engine

    def labelled(counts: dict[str, int], label: Any, total: int) -> list[Count]:
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [Count(key=k, label=label(k), count=n, share=n / total if total else 0.0) for k, n in ordered]

    def category(code: str) -> str:
        return category_label(policy, code)

    def unit(code: str) -> str:
        return policy.units[code].name if code in policy.units else code

    by_category = sql.complaint_counts(engine, start, end, "category")
    total = sum(by_category.values())
    categories = labelled(by_category, category, total)
    hot = share_above(by_category, policy.report.hot_spot_share)
    at_fault = sql.at_fault_tickets(engine, start, end)

    # The six months are independent reads: counted side by side (SQLite readers run in parallel under WAL).
    months = month.previous(TREND_MONTHS)
    with ThreadPoolExecutor(max_workers=TREND_THREADS) as pool:
        counted = list(pool.map(lambda p: figures(read_model, policy, p, None, now), months))
    trend = {p.label: {m.key: m for m in found} for p, found in zip(months, counted)}
    measures = []
    for key, this_month in trend[month.label].items():
        points = [TrendPoint(period=label, **only_group(found[key])) for label, found in trend.items()]
        measures.append(MeasureTrend(**overall(this_month).model_dump(), trend=points))
    return MonthlyReport(
        month=month.label, start=start, end=end, organisation=policy.organisation, complaints=total,
        by_category=categories,
        by_unit=labelled(sql.complaint_counts(engine, start, end, "unit"), unit, total),
        by_channel=labelled(sql.complaint_counts(engine, start, end, "channel"), str, total),
        hot_spot_share=policy.report.hot_spot_share,
        hot_spots=[c for k in hot for c in categories if c.key == k],
        at_fault_tickets=labelled(at_fault, unit, sum(at_fault.values())),
        measures=measures,
    )


CSV_COLUMNS = ("section", "key", "label", "period", "count", "numerator", "denominator", "value", "target", "meets_target")


def report_csv(report: MonthlyReport) -> str:
    """One table, a row per figure: `value` is the share of the month (counts) or the rate (measures)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerow({"section": "complaints", "key": "total", "label": "complaints received", "period": report.month,
                     "count": report.complaints})
    sections = (("by_category", report.by_category, None), ("by_unit", report.by_unit, None),
                ("by_channel", report.by_channel, None), ("hot_spot", report.hot_spots, report.hot_spot_share),
                ("at_fault_tickets", report.at_fault_tickets, None))
    for section, counts, bound in sections:
        for c in counts:
            writer.writerow({"section": section, "key": c.key, "label": c.label, "period": report.month,
                             "count": c.count, "value": f"{c.share:.4f}", "target": bound})
    for m in report.measures:
        for p in m.trend:
            writer.writerow({"section": "measure", "key": m.key, "label": m.label, "period": p.period,
                             "numerator": p.numerator, "denominator": p.denominator,
                             "value": "" if p.rate is None else f"{p.rate:.4f}", "target": m.target,
                             "meets_target": "" if p.meets_target is None else str(p.meets_target).lower()})
    return out.getvalue()


def report_charts(report: MonthlyReport) -> dict[str, Any]:
    """The SVG charts of the printable report."""
    hot = {c.key for c in report.hot_spots}

    def counts(name: str, title: str, rows: list[Count], hot_keys: frozenset[str] = frozenset()) -> Any:
        return bar_chart(name, title, [Bar(c.label, c.count, f"{c.count} ({percent(c.share)})",
                                           "hot" if c.key in hot_keys else "plain") for c in rows])

    return {
        "by_category": counts("by-category", "Complaints by category", report.by_category, frozenset(hot)),
        "by_unit": counts("by-unit", "Complaints by lead office", report.by_unit),
        "by_channel": counts("by-channel", "Complaints by channel", report.by_channel),
        "at_fault": counts("at-fault", "At-fault tickets by unit", report.at_fault_tickets),
        "measures": measure_chart("measures", f"Measures in {report.month} against target", report.measures),
        "trends": {m.key: trend_chart(f"trend-{m.key}", f"{m.label}, last {TREND_MONTHS} months",
                                      [(p.period, p.rate) for p in m.trend], m.target) for m in report.measures},
    }


def _chosen_format(format: Format | None, accept: str) -> Format:
    if format is not None:
        return format
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return "csv" if first == "text/csv" else "html" if first == "text/html" else "json"


@router.get("/monthly", response_model=MonthlyReport,
            responses={200: {"content": {"text/csv": {}, "text/html": {}}}, 303: PAGE_RESPONSES[303]})
async def get_monthly_report(
    request: Request, services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_token)],
    month: Annotated[str, Query(description="2026-10")],
    format: Annotated[Format | None, Query(description="json (default), csv or html; or ask by Accept")] = None,
) -> Any:
    """JSON by default; CSV with `format=csv` or `Accept: text/csv`; a printable page with charts with
    `format=html` (or `Accept: text/html`), which logs in as the other pages do (api/pages.py)."""
    chosen = _chosen_format(format, request.headers.get("accept", ""))
    if chosen == "html":
        actor = page_actor(request, services, Permission.READ_MEASURES)
        if isinstance(actor, Response):
            return actor
    else:
        require(Permission.READ_MEASURES)(current_actor(services, credentials), services)
    period = parse_period(PeriodKind.MONTH, month, "month")
    policy = services.policy
    report = await run_in_threadpool(monthly_report, services.read_model, policy, period, datetime.now(UTC))
    if chosen == "json":
        return report
    if chosen == "csv":
        return Response(report_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="monthly-report-{report.month}.csv"'})
    zone = organisation_zone(policy)
    return render(request, "report.html", {
        "report": report, "charts": report_charts(report), "actor": actor, "month": report.month,
        "start": local_time(report.start, zone, "%Y-%m-%d"), "end": local_time(report.end, zone, "%Y-%m-%d"),
        "printed": local_time(datetime.now(UTC), zone), "previous": period.previous(2)[0].label,
    })
