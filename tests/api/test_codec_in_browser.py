"""A complaint's payloads in the real Temporal Web UI (2.54, embedded in the dev server), in headless
Chromium: ciphertext until a person allowed to decode signs in to the codec server, readable after.

The dev server's UI points at the codec server (`--ui-codec-endpoint`, as `make run` starts it). The
UI sends no bearer of ours (its "Pass access token" carries its own OIDC token, to https endpoints
only), so the operator signs in on the codec server's /session page and sets the UI's codec to send
cross-origin credentials: the HttpOnly cookie then rides on every /decode. Screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Page, async_playwright
from temporalio.testing import WorkflowEnvironment

from api.codec_server import create_codec_app
from readmodel.audit import AuditAction
from tests.api.test_pages_in_browser import CHROMIUM, screenshot
from tests.conftest import DEV_SERVER, Stack, auth, running_stack
from tests.factories import complaint_body
from tests.protection.keys import DATA_CONVERTER
from workflows.case import CaseSearch

COMPLAINANT = {"name": "Ouyang Min", "phone": "13955554444", "tier": "standard"}


@dataclass
class Desk:
    stack: Stack
    ui: str
    codec: str


def free_port() -> socket.socket:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    return listener


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """A dev server with its Web UI pointed at the codec server, a worker, the API and the codec server."""
    probe = free_port()
    ui_port = probe.getsockname()[1]
    probe.close()  # the dev server binds it itself
    codec_listener = free_port()
    codec = f"http://127.0.0.1:{codec_listener.getsockname()[1]}"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(DEV_SERVER), data_converter=DATA_CONVERTER, search_attributes=list(CaseSearch.ALL),
        ui=True, ui_port=ui_port,
        dev_server_extra_args=["--log-level", "error", "--ui-disable-news-fetch", "--ui-codec-endpoint", codec])
    ui = f"http://127.0.0.1:{ui_port}"
    try:
        async with running_stack(env, tmp_path, temporal_ui_public_url=ui, codec_server_public_url=codec) as stack:
            server = uvicorn.Server(uvicorn.Config(create_codec_app(stack.settings), log_level="warning"))
            serving = asyncio.create_task(server.serve(sockets=[codec_listener]))
            try:
                while not server.started:
                    assert not serving.done(), "the codec server stopped before it started"
                    await asyncio.sleep(0.05)
                yield Desk(stack, ui, codec)
            finally:
                server.should_exit = True
                await serving
    finally:
        codec_listener.close()
        await env.shutdown()


async def input_shown(page: Page) -> str:
    """The workflow's Input as the UI shows it, once it has rendered."""
    box = page.locator("[data-testid=input-and-result] [aria-label=Input]")
    await box.wait_for(timeout=30_000)
    return await box.inner_text()


async def test_the_input_is_ciphertext_until_an_operator_signs_in_to_the_codec_server(desk: Desk, tmp_path: Path) -> None:
    filed = await desk.stack.http.post("/complaints", json=complaint_body(complainant=COMPLAINANT), headers=auth("front_seat"))
    assert filed.status_code == 201, filed.text
    case_page = f"{desk.ui}/namespaces/default/workflows/{filed.json()['workflow_id']}"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            sent: list[dict[str, str]] = []  # the headers of every /decode the UI sends
            page.on("request", lambda r: sent.append(r.headers) if r.url.startswith(f"{desk.codec}/decode") else None)

            await page.goto(case_page)
            sealed = await input_shown(page)
            await page.locator("text=Codec Server could not connect >> visible=true").first.wait_for(timeout=30_000)
            assert "Ouyang Min" not in sealed and "13955554444" not in sealed
            await screenshot(page, tmp_path, "codec-ui-1-ciphertext.png")
            # What the UI sends: the namespace, no Authorization (no OIDC login here), no cookie yet.
            assert sent and all(h.get("x-namespace") == "default" and "authorization" not in h for h in sent)

            await page.goto(f"{desk.codec}/session")
            await page.fill("input[name=token]", "dev-operations")
            await page.click("button[type=submit]")
            await page.get_by_text("Signed in as Lin Tao").wait_for()

            await page.goto(case_page)
            await page.click("[data-testid^=data-encoder-status]")
            await page.click("[data-testid=use-local-endpoint-input]")
            await page.get_by_placeholder("Paste your endpoint here").fill(desk.codec)
            await page.locator("label", has=page.locator("#pass-access-credentials")).click()
            await page.get_by_role("button", name="Apply").click()
            await page.reload()  # the settings are kept in the browser; the page decodes afresh with them
            await page.get_by_text("Ouyang Min").first.wait_for(timeout=30_000)
            readable = await input_shown(page)
            assert "Ouyang Min" in readable and "13955554444" in readable
            await screenshot(page, tmp_path, "codec-ui-2-decoded.png")
        finally:
            await browser.close()

    rows, total = desk.stack.read_model.audit.page(action=AuditAction.DECODE)
    assert total >= 1 and {(r.actor_id, r.role) for r in rows} == {("ops-lin", "operations")}
