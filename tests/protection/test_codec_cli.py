"""Operations read a case with the Temporal CLI through the codec server: `temporal workflow show
--codec-endpoint URL --codec-auth 'Bearer <token>'` prints the decrypted history; without a token of
a decode_payloads role the codec server refuses and the CLI shows nothing."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
from collections.abc import AsyncIterator

import pytest

from api.codec_server import create_codec_app
from readmodel.audit import AuditAction
from tests.conftest import DEV_SERVER, Stack, auth
from tests.factories import complaint_body
from tests.served import served_app

COMPLAINANT = {"name": "Ximen Chuixue", "phone": "13766668888", "tier": "standard"}


@pytest.fixture
async def codec_url(stack: Stack) -> AsyncIterator[str]:
    async with served_app(create_codec_app(stack.settings)) as address:
        yield address


async def workflow_show(stack: Stack, workflow_id: str, *codec_flags: str) -> subprocess.CompletedProcess[str]:
    command = [str(DEV_SERVER), "workflow", "show", "-w", workflow_id, "--output", "json",
               "--address", stack.env.client.service_client.config.target_host, *codec_flags]
    return await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=60)


def opening_payload(shown: subprocess.CompletedProcess[str]) -> tuple[str, dict | None]:
    """The encoding of the case's input in `workflow show -o json`, and the input if it is readable JSON."""
    assert shown.returncode == 0, shown.stderr
    started = json.loads(shown.stdout)["events"][0]["workflowExecutionStartedEventAttributes"]
    payload = started["input"]["payloads"][0]
    encoding = base64.b64decode(payload["metadata"]["encoding"]).decode()
    return encoding, json.loads(base64.b64decode(payload["data"])) if encoding == "json/plain" else None


async def test_the_cli_shows_a_case_decrypted_with_an_operations_token_only(stack: Stack, codec_url: str) -> None:
    filed = await stack.http.post("/complaints", json=complaint_body(complainant=COMPLAINANT), headers=auth("front_seat"))
    assert filed.status_code == 201, filed.text
    workflow_id = filed.json()["workflow_id"]

    shown = await workflow_show(stack, workflow_id, "--codec-endpoint", codec_url, "--codec-auth", "Bearer dev-operations")
    encoding, data = opening_payload(shown)
    assert encoding == "json/plain"  # decrypted: what a replay or a reader of the JSON gets
    assert data["intake"]["complainant"] == COMPLAINANT

    encoding, data = opening_payload(await workflow_show(stack, workflow_id))
    assert encoding == "binary/encrypted" and data is None  # without the codec: what Temporal stores
    # A front seat's token: the codec server answers 403 and the CLI gives up (after its retries).
    refused = await workflow_show(stack, workflow_id, "--codec-endpoint", codec_url, "--codec-auth", "Bearer dev-front-seat")
    assert refused.returncode != 0 and "Ximen" not in refused.stdout

    rows, total = stack.read_model.audit.page(action=AuditAction.DECODE)
    assert total >= 1 and {(r.actor_id, r.role) for r in rows} == {("ops-lin", "operations")}
