"""Callback requests for a human adviser."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.appointments import Channel, Language, Phone


class HandoffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{
        "phone": "+212612345678", "full_name": "Youssef", "agency_id": None, "place": "Tétouan",
        "reason": "question", "summary": "Demande si Forsa finance un projet de pâtisserie à domicile.",
        "language": "ary_latn", "channel": "whatsapp"}]})

    phone: Phone
    full_name: str | None = Field(None, max_length=200)
    agency_id: str | None = Field(None, max_length=64)
    place: str | None = Field(None, max_length=200, description="free text when no agency was chosen")
    reason: Literal["question", "complaint"] = "question"
    summary: str = Field("", max_length=4000, description="what the conversation was about")
    language: Language = "fr"
    channel: Channel

    @model_validator(mode="after")
    def _somewhere(self) -> HandoffCreate:
        if not self.agency_id and not self.place:
            raise ValueError("give agency_id or place, so that the right agency calls back")
        return self


class HandoffOut(BaseModel):
    id: int
    status: str
    reason: str
    agency_id: str | None
    place: str | None
    language: str
    channel: str
    created_at: datetime
