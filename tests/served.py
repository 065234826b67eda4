"""An app under uvicorn on a free port of 127.0.0.1: for the tests that drive a real browser or a CLI."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI


@asynccontextmanager
async def served_app(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` until the block ends; yields its address."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))  # the port is ours from here on: no race with another process
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            assert not serving.done(), "uvicorn stopped before it started"
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving
        listener.close()
