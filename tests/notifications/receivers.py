"""Real receivers for the senders to talk to: an SMTP server (aiosmtpd) and an SMS gateway over HTTP.

Both listen on a free loopback port and record every request that arrives, so the tests check what
crossed the wire, not what a mock was called with; beside it each keeps what a person would see
(one text or mail per idempotency key), so a test can assert both: one request per message, and
one message on the phone or in the mailbox.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- SMS gateway --------------------------------------------------------------------------------


@dataclass
class GatewayRequest:
    idempotency_key: str | None
    authorization: str | None
    body: dict[str, Any]
    status: int = 0  # what the gateway answered


@dataclass
class SmsGateway:
    """Answers ``POST /messages`` with the next scripted status (then 201), and hands each
    Idempotency-Key to the phone network once: a repeat of a delivered key gets 409.

    Two views, both kept: ``requests`` is every request that crossed the wire, repeats included
    (a send twice over shows here), ``handset`` what the phones show, one text per key as the real
    gateway would. "One text on the handset" alone cannot see a duplicate send: assert both."""

    script: list[int] = field(default_factory=list)
    busy_for: dict[str, int] = field(default_factory=dict)  # phone → how many sends to it get 503 first
    refusing: bool = False  # down for a while: every send gets 503 until switched back
    requests: list[GatewayRequest] = field(default_factory=list)
    handset: list[dict[str, Any]] = field(default_factory=list)  # what phones received
    _delivered_keys: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer(self, key: str | None, authorization: str | None, body: dict[str, Any]) -> int:
        with self._lock:
            status = self._status(key, body)
            self.requests.append(GatewayRequest(key, authorization, body, status))
            return status

    def _status(self, key: str | None, body: dict[str, Any]) -> int:
        if self.script:
            return self.script.pop(0)
        if self.refusing:
            return 503
        if self.busy_for.get(body.get("to", ""), 0) > 0:
            self.busy_for[body["to"]] -= 1
            return 503
        if key in self._delivered_keys:
            return 409
        self._delivered_keys.add(key or "")
        self.handset.append(body)
        return 201

    @property
    def keys(self) -> list[str | None]:
        """The Idempotency-Key of every request, in arrival order."""
        return [r.idempotency_key for r in self.requests]

    @property
    def repeats(self) -> list[GatewayRequest]:
        """Requests for a message the phone already had (answered 409): a send made twice."""
        return [r for r in self.requests if r.status == 409]

    def requests_to(self, phone: str | None) -> list[GatewayRequest]:
        return [r for r in self.requests if r.body.get("to") == phone]

    def texts_to(self, phone: str | None) -> list[dict[str, Any]]:
        """What one phone shows, after checking that none of its texts was sent again once the
        phone had it (the repeat the handset view hides). A refused attempt (503) and its retry
        are one text, not a repeat."""
        repeated = [r for r in self.repeats if r.body.get("to") == phone]
        assert not repeated, f"{len(repeated)} text(s) to one phone sent again after delivery"
        return [m for m in self.handset if m["to"] == phone]


@contextmanager
def running_gateway() -> Iterator[SmsGateway]:
    gateway = SmsGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.path != "/messages":
                status = 404
            else:
                status = gateway.answer(
                    self.headers.get("Idempotency-Key"), self.headers.get("Authorization"), json.loads(raw)
                )
            payload = json.dumps({"status": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="sms-gateway", daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- SMTP server --------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class MailRecorder:
    """An aiosmtpd handler: keeps every accepted message, refuses the mailboxes in ``refuse``.

    ``received`` is every message that arrived, a repeat included; ``mailbox`` what a reader sees,
    one message per Message-ID (the outbox key), as a mail client threads a repeat away."""

    refuse: set[str] = field(default_factory=set)
    received: list[ReceivedMail] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[arg-type]
        self.received.append(
            ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, envelope.content)  # type: ignore[arg-type]
        )
        return "250 Message accepted for delivery"

    @property
    def message_ids(self) -> list[str]:
        """The Message-ID of every message received, in arrival order."""
        return [str(m.message["Message-ID"]) for m in self.received]

    @property
    def mailbox(self) -> list[ReceivedMail]:
        """One message per Message-ID, the first that arrived."""
        first: dict[str, ReceivedMail] = {}
        for mail in self.received:
            first.setdefault(str(mail.message["Message-ID"]), mail)
        return list(first.values())


@contextmanager
def running_smtp() -> Iterator[tuple[MailRecorder, int]]:
    recorder = MailRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()
