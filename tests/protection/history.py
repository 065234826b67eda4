"""Reading what Temporal stores, as someone without the keys would: raw events and visibility records."""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import DataConverter


def without_codec(client: Client) -> Client:
    """The same connection with Temporal's default converter: no keys, so payloads stay as stored."""
    return with_converter(client, DataConverter.default)


def with_converter(client: Client, converter: DataConverter) -> Client:
    return Client(**{**client.config(), "data_converter": converter})


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every Payload the codec sees inside a proto message (inputs, results, memo, summaries, failures);
    not search attributes, which the server must read to index them."""
    if isinstance(message, Payload):
        yield message
        return
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None or descriptor.name == "search_attributes":
            continue
        if descriptor.message_type.GetOptions().map_entry:
            items = value.values()
        elif isinstance(value, Message):
            items = [value]
        else:  # a repeated field
            items = value
        for item in items:
            if isinstance(item, Message):
                yield from payloads_in(item)
