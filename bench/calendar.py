"""Deadlines per second on the office calendar, against a naive hour-by-hour walker.

Run from the repo root: `python bench/calendar.py`. The last line is one JSON object; `ratio` is the
cost of a 1,000-working-hour deadline over the cost of a 1-hour one (target: at most 2).
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named calendar.py: drop its folder from the path, or `from calendar import isleap` in
# the holidays package would import this script instead of the standard library module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import json  # noqa: E402
import random  # noqa: E402
from collections.abc import Callable  # noqa: E402
import time as clock  # noqa: E402
from datetime import date, datetime, time, timedelta  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import holidays  # noqa: E402

from rules.calendar import OFFICE, WorkingCalendar  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)
OPENS, CLOSES = time(8), time(18)
ROUNDS = 5


def varied_starts(count: int = 64) -> list[datetime]:
    """Fixed, varied starts in 2026: any day (weekends and holidays included), any minute."""
    draw = random.Random(20260306)
    return [
        datetime.combine(
            date(2026, 1, 1) + timedelta(days=draw.randrange(365)),
            time(draw.randrange(24), draw.randrange(60), draw.randrange(60)),
            tzinfo=SHANGHAI,
        )
        for _ in range(count)
    ]


class HourByHour:
    """The bare reference: walk the wall clock at most an hour at a time, office calendar only."""

    def __init__(self) -> None:
        self._china = holidays.country_holidays("CN", years=range(2025, 2029))

    def deadline(self, start: datetime, working: timedelta) -> datetime:
        now = start.astimezone(SHANGHAI).replace(tzinfo=None)  # Shanghai has no DST
        left = working
        while left:
            next_hour = now.replace(minute=0, second=0, microsecond=0) + HOUR
            if self._china.is_working_day(now.date()) and OPENS <= now.time() < CLOSES:
                step = min(left, next_hour - now, datetime.combine(now.date(), CLOSES) - now)
                left -= step
                now += step
            else:
                now = next_hour
        return now.replace(tzinfo=SHANGHAI)


def per_second(
    deadline: Callable[[datetime, timedelta], datetime],
    starts: list[datetime],
    working: timedelta,
    repeat: int,
) -> float:
    """Best of ROUNDS rounds of `repeat` passes over the starts."""
    best = float("inf")
    for _ in range(ROUNDS):
        began = clock.perf_counter()
        for _ in range(repeat):
            for start in starts:
                deadline(start, working)
        best = min(best, clock.perf_counter() - began)
    return repeat * len(starts) / best


def main() -> None:
    calendar = WorkingCalendar(OFFICE)
    naive = HourByHour()
    starts = varied_starts()
    durations = {"1h": 1 * HOUR, "20h": 20 * HOUR, "1000h": 1000 * HOUR}

    # Warm up (builds the year tables) and check both give the same instants.
    for working in durations.values():
        for start in starts:
            fast, bare = calendar.deadline(start, working), naive.deadline(start, working)
            assert fast == bare, (start, working, fast, bare)

    fast = {
        name: per_second(calendar.deadline, starts, working, 400)
        for name, working in durations.items()
    }
    bare = {
        "1h": per_second(naive.deadline, starts, durations["1h"], 20),
        "20h": per_second(naive.deadline, starts, durations["20h"], 5),
        "1000h": per_second(naive.deadline, starts, durations["1000h"], 1),
    }

    print(f"office calendar, {len(starts)} varied starts in 2026, best of {ROUNDS} rounds")
    print(f"{'duration':>9} {'WorkingCalendar /s':>19} {'hour-by-hour /s':>16} {'speed-up':>9}")
    for name in durations:
        speed_up = fast[name] / bare[name]
        print(f"{name:>9} {fast[name]:>19,.0f} {bare[name]:>16,.0f} {speed_up:>8,.0f}x")
    ratio = fast["1h"] / fast["1000h"]  # cost(1000 h) / cost(1 h)
    print(f"cost of a 1,000 h deadline / cost of a 1 h deadline: {ratio:.2f} (target <= 2)")
    print(
        json.dumps(
            {
                "per_s_1h": round(fast["1h"]),
                "per_s_20h": round(fast["20h"]),
                "per_s_1000h": round(fast["1000h"]),
                "naive_per_s_1h": round(bare["1h"]),
                "naive_per_s_20h": round(bare["20h"]),
                "naive_per_s_1000h": round(bare["1000h"], 1),
                "ratio": round(ratio, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
