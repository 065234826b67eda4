"""The workspace in a real browser: Debian's Chromium (headless) driven by Playwright against the app
served by uvicorn on the Temporal dev server with a real worker, at 1366 × 768. A front seat files a
complaint from the form and dispatches it; the Tianhe station answers from its inbox (a false reply
returned with the reason shown, then a real one); the lead office resolves, confirms, and the
call-back closes it — every step through the pages, the case page's timeline matching the API's.

Also: Chinese is drawn in real glyphs (the test setup installs fonts-noto-cjk), and axe-core (npm,
installed by ops/ensure_test_deps.sh into .cache/axe) finds no label or heading violation on the
pages. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from settings import ROOT
from tests.api.test_pages_in_browser import CHROMIUM, screenshot, text
from tests.conftest import TOKENS, Stack, auth, running_stack

AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREEN = {"width": 1366, "height": 768}
# axe-core's rules about labels and headings (https://dequeuniversity.com/rules/axe/4.10)
LABEL_AND_HEADING_RULES = ["label", "select-name", "form-field-multiple-labels", "label-title-only", "button-name",
                           "page-has-heading-one", "heading-order", "empty-heading", "empty-table-header",
                           "document-title", "html-has-lang", "link-name", "aria-input-field-name"]


@pytest.fixture
async def served(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[tuple[str, Stack]]:
    """The whole system (worker, read model) and the app under uvicorn on a free port of 127.0.0.1."""
    async with running_stack(dev_env, tmp_path) as stack:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(create_app(stack.settings, temporal=dev_env.client), log_level="warning"))
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        try:
            while not server.started:
                assert not serving.done(), "uvicorn stopped before it started"
                await asyncio.sleep(0.05)
            yield f"http://127.0.0.1:{listener.getsockname()[1]}", stack
        finally:
            server.should_exit = True
            await serving
            listener.close()


async def logged_in(browser: Browser, served: str, role: str) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=SCREEN)
    page = await context.new_page()
    first = await page.goto(f"{served}/workspace")
    assert first is not None and first.status == 401  # the log-in form
    await page.fill("input[name=token]", TOKENS[role])
    await page.click("button[type=submit]")
    await page.wait_for_selector("h1")
    assert page.url == f"{served}/workspace"
    return context, page


async def step(page: Page, name: str, fields: dict[str, str], scope: str = "") -> None:
    """Fill and submit the form of step `name` (within `scope`, a section's selector)."""
    form = page.locator(f'{scope} form[data-step="{name}"]'.strip()).first
    for field, value in fields.items():
        target = form.locator(f'[name="{field}"]')
        if await target.evaluate("e => e.tagName") == "SELECT":
            await target.select_option(value)
        else:
            await target.fill(value)
    async with page.expect_navigation():
        await form.locator("button[type=submit]").click()


async def fits_the_screen(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= SCREEN["width"], f"{page.url} is {width} px wide at {SCREEN['width']} × {SCREEN['height']}"


async def no_label_or_heading_violations(context: BrowserContext, url: str) -> None:
    """axe-core in the same Chromium; a context that lets the injected script past the pages' CSP."""
    page = await context.new_page()
    await page.goto(url)
    await page.add_script_tag(path=str(AXE))
    found = await page.evaluate("rules => axe.run(document, {runOnly: {type: 'rule', values: rules}})"
                                ".then(r => r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' ')))",
                                LABEL_AND_HEADING_RULES)
    assert found == [], f"{url}: {found}"
    await page.close()


async def test_a_complaint_goes_from_the_intake_form_to_its_closing_through_the_pages(
        served: tuple[str, Stack], tmp_path: Path) -> None:
    address, stack = served
    assert Path(CHROMIUM).exists(), "Chromium missing: `make test` installs it (ops/ensure_test_deps.sh)"
    assert AXE.exists(), "axe-core missing: `make test` installs it (ops/ensure_test_deps.sh)"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            agent_context, agent = await logged_in(browser, address, "front_seat")
            elsewhere: list[str] = []
            agent.on("request", lambda r: None if r.url.startswith(address) else elsewhere.append(r.url))
            console: list[str] = []  # a CSP violation is reported here
            agent.on("console", lambda m: console.append(m.text))

            # The front seat files the call from the intake form: checked first, then filed.
            await agent.click("text=File a complaint")
            await agent.fill("#in-complainant\\.name", "李娜")
            await agent.fill("#in-complainant\\.phone", "13800138000")
            await agent.fill("#in-tracking_number", "EX8000000001CN")
            await agent.select_option("#in-category", "delay")
            await agent.fill("#in-description", "快递三天没有更新物流信息")
            await agent.fill("#in-demand", "明天送到")
            async with agent.expect_navigation():
                await agent.click("button[value=check]")
            assert await text(agent, "#no-warning") == "No open duplicate, no repeat."
            await fits_the_screen(agent)
            await screenshot(agent, tmp_path, "workspace-intake.png")
            async with agent.expect_navigation():
                await agent.click("#file")
            notice = await text(agent, "#notice")
            assert notice.startswith("Filed C"), notice
            cid = notice.split()[1].rstrip(":")
            assert await text(agent, "#case-status") == "classified"

            await step(agent, "take_into_handling", {"note": "查询物流"})
            await step(agent, "dispatch", {"kind": "direct_dispatch", "unit": "gd-gz-tianhe",
                                           "instruction": "请核实最后一次扫描"})
            raised = await text(agent, "#notice")
            did = raised.split(": ")[1].split()[0]
            assert raised == f"Raise a dispatch: {did} raised"

            # The Tianhe station finds the dispatch in its own inbox and answers it there.
            station_context, station = await logged_in(browser, address, "production_unit")
            assert await station.locator("#work tr[data-id]").evaluate_all("rows => rows.map(r => r.dataset.id)") == [did]
            countdown = await text(station, f'#work tr[data-id="{did}"] td.countdown')
            assert "of working time" in countdown  # on the station's own 7 × 10 calendar
            await fits_the_screen(station)
            await screenshot(station, tmp_path, "workspace-station-inbox.png")
            await station.click(f'#work tr[data-id="{did}"] a')
            # "已经妥投" claims a delivery without proof: returned (退回) with the reason, the dispatch stays open
            await step(station, "reply", {"finding": "邮件已经妥投"}, f'section[id="{did}"]')
            returned = await text(station, "#notice")
            assert returned.startswith("Reply returned (退回): ") and "妥投" in returned, returned
            assert await text(station, f'section[id="{did}"] .dispatch-status') == "open"
            await step(station, "reply", {"finding": "快递员周一漏派", "failing_link": "courier"}, f'section[id="{did}"]')
            assert (await text(station, "#notice")).startswith("Reply accepted")
            await screenshot(station, tmp_path, "workspace-station-case.png")

            # The lead office resolves; the written confirmation; the call-back closes it.
            await agent.goto(f"{address}/workspace/complaints/{cid}")
            await step(agent, "resolve", {"solution": "快递员漏派，已于周二补派"})
            await step(agent, "confirm_with_customer", {"message": "已短信告知处理结果", "medium": "sms"})
            await step(agent, "record_callback", {"satisfied": "true", "customer_words": "满意"})
            assert await text(agent, "#case-status") == "closed"
            assert await agent.locator("#actions").inner_text() == "No step of yours is open on this case now."

            # The timeline on the page is the API's.
            api = (await stack.http.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
            on_page = await agent.locator("#timeline tr[data-seq]").evaluate_all(
                "rows => rows.map(r => [Number(r.dataset.seq), r.dataset.action])")
            assert on_page == [[e["seq"], e["action"]] for e in api["timeline"]]
            assert {"take_into_handling", "raise_dispatch", "dispatch_finished", "resolve", "confirm_with_customer",
                    "record_satisfied_callback"} <= {a for _, a in on_page}
            await fits_the_screen(agent)
            await screenshot(agent, tmp_path, "workspace-case.png")
            # printed, the page keeps the record and its timeline and drops the navigation and the forms
            await agent.emulate_media(media="print")
            assert not await agent.locator("nav").first.is_visible()
            assert not await agent.locator("form.step").first.is_visible()
            assert await agent.locator("#timeline").is_visible()
            await agent.emulate_media(media="screen")

            # Chinese in real glyphs: 投诉 in the heading is two CJK glyphs of about 1 em each, not two
            # boxes (tofu) — a character no font has (U+E000, private use) measures what a box does.
            widths = await agent.locator("#case-zh").evaluate("""e => {
                const style = getComputedStyle(e), ctx = document.createElement('canvas').getContext('2d');
                ctx.font = style.fontWeight + ' ' + style.fontSize + ' ' + style.fontFamily;
                return {em: parseFloat(style.fontSize), drawn: e.getBoundingClientRect().width,
                        cjk: ctx.measureText('投诉').width, box: ctx.measureText('\\ue000\\ue000').width};
            }""")
            assert abs(widths["cjk"] - 2 * widths["em"]) < 0.1 * widths["em"], widths
            assert abs(widths["drawn"] - widths["cjk"]) < 0.1 * widths["em"], widths
            assert abs(widths["cjk"] - widths["box"]) > 0.2 * widths["em"], widths

            # A new call: the solved case is suggested as the agent types (the page's own script), no Check pressed.
            await agent.click("text=File a complaint")
            await agent.type("#in-description", "快递三天没有更新", delay=20)
            await agent.wait_for_selector(f'#suggestion-list li[data-id="{cid}"]')
            assert "快递员漏派" in await text(agent, f'#suggestion-list li[data-id="{cid}"]')  # its solution

            assert elsewhere == []  # nothing fetched from anywhere but the app
            assert not [m for m in console if "Content Security Policy" in m]  # the script and styles allowed

            # axe-core: no label or heading violation on My work, the case page and the intake form.
            audit_context = await browser.new_context(viewport=SCREEN, bypass_csp=True,
                                                      storage_state=await agent_context.storage_state())
            for path in ("/workspace", f"/workspace/complaints/{cid}", "/workspace/intake"):
                await no_label_or_heading_violations(audit_context, f"{address}{path}")
            station_audit = await browser.new_context(viewport=SCREEN, bypass_csp=True,
                                                      storage_state=await station_context.storage_state())
            await no_label_or_heading_violations(station_audit, f"{address}/workspace")
        finally:
            await browser.close()
