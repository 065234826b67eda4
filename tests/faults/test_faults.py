"""The fault suite (`make faults`): 56 complaints driven through whole lifecycles over the HTTP API
on a real Temporal dev server, while the worker is SIGKILLed at random moments, the dev server is
restarted, the read model's PostgreSQL is stopped for a while and the SMS gateway refuses for a
while. Afterwards, for every case: the end state its lifecycle leads to; every clock that fell due
fired once; every notice delivered once (counted at the gateway and the SMTP listener); the read
model equal to the workflow's own state; every 2xx the API gave reflected in the case.

Real time, so the policy is a copy with clocks of seconds (processes.short_clock_policy). The API
runs in this process over ASGI; the worker and the dev server are subprocesses. Pauses between an
agent's steps (asyncio.sleep) spread the lifecycles across the faults: this suite is about real
time on purpose, nothing here waits for a clock to fall due by sleeping past it.
FAULTS_SEED=<n> replays one schedule of faults and pauses; the seed is printed.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from sqlmodel import Session, select

from api.main import create_app
from notifications.senders import message_id
from readmodel.store import ReadModel
from readmodel.tables import OutboxRow
from rules.lifecycle import TRANSITIONS, ComplaintAction
from rules.policy import load_policy
from settings import ROOT, Settings
from temporal_client import connect
from tests.conftest import auth
from tests.factories import complaint_body
from tests.faults.processes import DevServer, WorkerProcess, short_clock_policy
from tests.protection.keys import TEST_KEY_RING, with_keys
from tests.notifications.receivers import MailRecorder, SmsGateway, running_gateway, running_smtp
from tests.readmodel.postgres import PostgresCluster, PostgresUnavailable, running_cluster
from workflows.complaint import ComplaintWorkflow
from workflows.dispatch import DispatchWorkflow
from workflows.judgement import JudgementWorkflow

pytestmark = [pytest.mark.faults, pytest.mark.timeout(900)]

CASES = 56
STARTS_OVER_SECONDS = 90  # the cases' filings are spread over the first minute and a half
SETTLE_SECONDS = 180  # after the last step: retries after a killed attempt wait its 1 min timeout
GOOD_FINDING = "The courier missed the Monday route; the parcel is redelivered today by 16:00."
TICKET_FINDING = "The parcel lay two days in the Tianhe sorting area before it was scanned on Monday."
NAMING = {"city_branch": "gd-gz", "failing_link": "sorting", "smallest_unit": "gd-gz-tianhe"}
SCANS = {"kind": "scan_record", "reference": "scan://EX0000000001CN"}
A = ComplaintAction
STATUS_CHANGES = set(TRANSITIONS)


# -- the agents' side: every call retried until it is answered, every 2xx remembered ----------


@dataclass
class Accepted:
    case: str  # complaint id
    path: str
    status: int
    answer: dict[str, Any]


@dataclass
class Desk:
    http: httpx.AsyncClient
    temporal: Any
    rng: random.Random
    accepted: list[Accepted] = field(default_factory=list)
    failed_calls: int = 0  # 5xx or no answer while something was down: tried again

    async def pause(self, low: float = 1.0, high: float = 5.0) -> None:
        await asyncio.sleep(self.rng.uniform(low, high))

    async def _once(self, method: str, path: str, role: str, **kwargs: Any) -> httpx.Response | None:
        try:
            return await self.http.request(method, path, headers={**auth(role), **kwargs.pop("headers", {})},
                                           timeout=60, **kwargs)
        except (httpx.HTTPError, OSError, RuntimeError):
            return None

    async def read(self, path: str, ready: Callable[[dict], bool] = lambda _: True, seconds: float = 240) -> dict:
        deadline = time.monotonic() + seconds
        last = None
        while time.monotonic() < deadline:
            resp = await self._once("GET", path, "auditor")
            last = resp.text if resp is not None else "no answer"
            if resp is not None and resp.status_code == 200 and ready(resp.json()):
                return resp.json()
            await asyncio.sleep(0.5)
        raise AssertionError(f"GET {path} never ready: {last[:300] if last else last}")

    async def post(self, case: str, path: str, role: str, body: dict, took_effect: Callable[[], Awaitable[bool]],
                   *, headers: dict[str, str] | None = None, seconds: float = 300) -> dict | None:
        """POST until it is answered 2xx (remembered), or until a failed try turns out to have taken
        effect (a 409 or a 5xx after the workflow took the step: not a 2xx, so not counted)."""
        deadline = time.monotonic() + seconds
        last = ""
        while time.monotonic() < deadline:
            resp = await self._once("POST", path, role, json=body, headers=headers or {})
            if resp is not None and resp.is_success:
                answer = resp.json()
                self.accepted.append(Accepted(case, path, resp.status_code, answer))
                return answer
            last = f"{resp.status_code} {resp.text[:300]}" if resp is not None else "no answer"
            assert resp is None or resp.status_code in (404, 409) or resp.status_code >= 500, f"POST {path}: {last}"
            self.failed_calls += 1
            await asyncio.sleep(1)
            if await self._true(took_effect):
                return None
        raise AssertionError(f"POST {path} never went through: {last}")

    @staticmethod
    async def _true(check: Callable[[], Awaitable[bool]]) -> bool:
        try:
            return await asyncio.wait_for(check(), timeout=10)
        except Exception:
            return False  # the worker or the server is down: ask again later

    # the workflow's own word (a query), not the read model, decides whether a step took effect
    def complaint_is(self, cid: str, status: str, handling_round: int = 0) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            state = await self.temporal.get_workflow_handle(f"complaint-{cid}").query(ComplaintWorkflow.state)
            return (state.status.value, state.handling_round) == (status, handling_round)
        return check

    def dispatch_is(self, did: str, status: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            view = await self.temporal.get_workflow_handle(did).query(DispatchWorkflow.view)
            return view.status.value == status
        return check

    def judgement_is(self, jid: str, *statuses: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            view = await self.temporal.get_workflow_handle(jid).query(JudgementWorkflow.view)
            return view.status.value in statuses
        return check

    # -- steps ------------------------------------------------------------------------------

    async def file(self) -> str:
        key = f"faults-{uuid.uuid4().hex}"
        body = complaint_body()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # the same key again: the same complaint, never a second one
            resp = await self._once("POST", "/complaints", "front_seat", json=body, headers={"Idempotency-Key": key})
            if resp is not None and resp.is_success:
                cid = resp.json()["complaint_id"]
                self.accepted.append(Accepted(cid, "/complaints", resp.status_code, resp.json()))
                return cid
            assert resp is None or resp.status_code >= 500, f"filing: {resp.status_code} {resp.text[:300]}"
            self.failed_calls += 1
            await asyncio.sleep(1)
        raise AssertionError("filing never went through")

    async def act(self, cid: str, step: str, body: dict, then: str, handling_round: int = 0, role: str = "front_seat") -> None:
        await self.pause()
        await self.post(cid, f"/complaints/{cid}/{step}", role, body, self.complaint_is(cid, then, handling_round))

    async def resolve_and_call_back(self, cid: str, satisfied: bool = True, handling_round: int = 0) -> None:
        await self.act(cid, "resolution", {"solution": "redelivered today by a dedicated courier"}, "resolved", handling_round)
        await self.act(cid, "customer-confirmation", {"message": "Your parcel is out for delivery", "medium": "sms"},
                       "confirmed", handling_round)
        words = "Thank you" if satisfied else "It came broken"
        await self.act(cid, "callback", {"satisfied": satisfied, "customer_words": words},
                       "closed" if satisfied else "in_handling", handling_round + (0 if satisfied else 1))

    async def raise_(self, cid: str, path: str, body: dict, role: str = "front_seat") -> str:
        """A dispatch or ticket; a try that failed after the complaint raised it adopts that one."""
        await self.pause()

        async def raised() -> bool:
            return bool((await self.read(f"/complaints/{cid}/dispatches", seconds=5)))

        answer = await self.post(cid, f"/complaints/{cid}/{path}", role, body, raised)
        if answer is not None:
            return answer["dispatch_id"]
        [view] = await self.read(f"/complaints/{cid}/dispatches", lambda d: len(d) == 1)  # type: ignore[misc]
        return view["dispatch_id"]

    async def reply(self, cid: str, did: str, finding: str, role: str, **extra: str) -> None:
        await self.pause()
        await self.post(cid, f"/dispatches/{did}/reply", role, {"finding": finding, **extra}, self.dispatch_is(did, "answered"))

    async def judge(self, cid: str, step: str, body: dict, role: str, *then: str) -> None:
        jid = f"judgement-{cid}"
        await self.read(f"/judgements/{jid}")  # opened by the closing complaint
        await self.pause()
        await self.post(cid, f"/judgements/{jid}/{step}", role, body, self.judgement_is(jid, *then))


# -- lifecycles -------------------------------------------------------------------------------


@dataclass
class Expected:
    """Where a lifecycle leads: the complaint's status changes in order, and its children's ends."""

    status: str
    handling_round: int
    changes: list[str]
    dispatches: list[str] = field(default_factory=list)  # each dispatch's end status, in raising order
    judgement: str | None = None
    escalation_levels: list[int] = field(default_factory=list)  # rungs each dispatch climbed, when it waited


CLOSED_AT_FIRST_GO = [A.RECEIVE, A.CLASSIFY, A.TAKE_INTO_HANDLING, A.RESOLVE, A.CONFIRM_WITH_CUSTOMER, A.RECORD_SATISFIED_CALLBACK]


async def closed_at_first_go(desk: Desk, cid: str) -> Expected:
    await desk.act(cid, "handling", {"note": "asked the Tianhe station"}, "in_handling")
    await desk.resolve_and_call_back(cid)
    return Expected("closed", 0, CLOSED_AT_FIRST_GO)


async def reopened_by_the_call_back(desk: Desk, cid: str) -> Expected:
    await desk.act(cid, "handling", {"note": "asked the Tianhe station"}, "in_handling")
    await desk.resolve_and_call_back(cid, satisfied=False)
    await desk.resolve_and_call_back(cid, handling_round=1)
    again = [A.RESOLVE, A.CONFIRM_WITH_CUSTOMER, A.RECORD_SATISFIED_CALLBACK]
    return Expected("closed", 1, [*CLOSED_AT_FIRST_GO[:5], A.RECORD_DISSATISFIED_CALLBACK, *again])


async def dispatched_and_answered(desk: Desk, cid: str) -> Expected:
    """A direct dispatch answered: no judgement follows (DOMAIN §7: only an answered ticket's case)."""
    await desk.act(cid, "handling", {"note": "asking the station"}, "in_handling")
    did = await desk.raise_(cid, "dispatches", {"kind": "direct_dispatch", "unit": "gd-gz-tianhe",
                                                "instruction": "Check the scan records and call the customer"})
    await desk.reply(cid, did, GOOD_FINDING, "production_unit", failing_link="delivery")
    await desk.resolve_and_call_back(cid)
    return Expected("closed", 0, CLOSED_AT_FIRST_GO, dispatches=["answered"])


async def ticket_answered_and_accepted(desk: Desk, cid: str) -> Expected:
    """A ticket answered by Guangdong; the case closes into its judgement, sent and accepted."""
    await desk.act(cid, "handling", {"note": "a ticket for Guangdong"}, "in_handling")
    tid = await desk.raise_(cid, "tickets", {"assisting_unit": "gd", "instruction": "Find the failing link"})
    await desk.reply(cid, tid, TICKET_FINDING, "regional_cs", failing_link="Tianhe station sorting")
    await desk.resolve_and_call_back(cid)
    await desk.judge(cid, "send", {}, "front_seat", "awaiting_response")
    await desk.judge(cid, "accept", NAMING, "regional_cs", "accepted")
    return Expected("closed", 0, CLOSED_AT_FIRST_GO, dispatches=["answered"], judgement="accepted")


async def ticket_escalated_then_appealed(desk: Desk, cid: str, rungs: int) -> Expected:
    """Unanswered, the ticket climbs its whole ladder (18 s a rung), then Guangdong answers late;
    the judgement is appealed and arbitration finds no fault."""
    await desk.act(cid, "handling", {"note": "a ticket for Guangdong"}, "in_handling")
    tid = await desk.raise_(cid, "tickets", {"assisting_unit": "gd", "instruction": "Find the failing link"})
    # until the last rung's answer-by has passed too (ladder_exhausted)
    await desk.read(f"/dispatches/{tid}", lambda d: "ladder_exhausted" in [e["action"] for e in d["events"]], seconds=400)
    await desk.reply(cid, tid, TICKET_FINDING, "regional_cs", failing_link="Tianhe station sorting")
    await desk.resolve_and_call_back(cid)
    await desk.judge(cid, "send", {}, "front_seat", "awaiting_response")
    await desk.judge(cid, "appeal", {"reason": "the scans clear Tianhe", "evidence": [SCANS]}, "regional_cs", "in_arbitration")
    await desk.judge(cid, "decision", {"at_fault": False, "reason": "no fault found"}, "arbitration", "cancelled")
    return Expected("closed", 0, CLOSED_AT_FIRST_GO, dispatches=["answered"], judgement="cancelled",
                    escalation_levels=[rungs])


async def closed_as_unresolvable(desk: Desk, cid: str) -> Expected:
    await desk.act(cid, "handling", {"note": "the customer stopped answering"}, "in_handling")
    await desk.act(cid, "unresolvable-closure", {"reason": "customer withdrew the complaint"}, "closed", role="supervisor")
    return Expected("closed", 0, [A.RECEIVE, A.CLASSIFY, A.TAKE_INTO_HANDLING, A.CLOSE_UNRESOLVABLE])


async def left_waiting(desk: Desk, cid: str) -> Expected:
    """Nobody takes it: its first-contact and solution clocks fall due, the supervisor is told."""
    return Expected("classified", 0, [A.RECEIVE, A.CLASSIFY])


# -- the faults -------------------------------------------------------------------------------


@dataclass
class Faults:
    server: DevServer
    worker: WorkerProcess
    postgres: PostgresCluster
    gateway: SmsGateway
    rng: random.Random
    seed: int
    log: list[str] = field(default_factory=list)
    postgres_outages: int = 0
    gateway_outages: int = 0

    async def run(self, started: float) -> None:
        """At random moments within fixed windows (seconds after the first filing)."""
        async def at(window: tuple[float, float]) -> None:
            await asyncio.sleep(max(0.0, started + self.rng.uniform(*window) - time.monotonic()))

        async def kill_worker(window: tuple[float, float]) -> None:
            await at(window)
            await asyncio.to_thread(self.worker.kill)
            self.note("worker SIGKILLed")
            await asyncio.sleep(self.rng.uniform(1, 4))
            await asyncio.to_thread(self.worker.start)

        await kill_worker((5, 15))
        await at((18, 24))
        self.gateway.refusing, self.gateway_outages = True, self.gateway_outages + 1
        self.note("SMS gateway refusing (503)")
        await kill_worker((28, 36))
        await at((40, 45))
        self.gateway.refusing = False
        self.note("SMS gateway back")
        await at((50, 56))
        await asyncio.to_thread(self.postgres.stop)
        self.postgres_outages += 1
        self.note("read-model PostgreSQL stopped")
        await asyncio.sleep(self.rng.uniform(10, 15))
        await asyncio.to_thread(self.postgres.start, same_port=True)
        self.note("read-model PostgreSQL started")
        await at((72, 80))
        await asyncio.to_thread(self.server.restart)
        self.note("Temporal dev server restarted")
        if not self.worker.alive():  # a worker may give up on a server that was gone: a new one
            await asyncio.to_thread(self.worker.start)
            self.note("worker started again (it had exited)")
        await kill_worker((95, 110))
        await kill_worker((125, 140))

    def note(self, what: str) -> None:
        self.log.append(f"{datetime.now(UTC):%H:%M:%S} {what}")


# -- the run ----------------------------------------------------------------------------------


@asynccontextmanager
async def system(tmp_path: Path) -> AsyncIterator[tuple[Desk, Faults, Settings, ReadModel, MailRecorder]]:
    seed = int(os.environ.get("FAULTS_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    async with AsyncExitStack() as stack:
        try:
            postgres = stack.enter_context(running_cluster())
        except PostgresUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)
        gateway = stack.enter_context(running_gateway())
        mail, smtp_port = stack.enter_context(running_smtp())
        server = DevServer(tmp_path)
        await asyncio.to_thread(server.start)
        stack.callback(server.stop)
        settings = Settings(
            temporal_address=server.address, temporal_task_queue=f"faults-{uuid.uuid4().hex[:6]}",
            database_url=postgres.create_database("faults"), data_dir=tmp_path, policy_file=short_clock_policy(tmp_path),
            tokens_file=ROOT / "config" / "tokens.dev.yaml", smtp_host="127.0.0.1", smtp_port=smtp_port,
            smtp_from="客服中心 <complaints@carrier.example>", sms_gateway_url=gateway.url,
            payload_keys=with_keys(TEST_KEY_RING),
        )
        read_model = ReadModel(settings.database_url)
        read_model.create_schema()
        stack.callback(read_model.dispose)
        # the worker reads the same settings from its environment, as in production
        worker = WorkerProcess({key.upper(): environment_value(getattr(settings, key)) for key in settings.model_fields_set},
                               tmp_path / "worker.log")
        await asyncio.to_thread(worker.start)
        stack.callback(worker.stop)
        client = await connect(settings)
        app = create_app(settings, temporal=client)
        manager = await stack.enter_async_context(LifespanManager(app))
        # An error inside the app is a 500 to the caller, as over a socket: the desk tries again.
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app, raise_app_exceptions=False), base_url="http://api"))
        faults = Faults(server, worker, postgres, gateway, rng, seed)
        yield Desk(http, client, rng), faults, settings, read_model, mail


