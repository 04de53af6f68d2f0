"""The agency workspace: the agenda of one agency, status changes, the callback queue, and what
changed since a cursor (for the live page).

Every function takes the staff member and resolves the agency they may act on: staff only their
own, admins any (or all). Another agency's appointment or request looks exactly like an unknown
one (404), as in the booking API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from fastapi import HTTPException, status
from sqlalchemy import CursorResult, Select, or_, select, update
from sqlalchemy.orm import Session

from app.core.security import Caller, scope_to_agency
from app.models import Agency, Appointment, Citizen, Handoff, Program, Service, StaffUser
from app.schemas.availability import SlotsOut
from app.schemas.staff import AgendaItem, AgendaOut, ChangesOut, HandoffItem
from app.services import appointments as booking
from app.services.agencies import nearest_agencies
from app.services.availability import as_utc, list_slots, local_zone, stored_utc

MAX_DAYS = 62
DEFAULT_DAYS = 14
MAX_ITEMS = 2000
# A change is found by its updated_at; one written by a request that began before the cursor but
# committed after it is still caught by reading this far back (clients de-duplicate).
LOOKBACK = timedelta(seconds=60)
CLOSED_SHOWN = 100

# The plan's segments (and the eligibility form's stages, which the bot may pass as segment).
SEGMENT_NAMES: dict[str, dict[str, str]] = {
    "project_holder": {"fr": "Porteur de projet", "ar": "حامل مشروع", "ary": "عندو مشروع", "ary_latn": "3ando machro3"},
    "idea": {"fr": "Idée de projet", "ar": "فكرة مشروع", "ary": "عندو فكرة", "ary_latn": "3ando fikra"},
    "project": {"fr": "Projet en préparation", "ar": "مشروع قيد الإعداد", "ary": "مشروع كيوجدو",
                "ary_latn": "machro3 kaywjdo"},
    "auto_entrepreneur": {"fr": "Auto-entrepreneur", "ar": "مقاول ذاتي", "ary": "أوطو أونطروبرونور",
                          "ary_latn": "auto-entrepreneur"},
    "tpe": {"fr": "TPE", "ar": "مقاولة صغيرة جدا", "ary": "شركة صغيرة", "ary_latn": "charika sghira (TPE)"},
    "informal": {"fr": "Unité informelle", "ar": "وحدة إنتاج غير مهيكلة", "ary": "خدمة ماشي مسجلة",
                 "ary_latn": "khdma machi msjla"},
    "employer": {"fr": "Employeur", "ar": "مشغل", "ary": "مشغّل", "ary_latn": "mcheghel"},
}


def segment_name(code: str | None, lang: str) -> str | None:
    if code is None:
        return None
    names = SEGMENT_NAMES.get(code)
    return names.get(lang, names["fr"]) if names else code


def program_names(session: Session, lang: str) -> dict[str, str]:
    return {row.id: (row.content.get("names") or {}).get(lang) or row.id for row in session.scalars(select(Program))}


def service_names(session: Session, lang: str) -> dict[str, str]:
    return {row.id: row.names.get(lang) or row.names["fr"] for row in session.scalars(select(Service))}


# --------------------------------------------------------------------------------------- scope
def agency_for(session: Session, staff: StaffUser, requested: str | None) -> str | None:
    """The agency a request covers: a staff member's own (asking for another is refused), or for
    an admin the one asked for, None meaning every agency."""
    if staff.role == "admin":
        if requested and session.get(Agency, requested) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown agency: {requested}")
        return requested or None
    if not staff.agency_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this staff account is not bound to an agency")
    if requested and requested != staff.agency_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "staff see only their own agency")
    return staff.agency_id


def local_day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """UTC instants of [start 00:00, end+1 00:00) in Casablanca time."""
    zone = local_zone()
    first = datetime.combine(start, datetime.min.time(), zone).astimezone(UTC)
    last = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    return first, last


def today(now: datetime) -> date:
    return as_utc(now).astimezone(local_zone()).date()


# -------------------------------------------------------------------------------------- agenda
@dataclass
class Labels:
    agencies: dict[str, str]
    services: dict[str, str]
    programs: dict[str, str]
    lang: str

    @classmethod
    def load(cls, session: Session, lang: str) -> Labels:
        agencies = {a.id: a.name_in(lang) for a in session.scalars(select(Agency))}
        return cls(agencies, service_names(session, lang), program_names(session, lang), lang)


def agenda_item(appointment: Appointment, citizen: Citizen | None, labels: Labels) -> AgendaItem:
    zone = local_zone()
    starts_at = stored_utc(appointment.starts_at).astimezone(zone)
    return AgendaItem(
        reference=appointment.reference, status=appointment.status,  # type: ignore[arg-type]
        agency_id=appointment.agency_id, agency_name=labels.agencies.get(appointment.agency_id, appointment.agency_id),
        starts_at=starts_at, ends_at=stored_utc(appointment.ends_at).astimezone(zone), date=starts_at.date(),
        time=starts_at.strftime("%H:%M"), full_name=citizen.full_name if citizen else None,
        phone=citizen.phone if citizen else None, service=appointment.service_id,
        service_name=labels.services.get(appointment.service_id, appointment.service_id),
        segment=appointment.segment, segment_name=segment_name(appointment.segment, labels.lang),
        program=appointment.program_id,
        program_name=labels.programs.get(appointment.program_id, appointment.program_id)
        if appointment.program_id else None,
        language=appointment.language, channel=appointment.channel, notes=appointment.notes,
        whatsapp_opt_in=bool(citizen and citizen.whatsapp_opt_in_at), booked_at=stored_utc(appointment.created_at),
        changed_at=stored_utc(appointment.updated_at),
    )


def _with_citizens(stmt: Select[Appointment, Citizen]) -> Select[Appointment, Citizen]:
    return stmt.outerjoin(Citizen, Citizen.id == Appointment.citizen_id)


def _search(stmt: Select[Appointment, Citizen], q: str) -> Select[Appointment, Citizen]:
    """A name, a reference or a phone number (any way it is written: 06 12…, +212 6 12…)."""
    q = q.strip()
    clauses = [Citizen.full_name.ilike(f"%{q}%"), Appointment.reference == booking.clean_reference(q)]
    digits = re.sub(r"\D", "", q)
    if len(digits) >= 4:
        national = digits.removeprefix("212").removeprefix("00212").lstrip("0")
        clauses.append(Citizen.phone.contains(national))
    return stmt.where(or_(*clauses))


def list_agenda(*, session: Session, staff: StaffUser, agency: str | None, start: date | None, end: date | None,
                service: str | None, state: str | None, q: str | None, lang: str, now: datetime) -> AgendaOut:
    agency_id = agency_for(session, staff, agency)
    start = start or today(now)
    end = end or start + timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "to must not be before from")
    if (end - start).days >= MAX_DAYS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"at most {MAX_DAYS} days at once")
    first, last = local_day_bounds(start, end)
    stmt = _with_citizens(select(Appointment, Citizen)).where(
        Appointment.starts_at >= first, Appointment.starts_at < last)
    # A moved appointment's old row is history: the new row (same reference) shows it.
    stmt = stmt.where(Appointment.status == state) if state else stmt.where(Appointment.status != "rescheduled")
    if agency_id:
        stmt = stmt.where(Appointment.agency_id == agency_id)
    if service:
        stmt = stmt.where(Appointment.service_id == service)
    if q and q.strip():
        stmt = _search(stmt, q)
    labels = Labels.load(session, lang)
    rows = session.execute(stmt.order_by(Appointment.starts_at, Appointment.seat).limit(MAX_ITEMS)).all()
    return AgendaOut(agency_id=agency_id, from_date=start, to_date=end, timezone=local_zone().key,
                     cursor=as_utc(now).isoformat(), items=[agenda_item(a, c, labels) for a, c in rows])


def _appointment(session: Session, staff: StaffUser, reference: str) -> Appointment:
    stmt = select(Appointment).where(Appointment.reference == booking.clean_reference(reference))
    found = session.scalar(scope_to_agency(stmt, staff=staff, column=Appointment.agency_id))
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no appointment with reference {reference}")
    return found


def _item(session: Session, reference: str, lang: str) -> AgendaItem:
    appointment = session.scalar(select(Appointment).where(Appointment.reference == reference))
    assert appointment is not None
    citizen = session.get(Citizen, appointment.citizen_id) if appointment.citizen_id else None
    return agenda_item(appointment, citizen, Labels.load(session, lang))


def set_status(*, session: Session, staff: StaffUser, reference: str, new_status: str, lang: str,
               now: datetime) -> AgendaItem:
    now = as_utc(now)
    appointment = _appointment(session, staff, reference)
    caller = Caller(staff=staff)
    if new_status == "cancelled":
        # The booking service queues the person's WhatsApp cancellation message (when they booked
        # on WhatsApp and opted in) in the same transaction as the cancellation.
        booking.cancel(session=session, reference=appointment.reference, caller=caller, phone=None, now=now)
    else:
        booking.mark_attendance(session=session, reference=appointment.reference, caller=caller,
                                status_=new_status, now=now)
    return _item(session, appointment.reference, lang)


def move(*, session: Session, staff: StaffUser, reference: str, starts_at: datetime, lang: str,
         now: datetime) -> AgendaItem:
    appointment = _appointment(session, staff, reference)
    moved = booking.reschedule(session=session, reference=appointment.reference, starts_at=starts_at,
                               caller=Caller(staff=staff), phone=None, now=now)
    return _item(session, moved.reference, lang)


def free_slots(*, session: Session, staff: StaffUser, reference: str, start: date | None, days: int | None,
               now: datetime) -> SlotsOut:
    """Where the appointment could move: the free slots of its agency for its service."""
    appointment = _appointment(session, staff, reference)
    return list_slots(session=session, agency_id=appointment.agency_id, service_id=appointment.service_id,
                      start=start, days=days, now=now)


# ------------------------------------------------------------------------------ callback queue
class Router:
    """The agency that answers a request made without one: the nearest to the place named."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[str, str | None] = {}

    def agency_of(self, handoff: Handoff) -> str | None:
        if handoff.agency_id:
            return handoff.agency_id
        place = (handoff.place or "").strip()
        if not place:
            return None
        if place not in self._cache:
            try:
                found = nearest_agencies(session=self.session, lang="fr", limit=1, place=place).agencies
            except HTTPException:
                found = []
            self._cache[place] = found[0].id if found else None
        return self._cache[place]


