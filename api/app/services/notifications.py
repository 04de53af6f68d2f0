"""WhatsApp notifications of appointments: what goes into the outbox when an appointment is booked,
moved or cancelled, and the delivery of due outbox rows by any number of workers.

Rules (design §6): only people who opted in to WhatsApp messages and booked on WhatsApp get them;
each message is an approved template (ContentSid per kind and language, French's when a language
has none) with variables, never free-form text, since the 24-hour window is usually closed.

Timing: the confirmation is due at once. The reminder is due the day before the appointment at
REMINDER_HOUR, Casablanca time (zoneinfo: the offset of that day, UTC+0 in Ramadan). When that
moment has already passed at booking, there is no reminder: the appointment is then at most about
a day and a half away and the confirmation, sent now, carries the same details.

Queueing functions add rows to the caller's session and never commit, so an appointment and its
messages are saved together or not at all. Delivery claims rows in short transactions
(PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: a compare-and-set UPDATE, SQLite having one writer),
sends outside any transaction, and records the outcome only if the claim is still its own."""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings, get_settings
from app.models import Agency, Appointment, Citizen, OutboxMessage
from app.models._types import utcnow
from app.services.availability import as_utc, local_zone, stored_utc
from app.services.twilio_sender import Sender, SendError

log = logging.getLogger("app.notifications")

# The template placeholders: {{1}} name, {{2}} date, {{3}} time, {{4}} agency, {{5}} reference.
VARIABLE_ORDER = ("name", "date", "time", "agency", "reference")
# Kinds that only make sense while the appointment is still booked.
APPOINTMENT_KINDS = ("confirmation", "reminder")
MAX_RETRY_DELAY = timedelta(hours=1)


# --- queueing ------------------------------------------------------------------------------------

def reminder_due(starts_at: datetime, *, hour: int, zone: ZoneInfo) -> datetime:
    """The day before `starts_at` (local calendar) at `hour` local time, in UTC."""
    day_before = stored_utc(starts_at).astimezone(zone).date() - timedelta(days=1)
    return datetime.combine(day_before, time(hour), zone).astimezone(UTC)


def _recipient(session: Session, appointment: Appointment) -> Citizen | None:
    """The person to notify, if they booked on WhatsApp and opted in."""
    if appointment.channel != "whatsapp" or appointment.citizen_id is None:
        return None
    citizen = session.get(Citizen, appointment.citizen_id)
    return citizen if citizen is not None and citizen.whatsapp_opt_in_at is not None else None


def template_variables(session: Session, appointment: Appointment, *, language: str) -> dict[str, str]:
    agency = session.get(Agency, appointment.agency_id)
    citizen = session.get(Citizen, appointment.citizen_id) if appointment.citizen_id else None
    assert agency is not None  # foreign key
    local = stored_utc(appointment.starts_at).astimezone(local_zone())
    values = {"name": (citizen.full_name if citizen else None) or "", "date": local.strftime("%d/%m/%Y"),
              "time": local.strftime("%H:%M"), "agency": agency.name_in(language), "reference": appointment.reference}
    return {str(number): values[name] for number, name in enumerate(VARIABLE_ORDER, start=1)}


def _queue(session: Session, *, kind: str, appointment: Appointment, citizen: Citizen, due_at: datetime,
           now: datetime) -> OutboxMessage:
    row = OutboxMessage(kind=kind, appointment_id=appointment.id, to_phone=citizen.phone, language=citizen.language,
                        variables=template_variables(session, appointment, language=citizen.language),
                        due_at=due_at, status="pending", attempts=0, created_at=now)
    session.add(row)
    return row


def _drop_pending(session: Session, *, appointment_id: int, reason: str, now: datetime) -> None:
    """Pending confirmations and reminders of an appointment will not be sent (kept, as skipped)."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.appointment_id == appointment_id, OutboxMessage.status == "pending",
               OutboxMessage.kind.in_(APPOINTMENT_KINDS))
        .values(status="skipped", last_error=reason, finished_at=now)
    )


def queue_booking_messages(session: Session, *, appointment: Appointment, now: datetime) -> list[OutboxMessage]:
    """A confirmation due now and, when still ahead, the reminder; nothing without opt-in."""
    now = as_utc(now)
    citizen = _recipient(session, appointment)
    if citizen is None:
        return []
    rows = [_queue(session, kind="confirmation", appointment=appointment, citizen=citizen, due_at=now, now=now)]
    due = reminder_due(appointment.starts_at, hour=get_settings().reminder_hour, zone=local_zone())
    if due > now:
        rows.append(_queue(session, kind="reminder", appointment=appointment, citizen=citizen, due_at=due, now=now))
    session.flush()
    return rows


def queue_reschedule_messages(session: Session, *, old_appointment_id: int, appointment: Appointment,
                              now: datetime) -> list[OutboxMessage]:
    """The old time's pending messages are dropped; the new time gets its confirmation and reminder."""
    now = as_utc(now)
    _drop_pending(session, appointment_id=old_appointment_id, reason=f"appointment moved ({appointment.reference})",
                  now=now)
    return queue_booking_messages(session, appointment=appointment, now=now)