async def test_every_case_ends_where_its_lifecycle_leads_through_kills_restarts_and_outages(tmp_path: Path) -> None:
    began = time.monotonic()
    async with system(tmp_path) as (desk, faults, settings, read_model, mail):
        policy = load_policy(settings.policy_file)
        # The normal ladder's four steps less its first (the director of the city branch): a ticket
        # to a province (gd) has no city branch above it.
        rungs = len(policy.escalation["normal_ticket"].steps) - 1
        lifecycles: list[Callable[[Desk, str], Awaitable[Expected]]] = [
            closed_at_first_go, reopened_by_the_call_back, dispatched_and_answered,
            lambda d, c: ticket_escalated_then_appealed(d, c, rungs), closed_as_unresolvable, left_waiting,
            ticket_answered_and_accepted,
        ]

        stuck: list[str] = []

        async def case(n: int) -> tuple[str, Expected | None]:
            lifecycle = lifecycles[n % len(lifecycles)]
            # tickets first: their ladders take the longest
            start = desk.rng.uniform(0, 15) if lifecycle is lifecycles[3] else n * STARTS_OVER_SECONDS / CASES
            await asyncio.sleep(start)
            cid = await desk.file()
            try:
                return cid, await lifecycle(desk, cid)
            except AssertionError as stopped:  # this case could not go on: say where, check the others
                detail = await desk.read(f"/complaints/{cid}")
                stuck.append(f"{cid} ({getattr(lifecycle, '__name__', 'ticket')}) stopped: {stopped}; "
                             f"status {detail['status']}, timeline {[e['action'] for e in detail['timeline']]}")
                return cid, None

        started = time.monotonic()
        injector = asyncio.create_task(faults.run(started))
        results = await asyncio.gather(*(case(n) for n in range(CASES)))
        await injector
        driven = time.monotonic() - started
        expected = {cid: want for cid, want in results if want is not None}

        problems = stuck + await settled_and_checked(desk, read_model, faults.gateway, mail, expected)
        retries = sum(max(0, r.attempts - 1) for r in outbox(read_model))
        print(
            f"\nfault suite: {len(expected)} cases, {faults.worker.kills} worker kills, "
            f"{faults.server.restarts} dev-server restart(s), {faults.postgres_outages} PostgreSQL outage(s), "
            f"{faults.gateway_outages} gateway outage(s) ({sum(r.status == 503 for r in faults.gateway.requests)} texts refused); "
            f"{len(outbox(read_model))} notices ({len(faults.gateway.handset)} texts, {len(mail.mailbox)} mails), "
            f"{retries} notice retries, {len(faults.gateway.repeats)} texts re-sent after delivery (dropped by key), "
            f"{len(mail.received) - len(mail.mailbox)} mails re-sent (same Message-ID), {desk.failed_calls} API calls retried, "
            f"{len(desk.accepted)} accepted; driven in {driven:.0f} s, {time.monotonic() - began:.0f} s in all; "
            f"FAULTS_SEED={faults.seed}\n  "
            + "\n  ".join(faults.log)
        )
        assert faults.worker.kills >= 4 and faults.server.restarts == 1
        assert not problems, "\n".join(problems[:40])