def _handoff_item(handoff: Handoff, *, agency_id: str | None, labels: Labels,
                  takers: dict[int, str]) -> HandoffItem:
    return HandoffItem(
        id=handoff.id, status=handoff.status, reason=handoff.reason, summary=handoff.summary,  # type: ignore[arg-type]
        full_name=handoff.full_name, phone=handoff.phone, place=handoff.place, agency_id=agency_id,
        agency_name=labels.agencies.get(agency_id) if agency_id else None,
        routed=handoff.agency_id is None and agency_id is not None, language=handoff.language,
        channel=handoff.channel, taken_by=takers.get(handoff.taken_by) if handoff.taken_by else None,
        created_at=stored_utc(handoff.created_at), changed_at=stored_utc(handoff.updated_at),
    )


def _scoped_handoffs(session: Session, stmt: Select[Any], agency_id: str | None) -> list[tuple[Handoff, str | None]]:
    """(request, answering agency) pairs of the scope: those addressed to the agency, and those
    without an agency whose place routes to it."""
    router = Router(session)
    if agency_id:
        stmt = stmt.where(or_(Handoff.agency_id == agency_id, Handoff.agency_id.is_(None)))
    pairs = [(h, router.agency_of(h)) for h in session.scalars(stmt)]
    return [(h, a) for h, a in pairs if agency_id is None or a == agency_id]


