"""What erasing a person removed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ErasureOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "erased": True, "citizen": True, "appointments_cancelled": 1, "appointments_anonymised": 2,
        "handoffs_anonymised": 1, "notifications_erased": 3}]})

    erased: bool = True
    citizen: bool = Field(description="the person's record (name, phone, language, opt-in) was deleted")
    appointments_cancelled: int = Field(description="future appointments cancelled before erasure")
    appointments_anonymised: int = Field(description="appointments unlinked from the person, notes removed")
    handoffs_anonymised: int = Field(description="callback requests whose name, phone and summary were removed")
    notifications_erased: int = Field(description="queued or sent WhatsApp messages deleted")
