"""The FastAPI app: channels and agents file complaints and act on them; reads come from the read model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api import pages
from api.dependencies import Services
from api.metrics import install_metrics
from api.errors import document_error_statuses, install_error_handlers
from api.limits import UnicodeBodies
from api.routers import (audit, calendars, complaints, contacts, customers, dashboard, dispatches, exports, judgements,
                         knowledge, measures, reports, requirements, surveys)
from api.routers import hand_over, queues
from api.routers import pauses
from api import workspace, workspace_intake  # noqa: F401  (workspace_intake adds its pages to workspace.router)
from api.tokens import load_tokens
from readmodel.store import ReadModel
from rules.policy import PolicyFile
from ops.logging import configure as configure_logging
from settings import Settings, get_settings
from temporal_client import connect


def create_app(settings: Settings | None = None, *, temporal: Client | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Policy and tokens are checked before anything listens: a bad file stops start-up, naming the key.
    policy_file = PolicyFile(settings.policy_file)
    tokens = load_tokens(settings.tokens_file, policy_file.current())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        read_model = ReadModel(settings.database_url)
        read_model.require_schema()  # the schema is upgraded before start-up: python -m readmodel.migrate
        client = temporal or await connect(settings)
        app.state.services = Services(settings, policy_file, tokens, client, read_model)
        try:
            yield
        finally:
            read_model.dispose()

    app = FastAPI(
        title="Complaint desk",
        summary="Every customer complaint is a durable Temporal workflow.",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,  # 413 past it, read no further
    )
    install_error_handlers(app)
    app.add_middleware(UnicodeBodies)  # 422 for a lone surrogate in a JSON body, before a route reads it
    app.include_router(complaints.router)
    app.include_router(calendars.router)
    app.include_router(dispatches.router)
    app.include_router(measures.router)
    app.include_router(judgements.router)
    app.include_router(knowledge.router)
    app.include_router(contacts.router)
    app.include_router(reports.router)
    app.include_router(requirements.router)
    app.include_router(audit.router)
    app.include_router(customers.router)  # POST /customers/erasure
    app.include_router(exports.router)
    app.include_router(pauses.router)  # POST /complaints/{id}/pause, /resume; POST /dispatches/{id}/pause, /resume
    app.include_router(queues.router)  # GET /queues/{queue}: the VIP queue's inbox
    app.include_router(hand_over.router)  # GET /hand-over, POST /complaints/{id}/hand-over, POST /hand-overs, /pages/hand-over
    app.include_router(dashboard.router)  # HTML pages for a browser (api/pages.py: logging in)
    app.include_router(pages.router)  # POST /login, /logout
    app.include_router(workspace.router)  # the workspace pages: My work, the case page, its forms, intake
    app.include_router(surveys.router)  # POST /complaints/{id}/callback-survey
    app.include_router(surveys.pages)  # the customer's survey page: GET and POST /survey/{token}

    @app.get("/healthz", tags=["operations"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    # Outermost (added last): times every request, a 413 or 422 refused before routing too.
    install_metrics(app, lambda: app.state.services.read_model.engine if hasattr(app.state, "services") else None)
    document_error_statuses(app)
    return app


def app() -> FastAPI:
    """Factory for `uvicorn --factory api.main:app`: JSON logs, then the app."""
    configure_logging("api")
    return create_app()
