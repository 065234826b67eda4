"""The HTTP API stays what clients were built against: every operation of the frozen list
(tests/api/openapi_contract.json, taken from the OpenAPI before the redesign) is still there with its
operationId, status codes, parameters, body and answer, and every schema keeps its fields. Additions
are allowed; a removal or rename fails here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api.main import create_app

CONTRACT = json.loads((Path(__file__).parent / "openapi_contract.json").read_text(encoding="utf-8"))


def schema_name(schema: dict[str, Any] | None) -> str | None:
    if schema is None:
        return None
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    items = schema.get("items", {})
    if schema.get("type") == "array" and "$ref" in items:
        return f"list[{items['$ref'].rsplit('/', 1)[1]}]"
    return None


def operation_now(operation: dict[str, Any]) -> dict[str, Any]:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    success = next(r for code, r in operation["responses"].items() if code.startswith("2"))
    return {
        "operationId": operation["operationId"],
        "statuses": sorted(operation["responses"]),
        "parameters": sorted(p["name"] for p in operation.get("parameters", [])),
        "body": schema_name(body),
        "response": schema_name(success.get("content", {}).get("application/json", {}).get("schema")),
    }


def test_every_operation_of_the_contract_is_still_served_as_it_was() -> None:
    paths = create_app().openapi()["paths"]
    changed = []
    for frozen in CONTRACT["operations"]:
        served = paths.get(frozen["path"], {}).get(frozen["method"])
        if served is None:
            changed.append(f"{frozen['method'].upper()} {frozen['path']}: gone")
            continue
        now = operation_now(served)
        expected = {k: v for k, v in frozen.items() if k not in ("path", "method")}
        # statuses: each frozen one still answered; one documented since (401, 404, 429, …) is an addition
        kept = {k: set(v) <= set(now[k]) if k == "statuses" else now[k] == v for k, v in expected.items()}
        if not all(kept.values()):
            changed.append(f"{frozen['method'].upper()} {frozen['path']}: was {expected}, is {now}")
    assert not changed, "the HTTP API changed:\n" + "\n".join(changed)


def test_every_schema_keeps_its_fields() -> None:
    schemas = create_app().openapi()["components"]["schemas"]
    lost = {name: sorted(set(fields) - set(schemas.get(name, {}).get("properties", {})))
            for name, fields in CONTRACT["schemas"].items()}
    missing = sorted(set(CONTRACT["schemas"]) - set(schemas))
    assert not missing, f"schemas gone: {missing}"
    assert not {n: f for n, f in lost.items() if f}, f"fields gone: {lost}"
