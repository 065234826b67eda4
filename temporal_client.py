"""One way to connect and one data converter, so the API, the worker, the codec server, the tests
and the tools read and write the same (encrypted) payloads."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime

from protection.codec import EncryptionCodec
from protection.keys import KeyRing
from settings import Settings


def payload_key_ring(settings: Settings) -> KeyRing:
    if settings.payload_keys:
        return KeyRing.parse(settings.payload_keys.get_secret_value(), "PAYLOAD_KEYS")
    return KeyRing.read(settings.payload_key_ring_path)


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, AES-GCM encrypted under the settings' key ring; failures' messages and
    stack traces go into the encrypted attributes too (otherwise they would stay plaintext)."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(payload_key_ring(settings)),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """``runtime``: the worker's, which exports the SDK's metrics (worker.metrics_runtime)."""
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, data_converter=data_converter(settings),
        runtime=runtime,
    )