def environment_value(value: Any) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def outbox(read_model: ReadModel) -> list[OutboxRow]:
    with Session(read_model.engine) as session:
        return list(session.exec(select(OutboxRow)))


async def settled_and_checked(desk: Desk, read_model: ReadModel, gateway: SmsGateway, mail: MailRecorder,
                              expected: dict[str, Expected]) -> list[str]:
    # Settled: every notice out of the outbox, every read-model row caught up with its workflow.
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        if all(r.status == "delivered" for r in outbox(read_model)) and not await mismatches(desk, expected):
            break
        await asyncio.sleep(2)
    checked_at = datetime.now(UTC)
    problems = await mismatches(desk, expected)
    for cid, want in expected.items():
        problems += await case_problems(desk, cid, want, checked_at)
    problems += notice_problems(outbox(read_model), gateway, mail)
    return problems


async def mismatches(desk: Desk, expected: dict[str, Expected]) -> list[str]:
    """The read model against each workflow's own state (a query), case by case."""
    found = []
    for cid in expected:
        row = await desk.read(f"/complaints/{cid}")
        state = await desk.temporal.get_workflow_handle(f"complaint-{cid}").query(ComplaintWorkflow.state)
        if (row["status"], row["handling_round"], row["one_time_resolution"]) != (
                state.status.value, state.handling_round, state.one_time_resolution):
            found.append(f"{cid}: row {row['status']}/{row['handling_round']}, workflow {state.status.value}/{state.handling_round}")
        for view in await desk.read(f"/complaints/{cid}/dispatches"):
            held = await desk.temporal.get_workflow_handle(view["dispatch_id"]).query(DispatchWorkflow.view)
            if (view["status"], view["escalation_level"]) != (held.status.value, held.escalation_level):
                found.append(f"{view['dispatch_id']}: row {view['status']}/{view['escalation_level']}, "
                             f"workflow {held.status.value}/{held.escalation_level}")
        if row["status"] == "closed" and expected[cid].judgement:
            jid = f"judgement-{cid}"
            judged = await desk.read(f"/judgements/{jid}")
            held = await desk.temporal.get_workflow_handle(jid).query(JudgementWorkflow.view)
            if judged["status"] != held.status.value:
                found.append(f"{jid}: row {judged['status']}, workflow {held.status.value}")
    return found