def _takers(session: Session, handoffs: list[Handoff]) -> dict[int, str]:
    ids = {h.taken_by for h in handoffs if h.taken_by}
    if not ids:
        return {}
    return {s.id: s.full_name for s in session.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))}


def _items(session: Session, pairs: list[tuple[Handoff, str | None]], lang: str) -> list[HandoffItem]:
    labels = Labels.load(session, lang)
    takers = _takers(session, [h for h, _ in pairs])
    return [_handoff_item(h, agency_id=a, labels=labels, takers=takers) for h, a in pairs]


def list_handoffs(*, session: Session, staff: StaffUser, agency: str | None, state: str,
                  lang: str) -> list[HandoffItem]:
    """The queue: open requests first (oldest first), then taken ones; closed ones on request."""
    agency_id = agency_for(session, staff, agency)
    stmt = select(Handoff)
    if state == "active":
        stmt = stmt.where(Handoff.status.in_(("open", "taken")))
    elif state != "all":
        stmt = stmt.where(Handoff.status == state)
    pairs = _scoped_handoffs(session, stmt.order_by(Handoff.created_at, Handoff.id), agency_id)
    order = {"open": 0, "taken": 1, "closed": 2}
    pairs.sort(key=lambda pair: order.get(pair[0].status, 3))
    closed = [p for p in pairs if p[0].status == "closed"][-CLOSED_SHOWN:][::-1]
    return _items(session, [p for p in pairs if p[0].status != "closed"] + closed, lang)


