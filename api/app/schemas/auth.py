"""Staff login and the logged-in staff member."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LoginIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "agent@example.ma", "password": "••••••••"}]})

    email: str = Field(min_length=3, max_length=200)
    password: str = Field(min_length=1, max_length=200)


class StaffOut(BaseModel):
    id: int
    email: str
    full_name: str
    role: Literal["staff", "admin"]
    agency_id: str | None
    language: str


class LoginOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "token": "opaque-session-token", "token_type": "bearer", "expires_at": "2027-01-08T18:00:00Z",
        "staff": {"id": 1, "email": "agent@example.ma", "full_name": "Nadia", "role": "staff",
                  "agency_id": "tanger-1", "language": "fr"}}]})

    token: str = Field(description="send as `Authorization: Bearer <token>` (also set as an HttpOnly cookie)")
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    staff: StaffOut
