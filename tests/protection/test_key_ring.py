"""The key ring and the codec on their own: the current key encrypts, every key on the ring decrypts,
payloads that are not encrypted pass through, and a ring file is private and complete."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from protection.codec import EncryptionCodec, PayloadDecryptionError
from protection.keys import KeyRing, KeyRingError, ensure_key_ring, main
from tests.protection.keys import ROTATED_KEY_RING, TEST_KEY_RING, fixed_key

LI_NA = Payload(metadata={"encoding": b"json/plain"}, data='{"name":"Li Na","phone":"13800138000"}'.encode())


async def test_a_payload_encrypted_under_the_old_key_still_decrypts_after_rotation() -> None:
    (before,) = await EncryptionCodec(TEST_KEY_RING).encode([LI_NA])
    (after,) = await EncryptionCodec(ROTATED_KEY_RING).encode([LI_NA])

    # Each names the key it was sealed with; neither carries the plaintext.
    assert (before.metadata["encryption-key-id"], after.metadata["encryption-key-id"]) == (b"test-1", b"test-2")
    for sealed in (before, after):
        assert b"Li Na" not in sealed.SerializeToString() and b"13800138000" not in sealed.SerializeToString()
    assert await EncryptionCodec(ROTATED_KEY_RING).decode([before, after]) == [LI_NA, LI_NA]
    # The ring from before the rotation cannot read what the new key wrote.
    with pytest.raises(PayloadDecryptionError, match="key 'test-2', which is not on the ring"):
        await EncryptionCodec(TEST_KEY_RING).decode([after])


async def test_plaintext_payloads_pass_through_decoding_unchanged() -> None:
    # Histories recorded before encryption (tests/histories) hold plain payloads like this one.
    assert await EncryptionCodec(TEST_KEY_RING).decode([LI_NA]) == [LI_NA]


async def test_an_altered_payload_or_a_relabelled_key_id_does_not_decrypt() -> None:
    (sealed,) = await EncryptionCodec(ROTATED_KEY_RING).encode([LI_NA])
    flipped = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    relabelled = Payload(metadata={**sealed.metadata, "encryption-key-id": b"test-1"}, data=sealed.data)
    for bad in (flipped, relabelled):
        with pytest.raises(PayloadDecryptionError, match="does not authenticate"):
            await EncryptionCodec(ROTATED_KEY_RING).decode([bad])


def test_a_ring_file_is_written_for_its_owner_only_and_read_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "payload-keys.json"
    assert ensure_key_ring(path) is True
    assert ensure_key_ring(path) is False  # a second start keeps the ring it made
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = KeyRing.read(path)
    assert list(ring.keys) == [ring.current] and len(ring.current_key) == 32


def test_a_rolling_rotation_adds_the_key_first_and_makes_it_current_after(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "payload-keys.json"
    TEST_KEY_RING.write(path)
    assert main(["add", str(path)]) == 0
    added = KeyRing.read(path)
    (new_id,) = set(added.keys) - {"test-1"}
    assert added.current == "test-1"  # step 1: every process learns the key before anyone encrypts with it
    assert main(["use", new_id, str(path)]) == 0
    used = KeyRing.read(path)
    assert used.current == new_id and used.keys["test-1"] == fixed_key("test-1")
    assert main(["create", str(path)]) == 1  # never replaced: its old keys still decrypt old histories
    assert "exists" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "message"), [
    ("{", "PAYLOAD_KEYS: not JSON"),
    ('{"current": "a", "keys": {}}', "current key 'a' is not on the ring"),
    ('{"current": "a", "keys": {"a": "c2hvcnQ="}}', "key 'a': 5 bytes, needs 32"),
    ('{"current": "a", "keys": {"a": "***"}}', "keys.a: not base64"),
    ('{"keys": {}}', 'needs {"current"'),
])
def test_a_bad_ring_stops_start_up_naming_the_field_not_the_key(text: str, message: str) -> None:
    with pytest.raises(KeyRingError, match=message.replace("{", r"\{").replace("(", r"\(")):
        KeyRing.parse(text, "PAYLOAD_KEYS")


def test_a_missing_ring_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(KeyRingError, match="make run` creates a development ring"):
        KeyRing.read(tmp_path / "payload-keys.json")


def test_a_ring_in_a_log_line_shows_its_current_key_id_and_no_key() -> None:
    assert repr(TEST_KEY_RING) == "KeyRing(current='test-1')"


def test_make_run_creates_a_development_ring_once_and_says_so(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from ops.run_embedded import development_key_ring
    from settings import Settings
    from tests.protection.keys import with_keys

    development_key_ring(Settings(data_dir=tmp_path))
    assert "created a development payload key ring" in capsys.readouterr().out
    assert KeyRing.read(tmp_path / "payload-keys.json").current  # the worker and the API read it there
    development_key_ring(Settings(data_dir=tmp_path))
    assert capsys.readouterr().out == ""  # kept: the histories in temporal.db were written under it
    elsewhere = tmp_path / "given"
    development_key_ring(Settings(data_dir=elsewhere, payload_keys=with_keys(TEST_KEY_RING)))
    assert not elsewhere.exists()  # a ring given in PAYLOAD_KEYS is the ring: no file is made