def _handoff(session: Session, staff: StaffUser, handoff_id: int) -> tuple[Handoff, str | None]:
    handoff = session.get(Handoff, handoff_id)
    agency_id = Router(session).agency_of(handoff) if handoff else None
    if handoff is None or (staff.role != "admin" and (not staff.agency_id or agency_id != staff.agency_id)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no callback request {handoff_id}")
    return handoff, agency_id


def _transition(session: Session, handoff: Handoff, *, allowed: tuple[str, ...], now: datetime,
                **values: Any) -> None:
    result = session.execute(
        update(Handoff).where(Handoff.id == handoff.id, Handoff.status.in_(allowed))
        .values(updated_at=now, **values).execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, f"callback request {handoff.id} was changed meanwhile")
    session.commit()
    session.refresh(handoff)


def take_handoff(*, session: Session, staff: StaffUser, handoff_id: int, lang: str, now: datetime) -> HandoffItem:
    now = as_utc(now)
    handoff, agency_id = _handoff(session, staff, handoff_id)
    if handoff.status == "closed":
        raise HTTPException(status.HTTP_409_CONFLICT, f"callback request {handoff_id} is closed")
    if handoff.status == "taken" and handoff.taken_by != staff.id:
        raise HTTPException(status.HTTP_409_CONFLICT, f"callback request {handoff_id} was already taken")
    if handoff.status == "open":
        # Taking a routed request makes the routing permanent: it stays with this agency.
        _transition(session, handoff, allowed=("open",), now=now, status="taken", taken_by=staff.id,
                    agency_id=handoff.agency_id or agency_id)
    return _items(session, [(handoff, agency_id)], lang)[0]


def close_handoff(*, session: Session, staff: StaffUser, handoff_id: int, lang: str, now: datetime) -> HandoffItem:
    now = as_utc(now)
    handoff, agency_id = _handoff(session, staff, handoff_id)
    if handoff.status != "closed":
        _transition(session, handoff, allowed=("open", "taken"), now=now, status="closed",
                    taken_by=handoff.taken_by or staff.id, agency_id=handoff.agency_id or agency_id)
    return _items(session, [(handoff, agency_id)], lang)[0]


# ------------------------------------------------------------------------------- live changes
def parse_cursor(cursor: str | None, now: datetime) -> datetime:
    if not cursor:
        return as_utc(now)
    try:
        return as_utc(datetime.fromisoformat(cursor))
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "cursor: not a cursor of this API") from error


def changes(*, session: Session, staff: StaffUser, agency: str | None, since: datetime, lang: str) -> ChangesOut:
    """Appointments and callback requests of the scope changed after `since` (minus LOOKBACK:
    the same change may come twice; clients key by reference and id)."""
    agency_id = agency_for(session, staff, agency)
    floor = since - LOOKBACK
    stmt = _with_citizens(select(Appointment, Citizen)).where(Appointment.updated_at > floor)
    if agency_id:
        stmt = stmt.where(Appointment.agency_id == agency_id)
    labels = Labels.load(session, lang)
    rows = session.execute(stmt.order_by(Appointment.updated_at).limit(MAX_ITEMS)).all()
    appointments = [agenda_item(a, c, labels) for a, c in rows]
    pairs = _scoped_handoffs(session, select(Handoff).where(Handoff.updated_at > floor).order_by(Handoff.updated_at),
                             agency_id)
    handoffs = _items(session, pairs, lang)
    stamps = [since] + [a.changed_at for a in appointments] + [h.changed_at for h in handoffs]
    return ChangesOut(cursor=max(stamps).isoformat(), appointments=appointments, handoffs=handoffs)
