"""The FastAPI application: routers under /api/v1, health at the root."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.core.config import get_settings
from app.core.db import get_session, get_sessionmaker
from app.notifier import Notifier
from app.routers import (
    agencies,
    appointments,
    auth,
    availability,
    citizens,
    eligibility,
    events,
    handoffs,
    health,
    programs,
    services,
    staff,
    stats,
)
from app.services import agencies as agencies_service

API_PREFIX = "/api/v1"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs the WhatsApp notifier beside the API when NOTIFIER_ENABLED. Not when the database
    dependency is overridden (tests): the app then does not own the configured database.

    Builds the place index first (about a second): uvicorn serves a worker only once this is
    done, so no request pays for it (measured before: the first requests to each of 4 workers
    under 20 concurrent clients waited up to 9 s)."""
    settings = get_settings()
    await asyncio.to_thread(agencies_service.get_places)
    notifier = None
    if settings.notifier_enabled and get_session not in app.dependency_overrides:
        notifier = Notifier(sessions=get_sessionmaker(), settings=settings)
        notifier.start()
    try:
        yield
    finally:
        if notifier is not None:
            await asyncio.to_thread(notifier.stop)


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        lifespan=lifespan,
        title="Génération Entrepreneurs backend",
        version="1.0.0",
        description="Agencies, programmes, eligibility, availability and booking for ANAPEC's "
        "Génération Entrepreneurs assistant. ANAPEC's services are free of charge.",
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    app.include_router(health.router)
    app.include_router(health.router, prefix=API_PREFIX)
    for module in (services, agencies, availability, appointments, citizens, handoffs, auth, programs, eligibility,
                   staff, stats, events):
        app.include_router(module.router, prefix=API_PREFIX)
    app.mount("/staff", staff.pages(), name="staff-pages")
    return app


app = create_app()
