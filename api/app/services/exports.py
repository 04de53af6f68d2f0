"""The agenda as CSV and as an iCalendar feed (with its revocable per-staff token), and the
steering figures as CSV."""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.security import token_digest
from app.models import Agency, Appointment, CalendarFeed, Citizen, StaffUser
from app.schemas.staff import AgendaItem, FeedOut
from app.schemas.stats import CapacityOut, StatsOut
from app.services.agenda import Labels, agenda_item
from app.services.availability import as_utc, stored_utc

FEED_PREFIX = "gef_"
FEED_PAST = timedelta(days=7)
SEQUENCE_EPOCH = datetime(2023, 1, 1, tzinfo=UTC)

# A spreadsheet runs a cell that starts like a formula: a name typed as "=HYPERLINK(...)" must
# stay text. Phone numbers (+212…) and plain numbers are left alone.
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_HARMLESS = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if _FORMULA.match(text) and not _HARMLESS.match(text) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """UTF-8 text with a byte-order mark, so that spreadsheets show Arabic and accents right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return "\ufeff" + out.getvalue()


AGENDA_COLUMNS = ("date", "time", "end", "reference", "status", "full_name", "phone", "service", "segment",
                  "programme", "language", "channel", "agency", "notes")


def agenda_csv(items: Sequence[AgendaItem]) -> str:
    return to_csv(AGENDA_COLUMNS, ((i.date.isoformat(), i.time, i.ends_at.strftime("%H:%M"), i.reference, i.status,
                                    i.full_name, i.phone, i.service_name, i.segment_name, i.program_name, i.language,
                                    i.channel, i.agency_name, i.notes) for i in items))


def stats_csv(stats: StatsOut) -> str:
    rows: list[list[object]] = [["funnel", step.step, step.label, step.count, "", "", ""] for step in stats.funnel]
    for dimension, groups in stats.by.items():
        rows += [[dimension, g.key or "", g.label, g.conversations, g.eligibility_checks, g.bookings, g.attended]
                 for g in groups]
    rows.append(["progress", "accompanied", stats.progress.label, stats.progress.accompanied, "", "",
                 stats.progress.target])
    return to_csv(("dimension", "key", "label", "conversations", "eligibility_checks", "bookings", "attended"), rows)


def capacity_csv(capacity: CapacityOut) -> str:
    rows = [[a.agency_id, a.agency_name, a.region, w.week_start.isoformat(), w.available, w.booked, w.free]
            for a in capacity.agencies for w in a.weeks]
    return to_csv(("agency_id", "agency", "region", "week_start", "seat_slots", "booked", "free"), rows)


# --------------------------------------------------------------------------------- calendar feed
def issue_feed(*, session: Session, staff: StaffUser, base_url: str, now: datetime) -> FeedOut:
    """A new subscription URL; the previous one stops working at once."""
    token = FEED_PREFIX + secrets.token_urlsafe(32)
    session.execute(delete(CalendarFeed).where(CalendarFeed.staff_id == staff.id))
    feed = CalendarFeed(staff_id=staff.id, token_hash=token_digest(token), created_at=as_utc(now))
    session.add(feed)
    session.commit()
    return FeedOut(active=True, url=f"{base_url.rstrip('/')}/api/v1/staff/feed/{token}.ics",
                   created_at=feed.created_at)


def feed_status(*, session: Session, staff: StaffUser) -> FeedOut:
    feed = session.get(CalendarFeed, staff.id)
    if feed is None:
        return FeedOut(active=False)
    return FeedOut(active=True, created_at=stored_utc(feed.created_at),
                   last_used_at=stored_utc(feed.last_used_at) if feed.last_used_at else None)


def revoke_feed(*, session: Session, staff: StaffUser) -> None:
    session.execute(delete(CalendarFeed).where(CalendarFeed.staff_id == staff.id))
    session.commit()


def feed_owner(*, session: Session, token: str, now: datetime) -> StaffUser | None:
    """The active staff member a feed token belongs to; None for an unknown or revoked token."""
    if not token.startswith(FEED_PREFIX):
        return None
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == token_digest(token)))
    staff = session.get(StaffUser, feed.staff_id) if feed else None
    if feed is None or staff is None or not staff.active:
        return None
    feed.last_used_at = as_utc(now)
    session.commit()
    return staff


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n") \
        .replace("\n", "\\n")


def _fold(line: str) -> list[str]:
    """RFC 5545 §3.1: lines of at most 75 octets, continued with a leading space."""
    out: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode())
        if size + width > (75 if not out else 74):
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return [out[0], *(" " + part for part in out[1:])]


def _stamp(value: datetime) -> str:
    return stored_utc(value).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def short_name(full_name: str | None) -> str | None:
    """"Salma Benali" → "Salma B.": a subscribed calendar lives in another company's cloud,
    so it gets no more than the adviser needs to recognise the person (no phone number)."""
    if not full_name:
        return None
    words = full_name.split()
    return words[0] if len(words) == 1 else f"{words[0]} {words[-1][0]}."


def _event(item: AgendaItem, *, host: str, labels: dict[str, str]) -> list[str]:
    who = short_name(item.full_name) or labels["appointment"]
    description = "\n".join(line for line in (
        f"{labels['reference']}: {item.reference}",
        f"{labels['programme']}: {item.program_name}" if item.program_name else "",
        f"{labels['segment']}: {item.segment_name}" if item.segment_name else "",
        f"{labels['language']}: {item.language} · {labels['channel']}: {item.channel}",
    ) if line)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{item.reference}@{host}",
        f"DTSTAMP:{_stamp(item.changed_at)}",
        # Moves and cancellations update the same event: a later change has a higher sequence.
        f"SEQUENCE:{int((item.changed_at - SEQUENCE_EPOCH).total_seconds())}",
        f"DTSTART:{_stamp(item.starts_at)}",
        f"DTEND:{_stamp(item.ends_at)}",
        f"SUMMARY:{_ics_text(f'{who} — {item.service_name}')}",
        f"DESCRIPTION:{_ics_text(description)}",
        f"LOCATION:{_ics_text(item.agency_name)}",
        f"STATUS:{'CANCELLED' if item.status == 'cancelled' else 'CONFIRMED'}",
        "END:VEVENT",
    ]
    return lines


ICS_LABELS = {
    "fr": {"appointment": "Rendez-vous", "reference": "Référence", "programme": "Programme", "segment": "Profil",
           "language": "Langue", "channel": "Canal", "calendar": "ANAPEC — rendez-vous"},
    "ar": {"appointment": "موعد", "reference": "المرجع", "programme": "البرنامج", "segment": "الفئة",
           "language": "اللغة", "channel": "القناة", "calendar": "أنابيك — المواعيد"},
}


def agenda_ics(*, session: Session, staff: StaffUser, host: str, now: datetime) -> str:
    """The staff member's agency (every agency for an admin without one), a week back to the
    booking horizon ahead; cancelled appointments stay, marked CANCELLED, so calendars drop them."""
    lang = "ar" if staff.language in ("ar", "ary") else "fr"
    now = as_utc(now)
    first, last = now - FEED_PAST, now + timedelta(days=get_settings().booking_horizon_days + 1)
    stmt = (select(Appointment, Citizen).outerjoin(Citizen, Citizen.id == Appointment.citizen_id)
            .where(Appointment.starts_at >= first, Appointment.starts_at < last, Appointment.status != "rescheduled"))
    if staff.role != "admin" or staff.agency_id:
        stmt = stmt.where(Appointment.agency_id == staff.agency_id)
    label_set = Labels.load(session, lang)
    items = [agenda_item(a, c, label_set) for a, c in session.execute(stmt.order_by(Appointment.starts_at))]
    agency = session.get(Agency, staff.agency_id) if staff.agency_id else None
    name = f"{ICS_LABELS[lang]['calendar']}" + (f" — {label_set.agencies.get(agency.id)}" if agency else "")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//ANAPEC//Generation Entrepreneurs//FR", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_ics_text(name)}", "X-WR-TIMEZONE:Africa/Casablanca",
             "REFRESH-INTERVAL;VALUE=DURATION:PT15M", "X-PUBLISHED-TTL:PT15M"]
    for item in items:
        lines += _event(item, host=host, labels=ICS_LABELS[lang])
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))
