"""A bench copy of the policy file whose linked-dispatch check windows fall in the next minutes.

The real policy checks new linked dispatches at 8, 10, …, 18 o'clock, so everything that arrived
overnight (before the 08:00 check) is due at the 10:00 check: the daily peak. The bench keeps that
rule and only moves the clock: the production units work around the clock, and the check times are
put just ahead of now, so every dispatch raised before the first check is due at the second one.
Everything else (units, directory, ladders) is the real policy's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from settings import ROOT

SOURCE = ROOT / "policies" / "express_carrier.yaml"
ZONES = ("Asia/Shanghai", "UTC")  # one of the two is always well inside its day
ROUND_THE_CLOCK = [{"start": "00:00", "end": "23:59:59"}]  # a period ends within its day


def pick_zone(now: datetime, ahead: timedelta) -> str:
    """A zone where [now - 5 min, now + ahead] lies inside one local day (check times are per day)."""
    for zone in ZONES:
        tz = ZoneInfo(zone)
        if (now - timedelta(minutes=5)).astimezone(tz).date() == (now + ahead).astimezone(tz).date():
            return zone
    raise SystemExit(f"no zone of {ZONES} keeps the next {ahead} inside one day")


def check_times(due: datetime, zone: str, first_before_due: timedelta, later: int = 10,
                every: timedelta = timedelta(minutes=2)) -> list[str]:
    """[first check, due, due + every, …]: an arrival before the first check is due at `due`."""
    tz = ZoneInfo(zone)
    instants = [due - first_before_due, due] + [due + every * i for i in range(1, later + 1)]
    day = due.astimezone(tz).date()
    walls = [i.astimezone(tz) for i in instants if i.astimezone(tz).date() == day]
    return [w.strftime("%H:%M:%S") for w in walls]


def write_bench_policy(path: Path, zone: str, windows: list[str]) -> Path:
    """Write the bench policy to `path` (atomically: the worker re-reads the file when it changes)."""
    data = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    production = data["calendars"]["production_unit"]
    production["time_zone"] = zone
    production["weekly"] = {day: list(ROUND_THE_CLOCK) for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    data["clocks"]["dispatch"]["deadline_rules"]["linked_dispatch"] = "check_windows"
    data["clocks"]["dispatch"]["check_windows"] = {"windows": windows}
    # Check the result the way the worker will read it before handing it over.
    from rules.policy import parse_policy

    parse_policy(yaml.safe_load(yaml.safe_dump(data, allow_unicode=True)), str(path))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return path


def placeholder_windows(now: datetime, zone: str) -> list[str]:
    """Checks far from now (hours ahead or behind), for the stack's start before the burst is set."""
    local = now.astimezone(ZoneInfo(zone))
    if local.hour < 12:
        return ["22:00", "23:00"]
    return ["00:30", "01:00"]


if __name__ == "__main__":  # a look at what the bench writes
    import sys
    import tempfile

    now = datetime.now(UTC)
    zone = pick_zone(now, timedelta(minutes=30))
    out = Path(tempfile.mkdtemp(prefix="burst-policy-")) / "policy.yaml"
    write_bench_policy(out, zone, check_times(now + timedelta(minutes=3), zone, timedelta(seconds=5)))
    sys.stdout.write(f"{out}\n")