async def case_problems(desk: Desk, cid: str, want: Expected, checked_at: datetime) -> list[str]:
    problems: list[str] = []
    detail = await desk.read(f"/complaints/{cid}")
    timeline = detail["timeline"]
    changes = [e["action"] for e in timeline if e["action"] in STATUS_CHANGES]
    if (detail["status"], detail["handling_round"], changes) != (want.status, want.handling_round, want.changes):
        problems.append(f"{cid}: ended {detail['status']} round {detail['handling_round']} after {changes}; its "
                        f"lifecycle leads to {want.status} round {want.handling_round} after {[str(a) for a in want.changes]}")

    # Every accepted call is in the case: each 2xx step is one status change (or a dispatch, a reply, a judgement step).
    accepted = [a for a in desk.accepted if a.case == cid]
    done = Counter(changes)
    for step, action in {"handling": A.TAKE_INTO_HANDLING, "resolution": A.RESOLVE, "customer-confirmation": A.CONFIRM_WITH_CUSTOMER,
                         "unresolvable-closure": A.CLOSE_UNRESOLVABLE}.items():
        ok = sum(a.path.endswith(f"/{step}") for a in accepted)
        if ok > done[action]:
            problems.append(f"{cid}: {ok} accepted {step} calls, {done[action]} {action} in the timeline")
    callbacks = [a for a in accepted if a.path.endswith("/callback")]
    if len(callbacks) > done[A.RECORD_SATISFIED_CALLBACK] + done[A.RECORD_DISSATISFIED_CALLBACK]:
        problems.append(f"{cid}: {len(callbacks)} accepted call-backs, fewer in the timeline")

    # Clocks: every one that fell due unmet fired, none fired twice, none early.
    clocks = await desk.temporal.get_workflow_handle(f"complaint-{cid}").query(ComplaintWorkflow.clocks)
    fired = Counter((e["detail"]["clock"], e["detail"]["due"]) for e in timeline if e["action"] == A.CLOCK_OVERDUE)
    for (name, due), times in fired.items():
        if times > 1:
            problems.append(f"{cid}: clock {name} due {due} fired {times} times")
    # a closed case's clocks stop at its closing: only those due before it fell due
    closing = [datetime.fromisoformat(e["at"]) for e in timeline if e["to_status"] == "closed"]
    until = min([checked_at - timedelta(seconds=5), *closing])
    for clock in clocks:
        fell_due = clock.due < until and (clock.met_at is None or clock.met_at > clock.due)
        if fell_due and (clock.overdue_at is None or not fired[(clock.name, clock.due.isoformat())]):
            problems.append(f"{cid}: clock {clock.name} due {clock.due:%H:%M:%S} fell due unmet and did not fire")
        if clock.overdue_at is not None and clock.overdue_at < clock.due:
            problems.append(f"{cid}: clock {clock.name} fired at {clock.overdue_at} before its due {clock.due}")
    if want.changes[-1] == A.CLASSIFY and detail["missed_clocks"] < 2:
        problems.append(f"{cid}: left waiting, {detail['missed_clocks']} missed clocks (first contact and solution fell due)")

    dispatches = await desk.read(f"/complaints/{cid}/dispatches")
    if [d["status"] for d in dispatches] != want.dispatches:
        problems.append(f"{cid}: dispatches ended {[d['status'] for d in dispatches]}, expected {want.dispatches}")
    # A dispatch's clocks: each rung climbed once, in order; one answered late had the level above told.
    for n, view in enumerate(dispatches):
        events = (await desk.read(f"/dispatches/{view['dispatch_id']}"))["events"]
        climbed = [e["detail"].get("level") for e in events if e["action"] == "escalate"]
        if climbed != list(range(1, len(climbed) + 1)):
            problems.append(f"{view['dispatch_id']}: escalated {climbed}, each rung once and in order expected")
        # (an answer that reaches the workflow with its due timer, while a worker was down, comes first)
        late = view["answered_at"] and datetime.fromisoformat(view["answered_at"]) - datetime.fromisoformat(view["due"])
        if late and late > timedelta(minutes=1) and not climbed:
            problems.append(f"{view['dispatch_id']}: answered {late} late, and nobody above was told")
        if n < len(want.escalation_levels):
            exhausted = [e for e in events if e["action"] == "ladder_exhausted"]
            if len(climbed) != want.escalation_levels[n] or len(exhausted) != 1:
                problems.append(f"{view['dispatch_id']}: escalated {climbed}, ladder ended {len(exhausted)} times; "
                                f"expected its {want.escalation_levels[n]} rungs, then the end once")
    if want.judgement is not None:
        judged = await desk.read(f"/judgements/judgement-{cid}")
        if judged["status"] != want.judgement:
            problems.append(f"{cid}: judgement ended {judged['status']}, expected {want.judgement}")
    elif (await desk.http.get(f"/judgements/judgement-{cid}", headers=auth("auditor"))).status_code != 404:
        problems.append(f"{cid}: a judgement without an answered ticket")
    return problems


