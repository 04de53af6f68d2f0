"""Booking, reading, cancelling and moving an appointment with an adviser."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from app.schemas.availability import LocalDateTime
from app.services.citizens import normalize_phone

Language = Literal["fr", "ar", "ary", "ary_latn"]
Channel = Literal["web", "whatsapp"]
# The `program` entity values of the conversation contract (design §4).
Program = Literal["generation_entrepreneurs", "ana_moukawil", "forsa", "intelaka", "auto_entrepreneur",
                  "indh", "awrach", "tahfiz", "idmaj", "taehil"]
Phone = Annotated[str, AfterValidator(normalize_phone)]


class AppointmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{
        "full_name": "Salma Benali", "phone": "0612345678", "agency_id": "tanger-1",
        "service": "information_orientation", "starts_at": "2027-01-12T09:00:00+01:00", "language": "ary_latn",
        "channel": "whatsapp", "program": "forsa", "segment": "project_holder", "notes": "projet de couture",
        "whatsapp_opt_in": True}]})

    full_name: str = Field(min_length=2, max_length=200)
    phone: Phone = Field(description="Moroccan mobile: 06…, 07…, +212…, 00212…; stored as E.164")
    agency_id: str = Field(min_length=1, max_length=64)
    service: str = Field(min_length=1, max_length=64)
    starts_at: datetime = Field(description="a slot from /agencies/{id}/slots; without offset = Casablanca time")
    language: Language = "fr"
    channel: Channel
    program: Program | None = None
    segment: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,39}$")
    notes: str | None = Field(None, max_length=1000)
    whatsapp_opt_in: bool = False

    @field_validator("full_name")
    @classmethod
    def _has_letters(cls, value: str) -> str:
        if not any(ch.isalpha() for ch in value):
            raise ValueError("a name has letters")
        return " ".join(value.split())


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: Phone | None = Field(None, description="when given, must be the booking's phone (else 404)")


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"starts_at": "2027-01-13T10:30:00+01:00", "phone": "+212612345678"}]})

    starts_at: datetime
    phone: Phone | None = Field(None, description="when given, must be the booking's phone (else 404)")


class AppointmentOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "reference": "K7M2QX", "status": "booked", "agency_id": "tanger-1", "agency_name": "Agence ANAPEC Tanger",
        "agency_city": "Tanger", "service": "information_orientation", "service_name": "Information et orientation",
        "starts_at": "2027-01-12T09:00:00+01:00", "ends_at": "2027-01-12T09:30:00+01:00", "date": "2027-01-12",
        "time": "09:00", "timezone": "Africa/Casablanca", "language": "fr", "channel": "whatsapp",
        "full_name": "Salma Benali", "phone": "+212612345678", "program": "forsa", "segment": "project_holder",
        "notes": None, "free_of_charge": True}]})

    reference: str
    status: Literal["booked", "attended", "no_show", "cancelled", "rescheduled"]
    agency_id: str
    agency_name: str = Field(description="in the booking's language: the Arabic name for ar and ary")
    agency_city: str
    service: str
    service_name: str = Field(description="in the booking's language")
    starts_at: LocalDateTime
    ends_at: LocalDateTime
    date: date
    time: str
    timezone: str
    language: str
    channel: str
    full_name: str | None
    phone: str | None
    program: str | None
    segment: str | None
    notes: str | None
    free_of_charge: bool = True
