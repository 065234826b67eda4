"""Senders deliver one outbox message on one channel: e-mail over SMTP, SMS through an HTTP gateway.

A sender returns when the receiving side has the message and raises ``DeliveryFailed`` when it
has not: ``retryable`` says whether trying again later can help (a server busy or down) or not (a
mailbox or number the receiver rejects). Every send carries the message's idempotency key, so a
receiver can drop a repeat. Error texts name codes and exception types, never an address or a text.
"""

from __future__ import annotations

import asyncio
import smtplib
import weakref
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol

import httpx

from notifications.messages import Channel, OutboxMessage

MESSAGE_ID_DOMAIN = "complaints.local"
# Why a message was skipped when its channel has no sender configured (SMTP_HOST, SMS_GATEWAY_URL).
NO_SENDER = "no_sender"


class Sender(Protocol):
    async def send(self, message: OutboxMessage) -> None:
        """Deliver the message or raise (``DeliveryFailed``, or anything else for a retryable fault)."""
        ...


class DeliveryFailed(Exception):
    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


def message_id(key: str) -> str:
    return f"<{key}@{MESSAGE_ID_DOMAIN}>"


class SmtpSender:
    """E-mail through an SMTP relay (stdlib ``smtplib`` on a thread, one connection per message)."""

    def __init__(self, host: str, port: int, from_address: str, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.from_address = from_address  # may carry a display name: "客服中心 <cs@example.com>"
        self.envelope_sender = parseaddr(from_address)[1]
        self.timeout = timeout

    def compose(self, message: OutboxMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.from_address
        email["To"] = message.address
        email["Subject"] = message.subject  # non-ASCII is encoded (RFC 2047) on the way out
        email["Date"] = formatdate(localtime=False, usegmt=True)
        # The idempotency key: a receiver that already has this Message-ID can drop the repeat.
        email["Message-ID"] = message_id(message.key)
        email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
        email["X-Complaint-Case"] = message.case_id
        email.set_content(message.body, charset="utf-8", cte="base64")
        return email

    async def send(self, message: OutboxMessage) -> None:
        if message.channel != Channel.EMAIL:
            raise DeliveryFailed(f"smtp cannot send {message.channel}", retryable=False)
        await asyncio.to_thread(self._deliver, message.address, self.compose(message))

    def _deliver(self, to: str, email: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                # A bare envelope address keeps the session plain ASCII: headers go out RFC 2047-encoded.
                smtp.send_message(email, from_addr=self.envelope_sender, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise DeliveryFailed(
                f"smtp recipient refused {','.join(map(str, codes))}", retryable=any(c < 500 for c in codes)
            ) from None
        except smtplib.SMTPResponseException as exc:
            # The server's own text can quote the address: keep only the code.
            raise DeliveryFailed(f"smtp {exc.smtp_code}", retryable=exc.smtp_code < 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"smtp {type(exc).__name__}", retryable=True) from None


class SmsGatewaySender:
    """SMS through an HTTP gateway: ``POST {base_url}/messages`` with ``{to, text, reference}`` and
    an ``Idempotency-Key`` header. 2xx and 409 (it has the message already) count as delivered;
    5xx, 408, 429 and network faults are retryable; any other status is a permanent rejection."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        # One pooled client per event loop: building a client builds a TLS context (milliseconds of
        # CPU on the worker's loop), which at the 10:00 peak held up every workflow task behind it.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = self._clients[loop] = httpx.AsyncClient(timeout=self.timeout)
        return client

    async def aclose(self) -> None:
        """Close this loop's client (the worker calls it on shutdown)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def send(self, message: OutboxMessage) -> None:
        if message.channel != Channel.SMS:
            raise DeliveryFailed(f"sms gateway cannot send {message.channel}", retryable=False)
        headers = {"Idempotency-Key": message.key}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = {"to": message.address, "text": message.body, "reference": message.key}
        try:
            response = await self._client().post(f"{self.base_url}/messages", json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryFailed(f"sms {type(exc).__name__}", retryable=True) from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"sms {type(exc).__name__}", retryable=True) from None
        status = response.status_code
        if 200 <= status < 300 or status == 409:
            return
        raise DeliveryFailed(f"sms {status}", retryable=status >= 500 or status in (408, 429))


def configured_senders(
    *,
    smtp_host: str | None = None,
    smtp_port: int = 25,
    smtp_from: str | None = None,
    sms_gateway_url: str | None = None,
    sms_api_key: str | None = None,
    timeout: float = 10.0,
) -> dict[Channel, Sender]:
    """The senders a deployment has configured. A channel without one is not a failure: its
    messages are recorded as skipped (reason ``NO_SENDER``) and the notice completes."""
    senders: dict[Channel, Sender] = {}
    if smtp_host and smtp_from:
        senders[Channel.EMAIL] = SmtpSender(smtp_host, smtp_port, smtp_from, timeout)
    if sms_gateway_url:
        senders[Channel.SMS] = SmsGatewaySender(sms_gateway_url, sms_api_key, timeout)
    return senders


async def close_senders(senders: Mapping[Channel, Sender]) -> None:
    """Release what the senders hold open (the SMS gateway's pooled connections)."""
    for sender in senders.values():
        if (close := getattr(sender, "aclose", None)) is not None:
            await close()
