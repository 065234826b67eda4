"""The dashboard and the monthly report in a real browser: Debian's Chromium (/usr/bin/chromium,
headless) driven by Playwright against the app served by uvicorn on a free local port, on the
Temporal dev server. Playwright never downloads a browser here: `make test` installs Chromium
through apt when it is missing (ops/ensure_test_deps.sh).

The read model holds October 2026 (tests/api/test_reports.py) and today's desk
(tests/readmodel/test_dashboard.py); screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from readmodel.store import ReadModel
from settings import ROOT
from tests.api.test_reports import a_month_of_complaints
from tests.conftest import TOKENS, stack_settings
from tests.readmodel.test_dashboard import an_open_desk, e2_answered_today
from tests.served import served_app

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def desk_now() -> datetime:
    """The instant the hand-built desk (an_open_desk) is built at."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def served(dev_env: WorkflowEnvironment, tmp_path: Path, desk_now: datetime) -> AsyncIterator[str]:
    """The app under uvicorn on a free port of 127.0.0.1, its read model filled by hand; yields its address."""
    settings = stack_settings(tmp_path)
    read_model = ReadModel(settings.database_url)
    read_model.create_schema()
    a_month_of_complaints(read_model)
    an_open_desk(read_model, desk_now)
    try:
        async with served_app(create_app(settings, temporal=dev_env.client)) as address:
            yield address
    finally:
        read_model.dispose()


async def text(page: Page, selector: str) -> str:
    return (await page.locator(selector).inner_text()).strip()


async def screenshot(page: Page, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    await page.screenshot(path=str(shot), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / name)
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one


async def test_a_supervisor_reads_the_dashboard_and_the_monthly_report_in_chromium(served: str, desk_now: datetime,
                                                                                 tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Chromium missing: `make test` installs it (ops/ensure_test_deps.sh)"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            page = await context.new_page()
            elsewhere: list[str] = []
            page.on("request", lambda r: None if r.url.startswith(served) else elsewhere.append(r.url))
            console: list[str] = []  # a CSP violation is reported here
            page.on("console", lambda m: console.append(m.text))

            # Not logged in: the form asks for the token; the supervisor types theirs, and it is POSTed.
            first = await page.goto(f"{served}/dashboard")
            assert first is not None and first.status == 401
            await page.fill("input[name=token]", TOKENS["supervisor"])
            async with page.expect_request(f"{served}/login") as login:
                await page.click("button[type=submit]")
            assert (await login.value).method == "POST"
            await page.wait_for_selector("#open-total")
            assert page.url == f"{served}/dashboard"  # the token is in no address
            [session] = await context.cookies()
            assert (session["name"], session["httpOnly"], session["sameSite"]) == ("desk_session", True, "Strict")
            assert TOKENS["supervisor"] not in session["value"]
            # the one inline stylesheet applies under the CSP (by its nonce), and nothing was refused
            assert await page.locator("table#buckets").evaluate("t => getComputedStyle(t).borderCollapse") == "collapse"
            assert not [m for m in console if "Content Security Policy" in m]

            # Open: today's desk O1–O5, O7 (6) and October's complaints never closed: 20 received − 4 closed
            # (D1, D2, L1, S1) = 16, and X11 (1 November) → 6 + 16 + 1 = 23.
            assert await text(page, "#open-total") == "23"
            # overdue: O3 (first contact missed) and O7 (past due, not yet marked) → 2 complaints, 2 clocks
            assert await text(page, "#overdue-total") == "2"
            assert await text(page, "#overdue-clocks-total") == "2"
            # escalations in flight: E1 (today, ladder step 2) and October's T2 (never answered, step 1)
            assert await text(page, "#escalations-total") == "2"
            # without a running clock: O5 and the 17 October / November complaints built without clocks → 18
            assert await text(page, 'td[data-bucket="no running clock"]') == "18"
            assert await text(page, 'td[data-bucket="due within 1 hour"]') == "1"  # O1
            assert await page.locator('svg[data-chart="open-by-due"] g.bar').count() == 6
            assert await page.locator('svg[data-chart="open-by-due"]').is_visible()
            assert await text(page, "#upcoming tr[data-id] td >> nth=0") == "O7"  # the soonest due first
            link = await page.locator('#upcoming tr[data-id="O1"] a').get_attribute("href")
            assert link is not None and link.endswith("/namespaces/default/workflows/complaint-O1")
            # today's one-time resolution: E2, the one ticket answered today, with nothing returned → 1 / 1 = 100 %
            # (none in the office's first minutes after midnight: E2's answer was then yesterday's)
            expected = "100.0 %" if e2_answered_today(desk_now) else "—"
            assert await text(page, '#measures tr[data-key="one_time_resolution_rate"] td.rate') == expected
            await screenshot(page, tmp_path, "dashboard.png")

            # The report of October 2026, opened from the dashboard's address bar: the cookie logs it in.
            await page.goto(f"{served}/reports/monthly?month=2026-10&format=html")
            assert await text(page, "#complaints-total") == "20"
            # hot spots: delay 8 of 20 (40 %), loss or damage 6 (30 %); attitude and fee 3 each (exactly 15 %): not
            assert await page.locator("#hot-spots tr[data-key]").evaluate_all("rows => rows.map(r => r.dataset.key)") == [
                "delay", "loss_or_damage"]
            assert await text(page, '#hot-spots tr[data-key="delay"] td >> nth=2') == "40.0 %"
            assert await text(page, '#at-fault tr[data-key="gd"] td >> nth=1') == "2"  # D1, L1
            assert await text(page, '#at-fault tr[data-key="zj"] td >> nth=1') == "1"  # S1, final by silence
            # one-time resolution in October: T1, the one ticket handled, had a reply returned → 0 / 1 = 0 %, misses ≥ 85 %
            row = '#measures tr[data-key="one_time_resolution_rate"]'
            assert await text(page, f"{row} td.rate") == "0.0 %"
            assert await text(page, f"{row} td.miss") == "misses"
            assert await page.locator(f'{row} svg circle.point').count() == 2  # September and October: the rest empty
            assert await page.locator('svg[data-chart="by-category"] g.bar').count() == 4
            await screenshot(page, tmp_path, "monthly-report.png")

            # Printed, the navigation goes and the charts stay.
            await page.emulate_media(media="print")
            assert not await page.locator("nav").is_visible()
            assert await page.locator('svg[data-chart="by-unit"]').is_visible()

            # A bookmark with ?token= opens the page at the address without it, and history never held it.
            bookmarked = await (await browser.new_context()).new_page()
            await bookmarked.goto(f"{served}/reports/monthly?month=2026-10&format=html&token={TOKENS['supervisor']}")
            assert await text(bookmarked, "#complaints-total") == "20"
            assert bookmarked.url == f"{served}/reports/monthly?month=2026-10&format=html"
            await bookmarked.go_back()
            assert bookmarked.url == "about:blank"

            assert elsewhere == []  # nothing was fetched from anywhere but the app
        finally:
            await browser.close()
