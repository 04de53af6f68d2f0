"""The steering figures: the funnel (conversations → eligibility checks → bookings → attended)
and its breakdowns, progress toward the plan's 100,000 people, and capacity per agency.

Counted where they happen: conversations and eligibility checks from the action server's
events, bookings from appointments (a moved appointment counts once, when first booked),
attended and no-shows on the appointment's day, cancellations on the day they were made.
Weeks are Casablanca weeks (Monday to Sunday); the database groups by UTC hour and Python folds
the hours into local weeks, the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import ColumnElement, Select, distinct, func, select
from sqlalchemy.orm import Session

from app.models import Agency, Appointment, Event
from app.models.appointment import SeatHold
from app.schemas.stats import CapacityAgency, CapacityOut, CapacityWeek, FunnelStep, Group, Progress, StatsOut
from app.services.agencies import get_places
from app.services.agenda import Labels, local_day_bounds, segment_name, today
from app.services.availability import as_utc, day_candidates, local_zone, public_holiday

TARGET = 100_000
PLAN_START = date(2023, 2, 6)  # launch of Génération Entrepreneurs (domain/facts.md)
DEFAULT_WEEKS = 12
MAX_DAYS = 800
MAX_CAPACITY_WEEKS = 12
DIMENSIONS = ("region", "agency", "segment", "program", "channel", "language", "week")
METRICS = ("conversations", "eligibility_checks", "bookings", "attended", "no_show", "cancelled")
FUNNEL = ("conversations", "eligibility_checks", "bookings", "attended")

TEXTS: dict[str, dict[str, str]] = {
    "conversations": {"fr": "Conversations", "ar": "المحادثات", "ary": "الهضرات", "ary_latn": "Lhadrat"},
    "eligibility_checks": {"fr": "Tests d'éligibilité", "ar": "فحوص الأهلية", "ary": "شوف واش تقدر تستافد",
                           "ary_latn": "Tests d'éligibilité"},
    "bookings": {"fr": "Rendez-vous pris", "ar": "المواعيد المحجوزة", "ary": "المواعد اللي تاخدو",
                 "ary_latn": "Lmaw3id li takhdo"},
    "attended": {"fr": "Présents au rendez-vous", "ar": "الحضور في الموعد", "ary": "اللي جاو للموعد",
                 "ary_latn": "Li jaw l maw3id"},
    "unknown": {"fr": "Non renseigné", "ar": "غير محدد", "ary": "ما معروفش", "ary_latn": "Ma m3rofch"},
    "web": {"fr": "Site web", "ar": "الموقع الإلكتروني", "ary": "السيت", "ary_latn": "Site web"},
    "whatsapp": {"fr": "WhatsApp", "ar": "واتساب", "ary": "واتساب", "ary_latn": "WhatsApp"},
    "lang_fr": {"fr": "Français", "ar": "الفرنسية", "ary": "الفرنساوية", "ary_latn": "Français"},
    "lang_ar": {"fr": "Arabe", "ar": "العربية", "ary": "العربية", "ary_latn": "L3arbiya"},
    "lang_ary": {"fr": "Darija (arabe)", "ar": "الدارجة (بالحروف العربية)", "ary": "الدارجة بالعربية",
                 "ary_latn": "Darija b l3arbiya"},
    "lang_ary_latn": {"fr": "Darija (latin)", "ar": "الدارجة (بالحروف اللاتينية)", "ary": "الدارجة بالحروف اللاتينية",
                      "ary_latn": "Darija b l7orof latiniya"},
    "progress": {"fr": "Personnes accompagnées via l'assistant", "ar": "الأشخاص المواكبون عبر المساعد",
                 "ary": "الناس اللي تواكبو عبر المساعد", "ary_latn": "Nas li twakbo 3la yed l'assistant"},
    "progress_note": {
        "fr": "Personnes venues à au moins un rendez-vous pris via l'assistant, depuis le lancement du plan "
              "(6 février 2023), rapportées à l'objectif de 100 000 (2023-2026). L'accompagnement hors assistant "
              "n'est pas compté ici.",
        "ar": "الأشخاص الذين حضروا موعدا واحدا على الأقل حُجز عبر المساعد منذ إطلاق المخطط (6 فبراير 2023)، "
              "مقارنة بهدف 100 000 (2023-2026). المواكبة خارج المساعد غير محتسبة هنا.",
        "ary": "الناس اللي جاو لموعد واحد على الأقل تاخد عبر المساعد من نهار بدا البرنامج (6 فبراير 2023)، "
               "مقارنين مع الهدف ديال 100 000 (2023-2026). المواكبة برا المساعد ما محسوباش هنا.",
        "ary_latn": "Nas li jaw l maw3id wa7ed 3la l2a9al takhd 3la yed l'assistant mn nhar bda l plan "
                    "(6 février 2023), m9arnin m3a lhadaf dyal 100 000 (2023-2026). Lmowakaba bra l'assistant "
                    "ma m7sobach hna.",
    },
}


def text(key: str, lang: str) -> str:
    return TEXTS[key].get(lang, TEXTS[key]["fr"])


def hour_bucket(session: Session, column: Any) -> ColumnElement[str]:
    """The UTC hour of a timestamp as "YYYY-MM-DD HH" (Casablanca's offsets are whole hours)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def local_date_of_bucket(bucket: str) -> date:
    return datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(local_zone()).date()


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Metric:
    """How one figure is counted: its rows, the instant that places it in time, and the column
    behind each breakdown."""

    base: Select[Any]
    when: Any
    columns: dict[str, Any]


def _metrics() -> dict[str, Metric]:
    def events(kind: str) -> Metric:
        return Metric(select(func.count()).select_from(Event).where(Event.kind == kind), Event.occurred_at, {
            "region": Event.region_id, "agency": Event.agency_id, "segment": Event.segment,
            "program": Event.program_id, "channel": Event.channel, "language": Event.language})

    def appointments(condition: ColumnElement[bool], when: Any) -> Metric:
        base = (select(func.count()).select_from(Appointment).join(Agency, Agency.id == Appointment.agency_id)
                .where(condition))
        return Metric(base, when, {
            "region": Agency.region_id, "agency": Appointment.agency_id, "segment": Appointment.segment,
            "program": Appointment.program_id, "channel": Appointment.channel, "language": Appointment.language})

    return {
        "conversations": events("conversation_started"),
        "eligibility_checks": events("eligibility_checked"),
        # The first row of a booking; moves add rows that point back to it.
        "bookings": appointments(Appointment.rescheduled_from.is_(None), Appointment.created_at),
        "attended": appointments(Appointment.status == "attended", Appointment.starts_at),
        "no_show": appointments(Appointment.status == "no_show", Appointment.starts_at),
        "cancelled": appointments(Appointment.status == "cancelled", Appointment.cancelled_at),
    }


def period(start: date | None, end: date | None, now: datetime) -> tuple[date, date]:
    end = end or today(now)
    start = start or monday(end) - timedelta(weeks=DEFAULT_WEEKS - 1)
    if end < start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "to must not be before from")
    if (end - start).days > MAX_DAYS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"at most {MAX_DAYS} days at once")
    return start, end