def queue_cancellation(session: Session, *, appointment: Appointment, now: datetime) -> OutboxMessage | None:
    """Pending reminders (and an unsent confirmation) are dropped; a cancellation is due now."""
    now = as_utc(now)
    _drop_pending(session, appointment_id=appointment.id, reason="appointment cancelled", now=now)
    # The staff workspace may have added its own cancellation message to this transaction: one is enough.
    queued = session.scalar(select(OutboxMessage).where(
        OutboxMessage.appointment_id == appointment.id, OutboxMessage.kind == "cancellation",
        OutboxMessage.status == "pending"))
    if queued is not None:
        return queued
    citizen = _recipient(session, appointment)
    if citizen is None:
        return None
    row = _queue(session, kind="cancellation", appointment=appointment, citizen=citizen, due_at=now, now=now)
    session.flush()
    return row


# --- delivery ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimedRow:
    """A row as one worker claimed it; the token proves the claim is still this worker's."""

    id: int
    token: str
    kind: str
    appointment_id: int | None
    to_phone: str
    language: str
    content_sid: str | None
    variables: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    recorded: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    lost: int = 0  # taken over by another worker or erased while being sent

    def summary(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in vars(self).items())


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.due_at <= now),
        # Claimed by a worker that stopped (or hung) before recording the outcome.
        and_(OutboxMessage.status == "sending", OutboxMessage.locked_until <= now),
    )


def claim_due(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[ClaimedRow]:
    """Claim up to `limit` due rows for this worker, committed before anything is sent."""
    now = as_utc(now)
    ids = list(session.scalars(
        select(OutboxMessage.id).where(_claimable(now)).order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit).with_for_update(skip_locked=True)  # ignored by SQLite, which has one writer
    ))
    if not ids:
        session.rollback()
        return []
    token = secrets.token_hex(16)
    # The condition is evaluated again under the write lock: a row another worker claimed since
    # the SELECT no longer matches, so no row is ever claimed twice.
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids), _claimable(now))
        .values(status="sending", claim_token=token, locked_until=now + lease, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.claim_token == token)
                           .order_by(OutboxMessage.due_at, OutboxMessage.id)).all()
    return [ClaimedRow(id=row.id, token=token, kind=row.kind, appointment_id=row.appointment_id, to_phone=row.to_phone,
                       language=row.language, content_sid=row.content_sid, variables=dict(row.variables or {}),
                       attempts=row.attempts) for row in rows]


