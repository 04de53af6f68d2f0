"""The agency workspace: agenda, attendance and cancellations, moves, callback queue, live
changes (Server-Sent Events), CSV and iCalendar exports; and the pages served at /staff."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session
from starlette.types import Scope

from app.core.security import CurrentStaff, presented_token, staff_for_token
from app.deps import LangDep, SessionDep
from app.schemas.availability import SlotsOut
from app.schemas.staff import AgendaItem, AgendaOut, ChangesOut, FeedOut, HandoffItem, MoveIn, StatusIn
from app.services import agenda as svc
from app.services import exports
from app.services.availability import MAX_DAYS as SLOT_DAYS
from app.services.availability import current_time

router = APIRouter(prefix="/staff", tags=["staff"])

NowDep = Annotated[datetime, Depends(current_time)]
AgencyQuery = Annotated[str | None, Query(description="admins: one agency (default every agency); staff: their own")]
FromQuery = Annotated[date | None, Query(alias="from", description="first local day (default today)")]
ToQuery = Annotated[date | None, Query(alias="to", description="last local day (default from + 13 days)")]
ServiceQuery = Annotated[str | None, Query(description="only this service")]
StatusQuery = Annotated[Literal["booked", "attended", "no_show", "cancelled"] | None, Query(alias="status")]
SearchQuery = Annotated[str | None, Query(max_length=100, description="a name, a phone number or a reference")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "unknown here (or another agency's)"}}
_CONFLICT: dict[int | str, dict[str, Any]] = {**_NOT_FOUND, 409: {"description": "not possible in its current state"}}

# How often a live page's stream reads the database, and how long one stream lasts: the browser
# reconnects by itself (with Last-Event-ID), which also re-checks the session each time.
STREAM_POLL_SECONDS = 2.0
STREAM_MAX_SECONDS = 300.0
STREAM_RETRY_MS = 3000


@router.get("/agenda", response_model=AgendaOut)
def get_agenda(staff: CurrentStaff, session: SessionDep, lang: LangDep, now: NowDep, agency: AgencyQuery = None,
               from_date: FromQuery = None, to_date: ToQuery = None, service: ServiceQuery = None,
               state: StatusQuery = None, q: SearchQuery = None) -> AgendaOut:
    """The agency's appointments from a day to another (default: today and the next 13 days)."""
    return svc.list_agenda(session=session, staff=staff, agency=agency, start=from_date, end=to_date, service=service,
                           state=state, q=q, lang=lang, now=now)


