"""Agents preview a due instant on a unit's calendar: GET /calendars/{unit}/deadline."""

from __future__ import annotations

import pytest

from tests.conftest import Stack, auth


@pytest.mark.parametrize(
    ("unit", "params", "due_local"),
    [
        ("gd", {"start": "2026-03-06T17:00:00+08:00", "hours": 2}, "2026-03-09 09:00"),
        ("gd-gz-tianhe", {"start": "2026-03-06T17:00:00+08:00", "hours": 2}, "2026-03-07 09:00"),
        ("gd", {"start": "2026-02-27T17:30:00+08:00", "hours": 2}, "2026-02-28 09:30"),
        ("gd-gz-tianhe", {"start": "2026-03-06T16:30:00+08:00", "rule": "check_windows"}, "2026-03-07 10:00"),
        ("gd", {"start": "2026-03-06T09:00:00Z", "hours": 20}, "2026-03-10 17:00"),
    ],
    ids=[
        "office: Friday 17:00 + 2 h is Monday 09:00",
        "production unit: works the Saturday",
        "office: Saturday 2026-02-28 is a make-up working day",
        "check windows: 16:30 arrival is due 10:00 next day",
        "a start in another zone: 17:00 Shanghai + 20 h",
    ],
)
async def test_preview_gives_the_due_instant_on_the_units_calendar(
    stack: Stack, unit: str, params: dict, due_local: str
) -> None:
    resp = await stack.http.get(f"/calendars/{unit}/deadline", params=params, headers=auth("front_seat"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["due_local"] == due_local


async def test_preview_rejects_a_start_without_zone_and_an_unknown_unit(stack: Stack) -> None:
    naive = await stack.http.get("/calendars/gd/deadline", params={"start": "2026-03-06T17:00:00", "hours": 2}, headers=auth("front_seat"))
    unknown = await stack.http.get("/calendars/mars/deadline", params={"start": "2026-03-06T17:00:00+08:00", "hours": 2}, headers=auth("front_seat"))
    no_hours = await stack.http.get("/calendars/gd/deadline", params={"start": "2026-03-06T17:00:00+08:00"}, headers=auth("front_seat"))
    assert naive.status_code == 422 and ["query", "start"] in [e["loc"] for e in naive.json()["detail"]]
    assert unknown.status_code == 404
    assert no_hours.status_code == 422 and no_hours.json()["detail"][0]["loc"] == ["query", "hours"]
