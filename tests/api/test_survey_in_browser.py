"""The survey page on a phone: Debian's Chromium (headless, driven by Playwright, as in
tests/api/test_pages_in_browser.py) at a phone's viewport opens the link the customer was texted,
rates, comments and sends; the case takes it as its call-back; the link opened again is refused.
The app is served by uvicorn on a free local port, with a real worker on the Temporal dev server and
the SMS gateway stand-in; screenshots go to test-artifacts/ (survey.png, survey-thanks.png,
survey-refused.png)."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import httpx
import uvicorn
from playwright.async_api import async_playwright
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from tests.api.test_pages_in_browser import CHROMIUM, screenshot, text
from tests.api.test_survey_link import NAME, PHONE, confirmed_case, send_survey
from tests.conftest import auth, running_stack
from tests.notifications.receivers import running_gateway
from tests.waiting import eventually

PHONE_VIEWPORT = {"width": 390, "height": 844}


async def test_a_customer_rates_on_a_phone_and_the_second_visit_is_refused(dev_env: WorkflowEnvironment,
                                                                          tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Chromium missing: `make test` installs it (ops/ensure_test_deps.sh)"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))  # the port is ours from here on: the link names it
    served = f"http://127.0.0.1:{listener.getsockname()[1]}"
    with running_gateway() as gateway:
        async with running_stack(dev_env, tmp_path, sms_gateway_url=gateway.url, survey_public_url=served) as stack:
            server = uvicorn.Server(uvicorn.Config(create_app(stack.settings, temporal=dev_env.client),
                                                   log_level="warning"))
            serving = asyncio.create_task(server.serve(sockets=[listener]))
            try:
                while not server.started:
                    assert not serving.done(), "uvicorn stopped before it started"
                    await asyncio.sleep(0.05)
                cid = await confirmed_case(stack)
                assert (await send_survey(stack, cid)).status_code == 201

                def texted() -> list[str]:
                    return [m["text"] for m in gateway.texts_to(PHONE) if "/survey/" in m["text"]]

                [sms] = await eventually(dev_env, texted, "the survey text never reached the phone")
                [link] = re.findall(rf"{re.escape(served)}/survey/\S+", sms)

                async with async_playwright() as playwright:
                    browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
                    try:
                        phone = await browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True,
                                                          device_scale_factor=2)
                        page = await phone.new_page()
                        elsewhere: list[str] = []
                        page.on("request", lambda r: None if r.url.startswith(served) else elsewhere.append(r.url))
                        console: list[str] = []  # a CSP violation is reported here
                        page.on("console", lambda m: console.append(m.text))

                        opened = await page.goto(link)
                        assert opened is not None and opened.status == 200
                        assert NAME not in await page.content()  # no log-in, and no customer's name
                        # laid out for the phone: nothing wider than its 390 px, the five ratings on one row
                        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
                        tops = await page.locator(".ratings label").evaluate_all(
                            "ls => ls.map(l => Math.round(l.getBoundingClientRect().top))")
                        assert len(tops) == 5 and len(set(tops)) == 1
                        # the page's own stylesheet applies under the CSP (by its nonce)
                        assert await page.locator("button[type=submit]").evaluate(
                            "b => getComputedStyle(b).width") == await page.locator("form#survey").evaluate(
                            "f => getComputedStyle(f).width")
                        await page.tap(".ratings label:nth-child(4)")  # rates 4
                        await page.fill("textarea[name=comment]", "Courier was late but very polite")
                        await screenshot(page, tmp_path, "survey.png")
                        async with page.expect_navigation():
                            await page.tap("button[type=submit]")
                        assert "4 of 5" in await text(page, "#thanks")
                        await screenshot(page, tmp_path, "survey-thanks.png")

                        again = await page.goto(link)
                        assert again is not None and again.status == 410
                        assert "has been used" in await text(page, "#refused")
                        await screenshot(page, tmp_path, "survey-refused.png")
                        assert elsewhere == []  # nothing was fetched from anywhere but the app
                        assert not [m for m in console if "Content Security Policy" in m]
                    finally:
                        await browser.close()

                # 4 is in the policy's satisfied_ratings [4, 5]: the case closed on the customer's word
                async with httpx.AsyncClient(base_url=served) as api:
                    detail = (await api.get(f"/complaints/{cid}", headers=auth("auditor"))).json()
                assert detail["status"] == "closed"
                assert detail["timeline"][-1]["detail"]["customer_words"] == "Courier was late but very polite"
            finally:
                server.should_exit = True
                await serving
                listener.close()