def _record(sessions: sessionmaker[Session], row: ClaimedRow, **values: Any) -> bool:
    """Write the outcome if the claim is still ours; False when the row was taken over or erased."""
    with sessions() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.claim_token == row.token,
                   OutboxMessage.status == "sending")
            .values(claim_token=None, locked_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    if cast(CursorResult[Any], result).rowcount == 1:
        return True
    log.warning("outbox row %s was taken over or erased while being sent; its outcome is not recorded", row.id)
    return False


def mask_phone(phone: str) -> str:
    """For logs: enough to tell numbers apart, not enough to call anyone."""
    return phone[:4] + "*" * max(len(phone) - 6, 0) + phone[-2:]


def numbered_variables(variables: dict[str, Any]) -> dict[str, str]:
    """Template variables keyed "1".."5"; rows written with names (name, date, ...) are accepted."""
    positions = {name: str(number) for number, name in enumerate(VARIABLE_ORDER, start=1)}
    return {positions.get(key, key): "" if value is None else str(value) for key, value in variables.items()}


def content_sid_for(kind: str, language: str, settings: Settings) -> str | None:
    """The approved template for a kind in a language, French's when the language has none."""
    per_language = settings.twilio_content_sids.get(kind, {})
    sid = per_language.get(language)
    if sid is None and per_language.get("fr"):
        log.warning("no %s template (ContentSid) for language %s: sending the French one", kind, language)
        sid = per_language["fr"]
    return sid


@dataclass(frozen=True)
class _Ready:
    content_sid: str | None
    variables: dict[str, str]


@dataclass(frozen=True)
class _Final:
    status: str  # skipped | failed
    reason: str


def _prepare(session: Session, row: ClaimedRow, *, settings: Settings, development: bool,
             now: datetime) -> _Ready | _Final:
    """Checked when sending, whatever wrote the row (booking, staff workspace, an operator)."""
    if row.attempts > settings.notifier_max_attempts:
        # Only claims that expired get here: a worker stopped while sending this row, again and again.
        return _Final("failed", f"gave up after {row.attempts - 1} attempts (workers stopped while sending)")
    citizen = session.scalar(select(Citizen).where(Citizen.phone == row.to_phone))
    if citizen is None or citizen.whatsapp_opt_in_at is None:
        return _Final("skipped", "no WhatsApp opt-in for this number")
    appointment = session.get(Appointment, row.appointment_id) if row.appointment_id is not None else None
    if row.kind in APPOINTMENT_KINDS and appointment is not None:
        if appointment.status != "booked":
            return _Final("skipped", f"appointment is {appointment.status}")
        if stored_utc(appointment.starts_at) <= now:  # every notifier was down until too late
            return _Final("skipped", "appointment already started")
    if row.content_sid is None and appointment is not None:
        # Our templates take the five variables of VARIABLE_ORDER, read from the appointment at
        # sending time, whatever another writer (the staff workspace) put in the row.
        variables = template_variables(session, appointment, language=row.language)
    else:
        variables = numbered_variables(row.variables)
    content_sid = row.content_sid or content_sid_for(row.kind, row.language, settings)
    if content_sid is None and not development:
        # Free-form text is not allowed outside the 24-hour window: without a template, nothing.
        return _Final("failed", f"no approved template (ContentSid) configured for {row.kind}")
    return _Ready(content_sid, variables)


def retry_delay(attempts: int, settings: Settings) -> timedelta:
    return min(timedelta(seconds=settings.notifier_retry_seconds * 2 ** (attempts - 1)), MAX_RETRY_DELAY)


def _deliver_one(sessions: sessionmaker[Session], row: ClaimedRow, *, sender: Sender | None, settings: Settings,
                 clock: Callable[[], datetime]) -> str:
    with sessions() as session:
        decision = _prepare(session, row, settings=settings, development=sender is None, now=as_utc(clock()))
    if isinstance(decision, _Final):
        log.info("outbox row %s (%s) %s: %s", row.id, row.kind, decision.status, decision.reason)
        done = _record(sessions, row, status=decision.status, last_error=decision.reason, finished_at=as_utc(clock()))
        return decision.status if done else "lost"
    if sender is None:
        # The variables (a name among them) are shown to the developer, never in a production log.
        shown = "(hidden in production)" if settings.environment == "production" else decision.variables
        log.info("development mode, not sent: %s to %s, template %s, variables %s (outbox row %s)",
                 row.kind, mask_phone(row.to_phone), decision.content_sid, shown, row.id)
        done = _record(sessions, row, status="recorded", content_sid=decision.content_sid,
                       variables=decision.variables, finished_at=as_utc(clock()))
        return "recorded" if done else "lost"
    assert decision.content_sid is not None  # _prepare guarantees it outside development mode
    try:
        provider_sid = sender.send(to_phone=row.to_phone, content_sid=decision.content_sid,
                                   variables=decision.variables)
    except Exception as error:  # a sender bug must not leave the row claimed until the lease ends
        failure = error if isinstance(error, SendError) else SendError(f"{type(error).__name__}: {error}",
                                                                       permanent=False)
        reason = failure.reason[:500]
        if failure.permanent or row.attempts >= settings.notifier_max_attempts:
            log.error("outbox row %s (%s to %s) failed after %s attempt(s): %s", row.id, row.kind,
                      mask_phone(row.to_phone), row.attempts, reason)
            done = _record(sessions, row, status="failed", last_error=reason, finished_at=as_utc(clock()))
            return "failed" if done else "lost"
        due = as_utc(clock()) + retry_delay(row.attempts, settings)
        log.warning("outbox row %s (%s) attempt %s failed, retrying at %s: %s", row.id, row.kind, row.attempts,
                    due.isoformat(), reason)
        done = _record(sessions, row, status="pending", last_error=reason, due_at=due)
        return "retried" if done else "lost"
    done = _record(sessions, row, status="sent", content_sid=decision.content_sid, variables=decision.variables,
                   provider_sid=provider_sid, last_error=None, finished_at=as_utc(clock()))
    return "sent" if done else "lost"


def deliver_due(*, sessions: sessionmaker[Session], sender: Sender | None, settings: Settings,
                clock: Callable[[], datetime] = utcnow) -> DeliveryReport:
    """Claim one batch of due rows and send them (or only record them when `sender` is None)."""
    with sessions() as session:
        claimed = claim_due(session, now=clock(), limit=settings.notifier_batch_size,
                            lease=timedelta(seconds=settings.notifier_lease_seconds))
    outcomes = Counter(_deliver_one(sessions, row, sender=sender, settings=settings, clock=clock) for row in claimed)
    return DeliveryReport(claimed=len(claimed), **outcomes)
