"""Bearer tokens → actors. The embedded default reads them from a YAML file (TOKENS_FILE)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from rules.actors import Actor, Role
from rules.policy import Policy


class _TokenEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    role: Role
    unit: str


class TokensError(Exception):
    pass


def load_tokens(path: str | Path, policy: Policy) -> dict[str, Actor]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise TokensError(f"tokens file {path}: not found") from None
    entries = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise TokensError(f"tokens file {path}: needs a non-empty 'tokens' mapping")
    actors: dict[str, Actor] = {}
    for token, raw in entries.items():
        try:
            entry = _TokenEntry.model_validate(raw)
        except ValidationError as err:
            first = err.errors()[0]
            raise TokensError(f"tokens file {path}: tokens.<{entry_label(raw)}>.{first['loc'][0]}: {first['msg']}") from None
        if entry.unit not in policy.units:
            raise TokensError(f"tokens file {path}: actor {entry.id}: unknown unit {entry.unit!r}")
        actors[str(token)] = Actor(**entry.model_dump())
    return actors


def entry_label(raw: object) -> str:
    return str(raw.get("id", "?")) if isinstance(raw, dict) else "?"
