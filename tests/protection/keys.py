"""The key rings the tests encrypt with: fixed keys (never used anywhere else), so what one test
run records another can read."""

from __future__ import annotations

import hashlib

from pydantic import SecretStr

from protection.keys import KeyRing
from settings import Settings
from temporal_client import data_converter


def fixed_key(name: str) -> bytes:
    return hashlib.sha256(f"complaint-desk test payload key {name}".encode()).digest()


TEST_KEY_RING = KeyRing(current="test-1", keys={"test-1": fixed_key("test-1")})
# The ring after a rotation: a new current key, the old one kept for decrypting.
ROTATED_KEY_RING = KeyRing(current="test-2", keys={"test-1": fixed_key("test-1"), "test-2": fixed_key("test-2")})


def with_keys(ring: KeyRing) -> SecretStr:
    """The PAYLOAD_KEYS setting for a ring."""
    return SecretStr(ring.to_json())


DATA_CONVERTER = data_converter(Settings(payload_keys=with_keys(TEST_KEY_RING)))