class _Labeller:
    def __init__(self, session: Session, lang: str) -> None:
        self.lang = lang
        self.names = Labels.load(session, lang)
        self.places = get_places()

    def __call__(self, dimension: str, key: str | None) -> str:
        if key is None:
            return text("unknown", self.lang)
        if dimension == "region":
            place = self.places.get(key)
            return place.name(self.lang) if place else key
        if dimension == "agency":
            return self.names.agencies.get(key, key)
        if dimension == "segment":
            return segment_name(key, self.lang) or key
        if dimension == "program":
            return self.names.programs.get(key, key)
        if dimension == "channel" and key in ("web", "whatsapp"):
            return text(key, self.lang)
        if dimension == "language" and f"lang_{key}" in TEXTS:
            return text(f"lang_{key}", self.lang)
        return key


def _progress(session: Session, lang: str) -> Progress:
    attended = Appointment.status == "attended"
    people = session.scalar(select(func.count(distinct(Appointment.citizen_id))).where(attended)) or 0
    # An erased person's appointments stay, anonymised: each counts as one person.
    erased = session.scalar(select(func.count()).select_from(Appointment)
                            .where(attended, Appointment.citizen_id.is_(None))) or 0
    accompanied = int(people) + int(erased)
    return Progress(target=TARGET, accompanied=accompanied, share=round(accompanied / TARGET, 6), since=PLAN_START,
                    label=text("progress", lang), note=text("progress_note", lang))


