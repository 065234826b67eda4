"""The payload key ring: the current key encrypts, every key on the ring decrypts.

Rotation adds a key and makes it current; the old keys stay on the ring for as long as any history
written under them may be read (open cases, the namespace's retention). A ring is JSON,
`{"current": "<id>", "keys": {"<id>": "<base64 of 32 bytes>", ...}}`, read from the PAYLOAD_KEYS
environment variable or else from the key file (PAYLOAD_KEYS_FILE, by default data/payload-keys.json).

    python -m protection.keys create [FILE]      # a new ring with one key (refuses to overwrite)
    python -m protection.keys ensure [FILE]      # create unless one is there (a deployment's first start)
    python -m protection.keys rotate [FILE]      # add a key and make it current, keep the others (one host)
    python -m protection.keys add [FILE]         # add a key, not yet current (step 1 of a rolling rotation)
    python -m protection.keys use KEY_ID [FILE]  # make a key on the ring current (step 2)
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

KEY_BYTES = 32  # AES-256


class KeyRingError(Exception):
    pass


@dataclass(frozen=True)
class KeyRing:
    current: str
    keys: Mapping[str, bytes] = field(repr=False)  # never printed: a repr in a log line would leak them

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise KeyRingError(f"current key {self.current!r} is not on the ring (keys: {', '.join(sorted(self.keys))})")
        for key_id, key in self.keys.items():
            if len(key) != KEY_BYTES:
                raise KeyRingError(f"key {key_id!r}: {len(key)} bytes, needs {KEY_BYTES} (AES-256)")

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current]

    @classmethod
    def parse(cls, text: str, source: str) -> KeyRing:
        """A ring from its JSON; errors name the source and the field, never a key."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise KeyRingError(f"{source}: not JSON ({err.msg} at line {err.lineno})") from None
        if not isinstance(data, dict) or not isinstance(data.get("current"), str) or not isinstance(data.get("keys"), dict):
            raise KeyRingError(f'{source}: needs {{"current": "<key id>", "keys": {{"<key id>": "<base64>"}}}}')
        keys: dict[str, bytes] = {}
        for key_id, encoded in data["keys"].items():
            try:
                keys[key_id] = base64.b64decode(str(encoded), validate=True)
            except binascii.Error:
                raise KeyRingError(f"{source}: keys.{key_id}: not base64") from None
        try:
            return cls(current=data["current"], keys=keys)
        except KeyRingError as err:
            raise KeyRingError(f"{source}: {err}") from None

    def to_json(self) -> str:
        return json.dumps({"current": self.current,
                           "keys": {key_id: base64.b64encode(key).decode() for key_id, key in self.keys.items()}}, indent=2)

    @classmethod
    def new(cls, key_id: str | None = None) -> KeyRing:
        key_id = key_id or new_key_id()
        return cls(current=key_id, keys={key_id: secrets.token_bytes(KEY_BYTES)})

    def with_new_key(self, key_id: str | None = None) -> tuple[KeyRing, str]:
        """This ring with one more key, not current yet: every process learns to decrypt it first."""
        key_id = key_id or new_key_id()
        if key_id in self.keys:
            raise KeyRingError(f"key {key_id!r} is already on the ring")
        return KeyRing(current=self.current, keys={**self.keys, key_id: secrets.token_bytes(KEY_BYTES)}), key_id

    def using(self, key_id: str) -> KeyRing:
        """This ring with `key_id` current; the others still decrypt."""
        if key_id not in self.keys:
            raise KeyRingError(f"key {key_id!r} is not on the ring (keys: {', '.join(sorted(self.keys))})")
        return KeyRing(current=key_id, keys=self.keys)

    def rotated(self) -> KeyRing:
        """A new current key in one step: right where every process restarts together (`make run`)."""
        ring, key_id = self.with_new_key()
        return ring.using(key_id)

    @classmethod
    def read(cls, path: Path) -> KeyRing:
        try:
            return cls.parse(path.read_text(encoding="utf-8"), str(path))
        except FileNotFoundError:
            raise KeyRingError(
                f"no payload key ring: {path} does not exist and PAYLOAD_KEYS is not set"
                " (`make run` creates a development ring; elsewhere: python -m protection.keys create FILE)") from None

    def write(self, path: Path) -> None:
        """Written 0600 from the first byte, then moved into place, so no reader ever sees half a ring."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".new")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(self.to_json() + "\n")
        os.replace(partial, path)


def new_key_id() -> str:
    """Dated, so a reader of the ring sees which key is older; random, so two rotations never collide."""
    return f"{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"


def ensure_key_ring(path: Path) -> bool:
    """Create a ring with one key at `path` unless one is there; True if it was created."""
    if path.exists():
        return False
    KeyRing.new().write(path)
    return True


def main(argv: list[str]) -> int:
    from settings import get_settings

    command, args = (argv[0], argv[1:]) if argv else ("", [])
    if command not in ("create", "ensure", "rotate", "add", "use") or (command == "use" and not args):
        print(__doc__.split("\n\n")[-1], file=sys.stderr)
        return 2
    key_id = args.pop(0) if command == "use" else None
    path = Path(args[0]) if args else get_settings().payload_key_ring_path
    restart = "Restart the workers, the API and the codec server to take it up."
    try:
        if command == "create":
            if not ensure_key_ring(path):
                raise KeyRingError(f"{path} exists: rotate it instead of replacing it (its keys still decrypt old histories)")
            print(f"created {path} with key {KeyRing.read(path).current}")
        elif command == "ensure":
            created = ensure_key_ring(path)
            print(f"{'created' if created else 'kept'} {path}: current key {KeyRing.read(path).current}")
        elif command == "add":
            ring, added = KeyRing.read(path).with_new_key()
            ring.write(path)
            print(f"{path}: key {added} added, {ring.current} still current. {restart}"
                  f" Then: python -m protection.keys use {added}")
        else:
            ring = KeyRing.read(path).rotated() if command == "rotate" else KeyRing.read(path).using(str(key_id))
            ring.write(path)
            print(f"{path}: current key is now {ring.current}; {len(ring.keys) - 1} other key(s) kept for decrypting. {restart}")
    except KeyRingError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
