"""Every table of the backend; importing this module registers them all on `Base.metadata`."""

from app.core.db import Base
from app.models.agency import Agency
from app.models.appointment import Appointment, IdempotencyRecord
from app.models.catalogue import Program, Service
from app.models.citizen import Citizen
from app.models.event import CalendarFeed, Event
from app.models.handoff import Handoff
from app.models.notification import OutboxMessage
from app.models.staff import StaffSession, StaffUser

__all__ = [
    "Agency",
    "Appointment",
    "Base",
    "CalendarFeed",
    "Citizen",
    "Event",
    "Handoff",
    "IdempotencyRecord",
    "OutboxMessage",
    "Program",
    "Service",
    "StaffSession",
    "StaffUser",
]
