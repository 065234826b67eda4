"""What the worker sets up before it polls."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

from settings import ROOT
from worker import compile_workflow_modules


def test_the_worker_leaves_fresh_bytecode_for_every_workflow_module() -> None:
    """The sandbox imports a workflow's module for every case; with PYTHONDONTWRITEBYTECODE set it
    would compile the source each time unless the worker wrote the bytecode first."""
    sources = sorted((ROOT / "workflows").glob("*.py"))
    for source in sources:
        Path(importlib.util.cache_from_source(str(source))).unlink(missing_ok=True)

    compile_workflow_modules()

    for source in sources:
        header = Path(importlib.util.cache_from_source(str(source))).read_bytes()[:16]
        flags, mtime = struct.unpack("<II", header[4:12])
        assert flags == 0 and mtime == int(source.stat().st_mtime) & 0xFFFFFFFF, source.name
