"""/dashboard: the supervisors' page — open complaints by their next due instant, the clocks already
overdue, the escalations in flight and today's measures against their targets, each case linked
into the Temporal Web UI. Plain server-rendered HTML (no script); log in as api/pages.py says."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from api.charts import Bar, bar_chart
from api.dependencies import Services, ServicesDep
from api.figures import category_label, figures, measure_chart, organisation_zone, overall
from api.pages import PAGE_RESPONSES, local_time, page_actor, render
from readmodel import dashboard
from rules.actors import Permission
from rules.measures import Period, PeriodKind
from workflows.complaint_messages import complaint_workflow_id

router = APIRouter(tags=["dashboard"])

LISTED = 50  # rows per table: high priority first, then the soonest due and the longest overdue


def time_left(due: datetime, now: datetime) -> str:
    """'in 1 h 05 min' or '2 h 10 min late', in wall-clock time."""
    seconds = (due - now).total_seconds()
    hours, minutes = divmod(int(abs(seconds) // 60), 60)  # whole minutes, as a clock on the wall shows them
    span = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
    return f"in {span}" if seconds >= 0 else f"{span} late"


def dashboard_context(services: Services, now: datetime) -> dict[str, Any]:
    policy, read_model = services.policy, services.read_model
    zone = organisation_zone(policy)
    engine = read_model.engine

    buckets = dashboard.open_by_due(engine, now)
    upcoming = []
    for row in dashboard.next_due(engine, LISTED):
        running = [c for c in row.clocks or [] if c.get("met_at") is None and c.get("overdue_at") is None]
        clock = min(running, key=lambda c: datetime.fromisoformat(c["due"]), default=None)
        upcoming.append({"id": row.id, "ui_url": services.web_ui_url(row.workflow_id),
                         "category": category_label(policy, row.category), "urgency": row.urgency,
                         "level": row.level, "status": row.status, "lead_unit": row.lead_unit, "priority": row.priority,
                         "queue": row.queue,
                         "clock": clock["label"] if clock else "", "due": local_time(row.next_due, zone),
                         "left": time_left(row.next_due, now) if row.next_due else ""})
    overdue = [{"id": c.complaint.id, "ui_url": services.web_ui_url(c.complaint.workflow_id), "clock": c.label,
                "unit": c.unit, "due": local_time(c.due, zone), "late": time_left(c.due, now),
                "marked": local_time(c.overdue_at, zone) if c.overdue_at else "not yet marked",
                "priority": c.complaint.priority}
               for c in dashboard.overdue_clocks(engine, now, LISTED)]
    due_soon = [{"id": d.case_id, "ui_url": services.web_ui_url(d.workflow_id), "complaint_id": d.complaint_id,
                 "clock": d.clock, "unit": d.unit, "warned": local_time(d.warned_from, zone),
                 "due": local_time(d.due, zone), "left": time_left(d.due, now), "priority": d.priority}
                for d in dashboard.due_soon(engine, now, LISTED)]
    escalations = [{"id": d.id, "ui_url": services.web_ui_url(d.id), "complaint_id": d.complaint_id,
                    "complaint_url": services.web_ui_url(complaint_workflow_id(d.complaint_id)), "kind": d.kind,
                    "unit": d.unit, "level": d.escalation_level, "due": local_time(d.due, zone),
                    "left": time_left(d.due, now) if d.due else ""}
                   for d in read_model.dispatches.matching(escalated_only=True, open_only=True, now=now)]
    # VIP service (差异化服务): the VIP queue's open cases and how many of them are overdue.
    vip_queue = policy.vip_service.queue if policy.vip_service else None
    vip = dashboard.open_by_due(engine, now, queue=vip_queue) if vip_queue else None
    today = Period.parse(PeriodKind.DAY, now.astimezone(zone).date().isoformat())
    measures = [overall(m) for m in figures(read_model, policy, today, None, now)]
    midnight = datetime.combine(today.first_day, time(0), zone)
    surveys = read_model.surveys.tally(now, since=midnight)  # the call-back by survey link (DOMAIN §5)
    return {
        "organisation": policy.organisation, "now": local_time(now, zone), "today": today.label,
        "open_total": sum(buckets.values()), "buckets": buckets, "upcoming": upcoming, "overdue": overdue,
        "due_soon": due_soon,
        "paused": dashboard.paused(engine),  # waiting on the customer or a third party (rules/pauses.py)
        "merged": dashboard.merged(engine),  # handled as part of another complaint (rules/merging.py)
        "surveys": surveys,
        "escalations": escalations, "measures": measures, "vip_queue": vip_queue,
        "vip_open": sum(vip.values()) if vip else 0, "vip_overdue": vip["overdue"] if vip else 0, "month": f"{now.astimezone(zone):%Y-%m}",
        "due_chart": bar_chart("open-by-due", "Open complaints by next due instant", [
            Bar(name, n, str(n), "bad" if name == "overdue" and n else "plain") for name, n in buckets.items()]),
        "measure_chart": measure_chart("today-measures", f"Measures today ({today.label}) against target", measures),
    }


@router.get("/dashboard", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def get_dashboard(request: Request, services: ServicesDep) -> Response:
    """Roles with `read_measures`; logged in by the session cookie (api/pages.py) or a bearer header."""
    actor = page_actor(request, services, Permission.READ_MEASURES)
    if isinstance(actor, Response):
        return actor
    context = await run_in_threadpool(dashboard_context, services, datetime.now(UTC))
    return render(request, "dashboard.html", {**context, "actor": actor})
