"""The FastAPI application: routers under /api/v1, health at the root."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.core.config import get_settings
from app.routers import (
    agencies,
    appointments,
    auth,
    availability,
    citizens,
    eligibility,
    handoffs,
    health,
    programs,
    services,
)

API_PREFIX = "/api/v1"


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
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
    for module in (services, agencies, availability, appointments, citizens, handoffs, auth, programs, eligibility):
        app.include_router(module.router, prefix=API_PREFIX)
    return app


app = create_app()
