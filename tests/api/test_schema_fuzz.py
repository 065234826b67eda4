"""The whole OpenAPI schema, fuzzed: schemathesis draws requests for every operation — valid by the
schema and not — and each is sent with every role's token and with none, to the real app on the
real Temporal dev server. No answer may be a 5xx, and every status must be one the schema
documents for that operation (with a body of the documented media type and shape).

Every token of config/tokens.dev.yaml is sent (one per role, two for the front seat). schemathesis draws the cases (Hypothesis, derandomized: the same cases every run) and checks the
answers; the requests go over ASGI through the `stack` fixture's client, in the test's own event
loop. (schemathesis' own ASGI transport would run the app on an event loop of its own thread,
away from the Temporal client and worker the stack runs here.) A complaint is filed first, so the
operations on a complaint are also tried on one that exists.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from settings import ROOT
from tests.api.test_complaint_lifecycle import file
from tests.conftest import Stack

ROLE_TOKENS = list(yaml.safe_load((ROOT / "config" / "tokens.dev.yaml").read_text(encoding="utf-8"))["tokens"])
# Per operation: this many cases of each mode, each sent once per role and once without a token.
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def drawn(operation: Any, mode: GenerationMode, count: int, **fixed: Any) -> list[Any]:
    """`count` cases of an operation, the same each run."""
    cases: list[Any] = []

    @given(operation.as_strategy(generation_mode=mode, **fixed))
    @settings(max_examples=count, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    def draw(case: Any) -> None:
        if len(cases) < count:
            cases.append(case)

    try:
        draw()
    except Unsatisfiable:  # nothing to make invalid: an operation without parameters or body
        pass
    return cases


async def send(http: httpx.AsyncClient, case: Any, token: str | None) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url="http://api",
                                      headers={"Authorization": f"Bearer {token}"} if token else None)
    body = {k: kwargs[k] for k in ("json", "data") if k in kwargs}
    if "data" in body:
        body = {"content": body["data"]}
    return await http.request(kwargs["method"], kwargs["url"], headers=kwargs.get("headers"),
                              params=kwargs.get("params"), cookies=kwargs.get("cookies") or None, **body)


async def test_no_request_drawn_from_the_schema_gets_a_5xx_or_an_undocumented_status(stack: Stack) -> None:
    existing = (await file(stack))["complaint_id"]
    schema = schemathesis.openapi.from_dict((await stack.http.get("/openapi.json")).json())
    started = time.monotonic()
    failures: list[str] = []
    statuses: dict[int, int] = {}
    tried: dict[str, set[str | None]] = {}
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        fixed = {"path_parameters": {"complaint_id": existing}} if "{complaint_id}" in operation.path else {}
        cases = [c for mode, n in EXAMPLES.items() for c in drawn(operation, mode, n)]
        if fixed:
            cases += drawn(operation, GenerationMode.POSITIVE, EXAMPLES[GenerationMode.POSITIVE], **fixed)
        for case in cases:
            for token in [*ROLE_TOKENS, None]:
                sent += 1
                tried.setdefault(f"{operation.method} {operation.path}", set()).add(token)
                try:
                    response = await send(stack.http, case, token)
                except Exception as crashed:  # over ASGI the app's unhandled error reaches us: what a 500 hides
                    failures.append(f"{operation.method.upper()} {operation.path} as {token}: server error: "
                                    f"{crashed!r:.300} for {case.path_parameters} {case.query} {case.body!r:.200}")
                    continue
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except FailureGroup as failed:  # what broke, for which request
                    broke = "; ".join(str(e).strip().splitlines()[0] for e in failed.exceptions)
                    failures.append(f"{operation.method.upper()} {operation.path} as {token}: {broke}: "
                                    f"{response.status_code} {response.text[:200]} for {case.body!r:.200}")
    elapsed = time.monotonic() - started
    print(f"schema fuzz: {sent} requests in {elapsed:.1f} s, statuses {dict(sorted(statuses.items()))}")
    assert not failures, f"{len(failures)} of {sent} answers broke the schema:\n" + "\n".join(failures[:40])
    # every operation of the schema was tried with every token and without one, not an empty run
    operations = sum(len(methods) for methods in schema.raw_schema["paths"].values())
    assert len(tried) == operations and all(len(tokens) == len(ROLE_TOKENS) + 1 for tokens in tried.values())
