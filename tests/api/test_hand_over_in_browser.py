"""The shift hand-over page in a real browser (Debian's Chromium, headless, driven by Playwright):
the front seat agent-wang logs in at shift end, reads the open work it owns (a VIP case and a plain
one, both taken into handling) and hands both over to the evening seat agent-li with the page's
form; each case's timeline then has its hand-over row. The app runs under uvicorn beside a real
worker on the Temporal dev server; screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from tests.api.test_complaint_lifecycle import act, file
from tests.served import served_app
from tests.api.test_pages_in_browser import CHROMIUM, screenshot, text
from tests.conftest import TOKENS, Stack, auth, running_stack
from tests.factories import complaint_body


@pytest.fixture
async def served_stack(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[tuple[Stack, str]]:
    """A running stack (worker, read model) and the same app under uvicorn on a free local port."""
    async with running_stack(dev_env, tmp_path) as stack:
        async with served_app(create_app(stack.settings, temporal=dev_env.client)) as address:
            yield stack, address


async def test_the_front_seat_hands_its_shift_over_on_the_page_in_chromium(served_stack: tuple[Stack, str], tmp_path: Path) -> None:
    stack, served = served_stack
    vip = (await file(stack, complaint_body(complainant={"name": "Wu Yi", "phone": "13900139000", "tier": "vip"})))["complaint_id"]
    plain = (await file(stack))["complaint_id"]
    for cid in (vip, plain):
        await act(stack, cid, "handling", {"note": "on it"})

    assert Path(CHROMIUM).exists(), "Chromium missing: `make test` installs it (ops/ensure_test_deps.sh)"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            page = await context.new_page()
            elsewhere: list[str] = []  # no external assets
            page.on("request", lambda r: None if r.url.startswith(served) else elsewhere.append(r.url))

            first = await page.goto(f"{served}/pages/hand-over")
            assert first is not None and first.status == 401
            await page.fill("input[name=token]", TOKENS["front_seat"])
            await page.click("button[type=submit]")
            await page.wait_for_selector("#cases-total")
            assert await text(page, "#whose") == "agent-wang"  # the caller's own seat
            assert await text(page, "#cases-total") == "2"
            assert await text(page, "#vip-total") == "1"
            # each case promises the customer its next progress update and its solution
            assert await text(page, "#promises-total") == "4"
            assert await page.locator(f'#cases tr[data-id="{vip}"] [data-promise="progress_update"]').count() == 1
            assert "vip" in await text(page, f'#cases tr[data-id="{vip}"]')
            # A day ahead: every running clock of both (first contact, solution, progress update) is due
            # within it, since on the call centre's 7 × 10 even 4 working hours end by the next noon → 3 × 2.
            await page.fill("input[name=hours]", "24")
            await page.click("form[method=get] button[type=submit]")
            await page.wait_for_selector("#clocks-due-total")
            assert await text(page, "#clocks-due-total") == "6"
            await screenshot(page, tmp_path, "hand-over.png")
            # The unit's list from the same form (the seat cleared): the call centre's two cases
            await page.fill("input[name=seat]", "")
            await page.fill("input[name=unit]", "call-centre")
            await page.click("form[method=get] button[type=submit]")
            await page.wait_for_selector("#cases-total")
            assert (await text(page, "#whose"), await text(page, "#cases-total")) == ("call-centre", "2")
            await page.goto(f"{served}/pages/hand-over")  # back to the seat's own list

            await page.select_option("select[name=to_seat]", "agent-li")
            await page.fill("input[name=note]", "VIP expects a call before 20:00")
            async with page.expect_navigation():
                await page.click("#hand-over-form button[type=submit]")
            assert await text(page, "#message") == "2 cases handed over"
            assert await text(page, "#whose") == "agent-li"  # the list of the seat that took them
            owners = await page.locator("#cases tr[data-id] td:nth-child(2)").all_inner_texts()
            assert sorted(owners) == ["Li Ming (evening front seat) (agent-li)"] * 2
            await screenshot(page, tmp_path, "hand-over-done.png")
            assert elsewhere == []

            # The same form posted without the page's CSRF token (as another site would) is refused.
            forged = await context.request.post(f"{served}/pages/hand-over", form={
                "from_seat": "agent-li", "to_seat": "agent-wang"})
            assert forged.status == 403 and "CSRF" in await forged.text()
        finally:
            await browser.close()

    for cid in (vip, plain):
        detail = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
        row = detail["timeline"][-1]
        assert (row["action"], row["detail"]["to_seat"]["id"], row["detail"]["note"]) == (
            "hand_over", "agent-li", "VIP expects a call before 20:00")
        assert detail["owner_id"] == "agent-li"
