"""What Temporal stores without encryption carries no personal data (DOMAIN §9, PIPL art. 51).

Temporal encrypts nothing itself: the codec seals payloads, but workflow ids, search attributes and
the logs are stored and shown as written. A complaint is filed and handled, then its raw history
(fetched without the codec, as bytes), its visibility record (list and describe without the codec:
search attributes, memo, summary) and every log line are searched for its names, phones and addresses.
"""

from __future__ import annotations

import logging

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from tests.conftest import Stack, auth
from tests.factories import complaint_body
from tests.protection.history import payloads_in, without_codec
from tests.protection.keys import DATA_CONVERTER

PEOPLE = {
    "complainant": {"name": "欧阳晓梅", "phone": "13912345678", "tier": "vip"},
    "sender": {"name": "Zhuge Liang", "phone": "15087654321", "address": "88 Tianhe Road, Guangzhou"},
    "recipient": {"name": "Sima Yi", "phone": "18611112222", "address": "Room 1203, 7 Wensan Road, Hangzhou"},
}
# Every personal value filed, as the bytes it would be stored as (UTF-8, or JSON's \u escapes).
NEEDLES = sorted({v for who in PEOPLE.values() for k, v in who.items() if k != "tier"})


def leaks(blob: bytes) -> list[str]:
    escaped = {n: n.encode("unicode_escape") for n in NEEDLES}
    return [n for n in NEEDLES if n.encode() in blob or escaped[n] in blob]


async def test_no_name_phone_or_address_in_history_visibility_or_logs(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    filed = await stack.http.post("/complaints", json=complaint_body(**PEOPLE), headers=auth("front_seat"))
    assert filed.status_code == 201, filed.text
    cid = filed.json()["complaint_id"]
    for step, body in (("handling", {"note": "asked the Tianhe station"}),
                       ("resolution", {"solution": "delivered today by a dedicated courier"})):
        resp = await stack.http.post(f"/complaints/{cid}/{step}", json=body, headers=auth("front_seat"))
        assert resp.status_code == 200, resp.text
    workflow_id = f"complaint-{cid}"
    plain = without_codec(stack.env.client)

    history = await plain.get_workflow_handle(workflow_id).fetch_history()
    assert leaks(b"".join(e.SerializeToString() for e in history.events)) == []
    # The data is there, sealed: every payload the project wrote is encrypted (not the SDK's own
    # bookkeeping in its markers: sequence numbers, activity names, patch ids), and the codec reads it back.
    marker = EventType.EVENT_TYPE_MARKER_RECORDED
    ours = [p for e in history.events if e.event_type != marker for p in payloads_in(e)] + [
        p for e in history.events if e.event_type == marker
        for p in e.marker_recorded_event_attributes.details["result"].payloads]
    assert len(ours) > 10 and {p.metadata["encoding"] for p in ours} == {b"binary/encrypted"}
    started = history.events[0]
    assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    opened = await DATA_CONVERTER.decode(started.workflow_execution_started_event_attributes.input.payloads)
    assert "欧阳晓梅" in str(opened) and "Room 1203" in str(opened)

    listed = [w async for w in plain.list_workflows(f"WorkflowId = '{workflow_id}'")]
    assert len(listed) == 1
    assert listed[0].search_attributes  # the case's attributes are there to be searched, in plaintext
    assert leaks(listed[0].raw_info.SerializeToString()) == []
    described = await plain.get_workflow_handle(workflow_id).describe()
    assert leaks(described.raw_description.SerializeToString()) == []
    assert leaks(workflow_id.encode()) == []

    assert caplog.records, "nothing was logged: the log check would prove nothing"
    assert leaks(caplog.text.encode()) == [] and leaks(" ".join(str(r.args) for r in caplog.records).encode()) == []


async def test_a_failure_message_and_stack_trace_are_encrypted_too() -> None:
    # An activity failing on a customer's record may name them; Temporal stores failures as written
    # unless the failure converter moves message and stack trace into the encoded attributes.
    try:
        raise ApplicationError("no delivery to Sima Yi at Room 1203, 7 Wensan Road, Hangzhou (18611112222)")
    except ApplicationError as raised:
        failure = Failure()
        await DATA_CONVERTER.encode_failure(raised, failure)
    assert failure.message == "Encoded failure" and failure.stack_trace == ""
    assert leaks(failure.SerializeToString()) == []
    assert "Sima Yi" in str(await DATA_CONVERTER.decode_failure(failure))