@router.get("/agenda.csv", response_class=PlainTextResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "the agenda as CSV (UTF-8)"}})
def get_agenda_csv(staff: CurrentStaff, session: SessionDep, lang: LangDep, now: NowDep, agency: AgencyQuery = None,
                   from_date: FromQuery = None, to_date: ToQuery = None, service: ServiceQuery = None,
                   state: StatusQuery = None, q: SearchQuery = None) -> Response:
    """The same agenda as a spreadsheet file."""
    result = svc.list_agenda(session=session, staff=staff, agency=agency, start=from_date, end=to_date,
                             service=service, state=state, q=q, lang=lang, now=now)
    name = f"agenda-{result.agency_id or 'all'}-{result.from_date}-{result.to_date}.csv"
    return Response(exports.agenda_csv(result.items), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.post("/appointments/{reference}/status", response_model=AgendaItem, responses=_CONFLICT)
def post_status(reference: str, payload: StatusIn, staff: CurrentStaff, session: SessionDep, lang: LangDep,
                now: NowDep) -> AgendaItem:
    """Mark attended or no-show (from the day of the appointment), or cancel (the person is told)."""
    return svc.set_status(session=session, staff=staff, reference=reference, new_status=payload.status, lang=lang,
                          now=now)


@router.get("/appointments/{reference}/slots", response_model=SlotsOut, response_model_by_alias=True,
            responses=_NOT_FOUND)
def get_move_slots(reference: str, staff: CurrentStaff, session: SessionDep, now: NowDep, from_date: FromQuery = None,
                   days: Annotated[int | None, Query(description=f"1 to {SLOT_DAYS} (default 7)")] = None) -> SlotsOut:
    """Free slots the appointment could move to (its agency, its service)."""
    return svc.free_slots(session=session, staff=staff, reference=reference, start=from_date, days=days, now=now)


@router.post("/appointments/{reference}/reschedule", response_model=AgendaItem, responses=_CONFLICT)
def post_reschedule(reference: str, payload: MoveIn, staff: CurrentStaff, session: SessionDep, lang: LangDep,
                    now: NowDep) -> AgendaItem:
    """Move the appointment to a free slot; it stays where it was if that slot was taken meanwhile."""
    return svc.move(session=session, staff=staff, reference=reference, starts_at=payload.starts_at, lang=lang, now=now)


@router.get("/handoffs", response_model=list[HandoffItem])
def get_handoffs(staff: CurrentStaff, session: SessionDep, lang: LangDep, agency: AgencyQuery = None,
                 state: Annotated[Literal["active", "open", "taken", "closed", "all"],
                                  Query(alias="status", description="active = open and taken")] = "active",
                 ) -> list[HandoffItem]:
    """Callback requests for the agency: open ones first, oldest first."""
    return svc.list_handoffs(session=session, staff=staff, agency=agency, state=state, lang=lang)


@router.post("/handoffs/{handoff_id}/take", response_model=HandoffItem, responses=_CONFLICT)
def post_take(handoff_id: int, staff: CurrentStaff, session: SessionDep, lang: LangDep, now: NowDep) -> HandoffItem:
    """Take a callback request: colleagues see who is calling the person back."""
    return svc.take_handoff(session=session, staff=staff, handoff_id=handoff_id, lang=lang, now=now)


@router.post("/handoffs/{handoff_id}/close", response_model=HandoffItem, responses=_CONFLICT)
def post_close(handoff_id: int, staff: CurrentStaff, session: SessionDep, lang: LangDep, now: NowDep) -> HandoffItem:
    """Close a callback request once the person was called back."""
    return svc.close_handoff(session=session, staff=staff, handoff_id=handoff_id, lang=lang, now=now)


@router.get("/changes", response_model=ChangesOut)
def get_changes(staff: CurrentStaff, session: SessionDep, lang: LangDep, now: NowDep, agency: AgencyQuery = None,
                cursor: Annotated[str | None, Query(description="from /staff/agenda or the previous answer")] = None,
                ) -> ChangesOut:
    """Appointments and callback requests changed since the cursor (short polling)."""
    return svc.changes(session=session, staff=staff, agency=agency, since=svc.parse_cursor(cursor, now), lang=lang)


def _poll(session: Session, token: str | None, agency: str | None, since: datetime, lang: str) -> ChangesOut | None:
    """One read of the stream, None once the session has ended; the connection goes back to the
    pool between reads (a stream lasts minutes)."""
    try:
        staff = staff_for_token(session, token) if token else None
        return svc.changes(session=session, staff=staff, agency=agency, since=since, lang=lang) if staff else None
    finally:
        session.close()


@dataclass(frozen=True)
class StreamStart:
    agency_id: str | None
    since: datetime


def stream_start(staff: CurrentStaff, session: SessionDep, now: NowDep, agency: AgencyQuery = None,
                 cursor: Annotated[str | None, Query(description="from /staff/agenda")] = None,
                 last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None) -> StreamStart:
    """Checked before the stream opens, so that a refusal is a plain 403 or 422."""
    return StreamStart(svc.agency_for(session, staff, agency), svc.parse_cursor(last_event_id or cursor, now))


@router.get("/stream", response_class=EventSourceResponse,
            responses={200: {"description": "events `ready`, `appointment`, `handoff`, `expired`; the id is the "
                                            "cursor to resume from"}})
async def get_stream(request: Request, session: SessionDep, lang: LangDep,
                     start: Annotated[StreamStart, Depends(stream_start)],
                     token: Annotated[str | None, Depends(presented_token)]) -> AsyncIterator[ServerSentEvent]:
    """New, cancelled, moved and marked appointments and callback requests, as they happen.

    Fed by reading the database every few seconds from a cursor, so it works whichever backend
    worker wrote the change."""
    since = start.since
    sent: dict[str, datetime] = {}
    deadline = time.monotonic() + STREAM_MAX_SECONDS
    yield ServerSentEvent(event="ready", id=since.isoformat(), data={"cursor": since.isoformat()},
                          retry=STREAM_RETRY_MS)
    while time.monotonic() < deadline and not await request.is_disconnected():
        result = await run_in_threadpool(_poll, session, token, start.agency_id, since, lang)
        if result is None:
            yield ServerSentEvent(event="expired", data={"detail": "staff login required"})
            return
        since = datetime.fromisoformat(result.cursor)
        items: list[tuple[str, str, datetime, Any]] = [
            *(("appointment", f"a:{a.reference}", a.changed_at, a) for a in result.appointments),
            *(("handoff", f"h:{h.id}", h.changed_at, h) for h in result.handoffs)]
        for kind, key, changed_at, item in items:
            if sent.get(key) != changed_at:
                sent[key] = changed_at
                yield ServerSentEvent(event=kind, id=result.cursor, data=item)
        # What fell out of the look-back window cannot come again.
        floor = since - 2 * svc.LOOKBACK
        sent = {key: stamp for key, stamp in sent.items() if stamp >= floor}
        await asyncio.sleep(STREAM_POLL_SECONDS)


# ------------------------------------------------------------------------------- calendar feed
@router.get("/feed", response_model=FeedOut)
def get_feed(staff: CurrentStaff, session: SessionDep) -> FeedOut:
    """Whether the staff member has a calendar subscription (its URL is shown only when issued)."""
    return exports.feed_status(session=session, staff=staff)


@router.post("/feed", response_model=FeedOut, status_code=status.HTTP_201_CREATED)
def post_feed(request: Request, staff: CurrentStaff, session: SessionDep, now: NowDep) -> FeedOut:
    """Issue a calendar subscription URL (an .ics feed); any previous URL stops working."""
    return exports.issue_feed(session=session, staff=staff, base_url=str(request.base_url), now=now)


@router.delete("/feed", status_code=status.HTTP_204_NO_CONTENT)
def delete_feed(staff: CurrentStaff, session: SessionDep) -> Response:
    """Revoke the calendar subscription URL."""
    exports.revoke_feed(session=session, staff=staff)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/feed/{token}.ics", response_class=PlainTextResponse,
            responses={200: {"content": {"text/calendar": {}}}, 404: {"description": "unknown or revoked feed"}})
def get_feed_ics(request: Request, session: SessionDep, now: NowDep,
                 token: Annotated[str, PathParam(max_length=100)]) -> Response:
    """The agenda as iCalendar, for a calendar app to subscribe to (the token in the URL, no login)."""
    staff = exports.feed_owner(session=session, token=token, now=now)
    if staff is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown or revoked calendar feed")
    body = exports.agenda_ics(session=session, staff=staff, host=request.url.hostname or "localhost", now=now)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, no-store",
                             "Content-Disposition": 'inline; filename="agenda.ics"'})


# --------------------------------------------------------------------------------------- pages
PAGES_DIR = Path(__file__).resolve().parents[1] / "static" / "staff"
# Only this origin's scripts and styles, no framing: the pages show personal data.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class StaffPages(StaticFiles):
    """The workspace's static pages, with headers that keep them to their own origin."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(PAGE_HEADERS)
        return response


def pages() -> StaffPages:
    return StaffPages(directory=PAGES_DIR, html=True)
