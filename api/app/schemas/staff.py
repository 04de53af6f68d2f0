"""The agency workspace: agenda, status changes, callback queue, live changes and calendar feed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.availability import LocalDateTime

AppointmentStatus = Literal["booked", "attended", "no_show", "cancelled", "rescheduled"]
HandoffStatus = Literal["open", "taken", "closed"]


class AgendaItem(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "reference": "K7M2QX", "status": "booked", "agency_id": "tanger", "agency_name": "Agence Tanger",
        "starts_at": "2027-01-12T09:00:00+01:00", "ends_at": "2027-01-12T09:30:00+01:00", "date": "2027-01-12",
        "time": "09:00", "full_name": "Salma Benali", "phone": "+212612345678", "service": "business_plan",
        "service_name": "Aide au business plan", "segment": "project_holder", "segment_name": "Porteur de projet",
        "program": "forsa", "program_name": "Forsa", "language": "ary_latn", "channel": "whatsapp", "notes": None,
        "whatsapp_opt_in": True, "booked_at": "2027-01-08T09:12:00Z", "changed_at": "2027-01-08T09:12:00Z"}]})

    reference: str
    status: AppointmentStatus
    agency_id: str
    agency_name: str
    starts_at: LocalDateTime
    ends_at: LocalDateTime
    date: date
    time: str = Field(description="HH:MM, Africa/Casablanca")
    full_name: str | None
    phone: str | None
    service: str
    service_name: str
    segment: str | None
    segment_name: str | None
    program: str | None
    program_name: str | None
    language: str
    channel: str
    notes: str | None
    whatsapp_opt_in: bool = Field(description="the person accepted WhatsApp messages (a cancellation is sent)")
    booked_at: datetime
    changed_at: datetime


class AgendaOut(BaseModel):
    agency_id: str | None = Field(description="null: every agency (admin)")
    from_date: date
    to_date: date
    timezone: str
    cursor: str = Field(description="give it to /staff/changes or /staff/stream to receive what changes next")
    items: list[AgendaItem]


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "attended"}]})

    status: Literal["attended", "no_show", "cancelled"]


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"starts_at": "2027-01-13T10:30:00+01:00"}]})

    starts_at: datetime = Field(description="a free slot of /staff/appointments/{ref}/slots")


class HandoffItem(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 7, "status": "open", "reason": "question", "summary": "Demande si Forsa finance une pâtisserie.",
        "full_name": "Youssef", "phone": "+212612345678", "place": "Tétouan", "agency_id": "tetouan",
        "agency_name": "Agence Tétouan", "routed": True, "language": "ary_latn", "channel": "whatsapp",
        "taken_by": None, "created_at": "2027-01-08T09:00:00Z", "changed_at": "2027-01-08T09:00:00Z"}]})

    id: int
    status: HandoffStatus
    reason: str
    summary: str
    full_name: str | None
    phone: str | None
    place: str | None
    agency_id: str | None
    agency_name: str | None
    routed: bool = Field(description="no agency was chosen: routed to the agency nearest the named place")
    language: str
    channel: str
    taken_by: str | None = Field(description="the name of the adviser who took it")
    created_at: datetime
    changed_at: datetime


class ChangesOut(BaseModel):
    cursor: str
    appointments: list[AgendaItem]
    handoffs: list[HandoffItem]


class FeedOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "active": True, "url": "https://assistant.example.ma/api/v1/staff/feed/gef_x1y2z3.ics",
        "created_at": "2027-01-08T09:00:00Z", "last_used_at": None}]})

    active: bool
    url: str | None = Field(default=None, description="shown once, when issued: the token is stored hashed")
    created_at: datetime | None = None
    last_used_at: datetime | None = None
