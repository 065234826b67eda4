"""Bearer tokens → actors. The embedded default reads them from a YAML file (TOKENS_FILE).

The server keeps only each token's SHA-256 digest: a memory dump, a log of the services or a page
session never holds a usable token. A presented token is hashed and compared with every known digest
in constant time (hmac.compare_digest, no early exit), so the time an answer takes says nothing about
which digest came close.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
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


def token_digest(token: str) -> str:
    """The hex SHA-256 of a token: what the server keeps, and what a page session names."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class KnownTokens:
    """The actors by their tokens' digests; the raw tokens are dropped once hashed."""

    by_digest: tuple[tuple[str, Actor], ...]

    def actor_for(self, token: str) -> Actor | None:
        """The actor a presented bearer token stands for, or None."""
        return self.actor_for_digest(token_digest(token))

    def seat(self, actor_id: str) -> Actor | None:
        """The actor with this id (a seat a case can be handed over to), or None."""
        return next((actor for _, actor in self.by_digest if actor.id == actor_id), None)

    def actor_for_digest(self, digest: str) -> Actor | None:
        found = None
        presented = digest.encode("ascii", "replace")
        for known, actor in self.by_digest:  # every digest compared, whichever matches
            if hmac.compare_digest(known.encode("ascii"), presented):
                found = actor
        return found


def load_tokens(path: str | Path, policy: Policy) -> KnownTokens:
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
        actors[token_digest(str(token))] = Actor(**entry.model_dump())
    return KnownTokens(tuple(actors.items()))


def entry_label(raw: object) -> str:
    return str(raw.get("id", "?")) if isinstance(raw, dict) else "?"
