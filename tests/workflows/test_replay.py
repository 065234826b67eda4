"""Every recorded history in tests/histories replays on today's workflow code.

A failure here means a change would break cases already running in production: guard it with
workflow.patched (or a new workflow type) instead of editing the recording. The recordings cover
every workflow type the worker runs and its paths (tests/histories/record.py names each scenario):
a command added on a recorded path (an extra timer, activity or child) fails its replay.
The recordings are plaintext; they replay through the project's (encrypting) data converter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio import workflow
from temporalio.worker import Replayer

from tests.protection.keys import DATA_CONVERTER
from worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def recorded_type(path: Path) -> str:
    first = json.loads(path.read_text())["history"]["events"][0]
    return first["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]


def test_every_workflow_type_the_worker_runs_has_recorded_histories() -> None:
    # A new workflow type gets its recordings (tests.histories.record) before it can run cases.
    recorded = {recorded_type(p) for p in HISTORIES}
    assert {workflow._Definition.must_from_class(w).name for w in WORKFLOWS} <= recorded


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    recorded = json.loads(path.read_text())
    history = WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"])

    result = await Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER).replay_workflow(history)

    assert result.replay_failure is None
