"""AES-GCM encryption of every payload the project writes to Temporal, with the key id in the metadata.

Encoding uses the ring's current key; decoding uses whichever key the payload names, so cases
started under an old key finish under a new one. Payloads that are not ours (the plaintext
histories recorded before encryption, anything another client wrote) pass through unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from protection.keys import KeyRing

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class PayloadDecryptionError(Exception):
    """Names the key, never the data."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, key_ring: KeyRing) -> None:
        self.key_ring = key_ring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in key_ring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.key_ring.current
        nonce = os.urandom(NONCE_BYTES)
        # The key id is authenticated too: a payload relabelled with another key id fails to decrypt.
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"payload encrypted with key {key_id!r}, which is not on the ring (keys: {', '.join(sorted(self._ciphers))})")
        try:
            plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise PayloadDecryptionError(f"payload under key {key_id!r} does not authenticate (wrong key or altered)") from None
        return Payload.FromString(plain)