def notice_problems(rows: list[OutboxRow], gateway: SmsGateway, mail: MailRecorder) -> list[str]:
    """Each outbox row delivered, and once: one text per key on the handsets, one mail per
    Message-ID in the mailboxes, no two keys for one (case, step, recipient), nothing unrecorded."""
    problems = [f"notice {r.case_id}/{r.step} to {r.recipient_id} by {r.channel}: {r.status} ({r.last_error})"
                for r in rows if r.status != "delivered"]
    targets = Counter((r.case_id, r.step, r.recipient_id, r.channel) for r in rows)
    problems += [f"notice {target} has {n} outbox rows" for target, n in targets.items() if n > 1]
    texts = Counter(m["reference"] for m in gateway.handset)
    mails = Counter(str(m.message["Message-ID"]) for m in mail.mailbox)
    for row in rows:
        got = texts[row.id] if row.channel == "sms" else mails[message_id(row.id)]
        if row.status == "delivered" and got != 1:
            problems.append(f"notice {row.case_id}/{row.step} to {row.recipient_id} by {row.channel}: arrived {got} times")
    keys = {r.id for r in rows}
    problems += [f"a text nobody recorded: {ref}" for ref in texts if ref not in keys]
    problems += [f"a mail nobody recorded: {mid}" for mid in mails if mid not in {message_id(k) for k in keys}]
    return problems