def compute_stats(*, session: Session, start: date | None, end: date | None, lang: str, now: datetime) -> StatsOut:
    start, end = period(start, end, now)
    first, last = local_day_bounds(start, end)
    label = _Labeller(session, lang)
    counts: dict[str, dict[str | None, dict[str, int]]] = {d: defaultdict(lambda: dict.fromkeys(METRICS, 0))
                                                           for d in DIMENSIONS}
    totals = dict.fromkeys(METRICS, 0)
    for name, metric in _metrics().items():
        base = metric.base.where(metric.when >= first, metric.when < last)
        totals[name] = int(session.scalar(base) or 0)
        for dimension, column in metric.columns.items():
            for count, key in session.execute(base.add_columns(column).group_by(column)):
                counts[dimension][key][name] += int(count)
        bucket = hour_bucket(session, metric.when)
        for count, hour in session.execute(base.add_columns(bucket).group_by(bucket)):
            counts["week"][monday(local_date_of_bucket(hour)).isoformat()][name] += int(count)

    weeks = [monday(start) + timedelta(weeks=i) for i in range((monday(end) - monday(start)).days // 7 + 1)]
    by: dict[str, list[Group]] = {}
    for dimension in DIMENSIONS:
        if dimension == "week":
            by[dimension] = [Group(key=w.isoformat(), label=w.isoformat(), **counts["week"][w.isoformat()])
                             for w in weeks]
            continue
        groups = [Group(key=key, label=label(dimension, key), **values) for key, values in counts[dimension].items()]
        # Biggest first; "not known" last, so the chart reads from what matters.
        by[dimension] = sorted(groups, key=lambda g: (g.key is None, -(g.bookings + g.conversations), g.label))

    funnel: list[FunnelStep] = []
    previous: int | None = None
    for step in FUNNEL:
        count = totals[step]
        rate = round(count / previous, 4) if previous else None
        funnel.append(FunnelStep(step=step, label=text(step, lang), count=count, rate=rate))  # type: ignore[arg-type]
        previous = count
    return StatsOut(from_date=start, to_date=end, timezone=local_zone().key, lang=lang, funnel=funnel,
                    by=by, progress=_progress(session, lang), generated_at=as_utc(now))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ capacity
def compute_capacity(*, session: Session, weeks: int, lang: str, now: datetime) -> CapacityOut:
    """Per agency and week (this week and the next ones): adviser seat-slots still ahead (opening
    hours × advisers, public holidays excluded) against the seats appointments hold."""
    if not 1 <= weeks <= MAX_CAPACITY_WEEKS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"weeks must be between 1 and {MAX_CAPACITY_WEEKS}")
    now = as_utc(now)
    first_day = today(now)
    week_starts = [monday(first_day) + timedelta(weeks=i) for i in range(weeks)]
    end = week_starts[-1] + timedelta(days=7)
    _, last = local_day_bounds(first_day, end - timedelta(days=1))
    label = _Labeller(session, lang)
    agencies = list(session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.region, Agency.name)))

    booked: dict[tuple[str, date], int] = defaultdict(int)
    bucket = hour_bucket(session, SeatHold.slot_at)
    rows = session.execute(select(SeatHold.agency_id, bucket, func.count())
                           .where(SeatHold.slot_at >= now, SeatHold.slot_at < last)
                           .group_by(SeatHold.agency_id, bucket))
    for agency_id, hour, count in rows:
        booked[(agency_id, monday(local_date_of_bucket(hour)))] += int(count)

    closed_days = {first_day + timedelta(days=i) for i in range((end - first_day).days)
                   if public_holiday(first_day + timedelta(days=i))}
    out: list[CapacityAgency] = []
    totals = {w: [0, 0] for w in week_starts}
    for agency in agencies:
        available: dict[date, int] = defaultdict(int)
        day = first_day
        while day < end:
            if day not in closed_days:
                cells = day_candidates(agency, day=day, duration_minutes=agency.slot_minutes)
                available[monday(day)] += sum(1 for c in cells if c.starts_at >= now) * agency.advisers
            day += timedelta(days=1)
        rows_out = [_week(w, available[w], booked[(agency.id, w)]) for w in week_starts]
        for row in rows_out:
            totals[row.week_start][0] += row.available
            totals[row.week_start][1] += row.booked
        all_available, all_booked = sum(r.available for r in rows_out), sum(r.booked for r in rows_out)
        out.append(CapacityAgency(
            agency_id=agency.id, agency_name=label("agency", agency.id),
            region=label("region", agency.region_id) if agency.region_id else agency.region, region_id=agency.region_id,
            advisers=agency.advisers, hours_verified=agency.hours_verified, available=all_available,
            booked=all_booked, rate=_rate(all_booked, all_available), weeks=rows_out))
    return CapacityOut(from_date=first_day, weeks=weeks, timezone=local_zone().key, agencies=out,
                       totals=[_week(w, a, b) for w, (a, b) in totals.items()])


def _rate(booked: int, available: int) -> float | None:
    return round(booked / available, 4) if available else None


def _week(week_start: date, available: int, booked: int) -> CapacityWeek:
    return CapacityWeek(week_start=week_start, available=available, booked=booked, free=max(available - booked, 0),
                        rate=_rate(booked, available))
