"""The one typed HTTP client the actions use to reach the backend."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


class BackendUnavailable(Exception):
    """The backend did not answer, or answered with a server error: tell the user, book nothing."""


class BackendRejected(Exception):
    """The backend refused the request (4xx): `status` and `detail` say why."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    description: str
    duration_minutes: int


@dataclass(frozen=True)
class Handoff:
    """A recorded callback request."""

    id: int
    status: str
    reason: str
    agency_id: str | None
    place: str | None


@dataclass(frozen=True)
class Erasure:
    """What DELETE /citizens/{phone} removed."""

    citizen: bool
    appointments_cancelled: int
    appointments_anonymised: int
    handoffs_anonymised: int


@dataclass(frozen=True)
class Agency:
    """An agency as the booking offers it. The backend always sends an address text (the
    verified one, or "to be confirmed"): only `address_verified` makes it one to show."""

    id: str
    name: str
    city: str
    address: str | None
    address_verified: bool
    phone: str | None = None
    name_ar: str | None = None
    distance_km: float | None = None
    # For the nearest-agency and opening-hours answers (actions/agencies.py): the backend's texts
    # are localised and already say "to be confirmed" when a fact is not verified.
    phone_verified: bool = False
    hours: str | None = None
    hours_verified: bool = False
    map_url: str | None = None
    place_id: str | None = None

    @property
    def address_confirmed(self) -> bool:
        return bool(self.address) and self.address_verified


@dataclass(frozen=True)
class NearestAgencies:
    """The agencies nearest to a place, nearest first, and the place as the backend understood it."""

    place: str | None
    agencies: list[Agency]
    place_id: str | None = None
    # The place was matched one typo away, or is also an everyday word ("safi"): worth a check.
    place_uncertain: bool = False


@dataclass(frozen=True)
class ResolvedPlace:
    """The Moroccan place a free text names; `id` is the `city` entity's canonical value."""

    id: str
    name: str
    fuzzy: bool = False
    common_word: bool = False


@dataclass(frozen=True)
class FreeSlot:
    """A bookable start time, local (Africa/Casablanca) with its offset: "2027-01-12T09:00:00+01:00"."""

    starts_at: str
    date: str
    time: str
    free_seats: int


@dataclass(frozen=True)
class Appointment:
    reference: str
    status: str
    agency_id: str
    agency_name: str
    agency_city: str
    service: str
    service_name: str
    starts_at: str
    date: str
    time: str
    full_name: str | None = None
    phone: str | None = None
    free_of_charge: bool = True


@dataclass(frozen=True)
class Benefit:
    """A programme's benefit; `as_of` is the date of its figure (None: to be confirmed)."""

    text: str
    as_of: str | None


@dataclass(frozen=True)
class ProgramSummary:
    """A programme of the catalogue, localised; status is active, to_confirm or closed."""

    id: str
    name: str
    summary: str
    status: str
    status_label: str
    status_note: str | None
    as_of: str | None
    needs: tuple[str, ...] = ()  # financing, training, hiring... (the eligibility profile's `need`)


@dataclass(frozen=True)
class Program(ProgramSummary):
    """A programme with its benefits (dated), documents and where to apply, localised."""

    benefits: tuple[Benefit, ...] = ()
    obligations: tuple[Benefit, ...] = ()
    documents: tuple[str, ...] = ()
    where: str = ""
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reason:
    rule: str
    result: str
    text: str


@dataclass(frozen=True)
class Assessment:
    """One programme's outcome for a profile: eligible, maybe or not_eligible, with the reasons."""

    program_id: str
    name: str
    outcome: str
    outcome_label: str
    status: str
    status_label: str
    status_note: str | None
    matches_need: bool
    reasons: tuple[Reason, ...]
    missing: tuple[str, ...]
    as_of: str | None


@dataclass(frozen=True)
class Eligibility:
    """POST /eligibility: every programme assessed (best first), what to ask next, the notices."""

    results: tuple[Assessment, ...]
    next_questions: tuple[str, ...]
    notices: tuple[str, ...]


def _summary_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {"id": data["id"], "name": data["name"], "summary": data.get("summary") or "", "status": data["status"],
            "status_label": data.get("status_label") or "", "status_note": data.get("status_note"),
            "as_of": data.get("as_of"), "needs": tuple(data.get("needs") or ())}


def _benefits(items: list[dict[str, Any]] | None) -> tuple[Benefit, ...]:
    return tuple(Benefit(text=b["text"], as_of=b.get("as_of")) for b in items or [])


def _assessment(data: dict[str, Any]) -> Assessment:
    return Assessment(
        program_id=data["program_id"], name=data["name"], outcome=data["outcome"],
        outcome_label=data.get("outcome_label") or data["outcome"], status=data["status"],
        status_label=data.get("status_label") or "", status_note=data.get("status_note"),
        matches_need=bool(data.get("matches_need")),
        reasons=tuple(Reason(rule=r["rule"], result=r["result"], text=r["text"]) for r in data.get("reasons") or []),
        missing=tuple(data.get("missing") or ()), as_of=data.get("as_of"),
    )


def _agency(data: dict[str, Any]) -> Agency:
    address = data.get("address") or None
    hours = data.get("hours") if isinstance(data.get("hours"), dict) else {}
    return Agency(
        id=str(data["id"]), name=str(data.get("name") or data["id"]), city=str(data.get("city") or ""),
        address=address, address_verified=bool(data.get("address_verified")) and address is not None,
        phone=data.get("phone") or None, name_ar=data.get("name_ar") or None,
        distance_km=data.get("distance_km"),
        phone_verified=bool(data.get("phone_verified")),
        hours=hours.get("text") or None, hours_verified=bool(hours.get("verified")),
        map_url=data.get("osm_url") or None, place_id=data.get("place_id") or None,
    )


def _appointment(data: dict[str, Any]) -> Appointment:
    return Appointment(
        reference=data["reference"], status=data["status"], agency_id=data["agency_id"],
        agency_name=data.get("agency_name") or data["agency_id"], agency_city=data.get("agency_city") or "",
        service=data["service"], service_name=data.get("service_name") or data["service"],
        starts_at=data["starts_at"], date=str(data.get("date") or ""), time=str(data.get("time") or ""),
        full_name=data.get("full_name"), phone=data.get("phone"),
        free_of_charge=bool(data.get("free_of_charge", True)),
    )


class BackendClient:
    """Async client for /api/v1 with the service token; the transport is injectable for tests."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
            timeout=timeout,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(str(exc)) from exc
        if response.status_code >= 500:
            raise BackendUnavailable(f"{response.status_code} on {path}")
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text
            raise BackendRejected(response.status_code, detail)
        return response.json() if response.content else None

    async def services(self, *, lang: str) -> list[Service]:
        data = await self._request("GET", "/services", params={"lang": lang})
        return [
            Service(id=s["id"], name=s["name"], description=s["description"], duration_minutes=s["duration_minutes"])
            for s in data
        ]

    # --------------------------------------- programmes, eligibility (actions/programs.py, eligibility.py)
    async def programs(self, *, lang: str) -> list[ProgramSummary]:
        """GET /programs: the catalogue in the asked language, closed programmes included."""
        data = await self._request("GET", "/programs", params={"lang": lang})
        return [ProgramSummary(**_summary_fields(p)) for p in data]

    async def program(self, program_id: str, *, lang: str) -> Program:
        """GET /programs/{id}; BackendRejected(404) for an unknown programme."""
        data = await self._request("GET", f"/programs/{quote(program_id, safe='')}", params={"lang": lang})
        return Program(
            **_summary_fields(data), benefits=_benefits(data.get("benefits")),
            obligations=_benefits(data.get("obligations")), documents=tuple(data.get("documents") or ()),
            where=data.get("where") or "", conditions=tuple(data.get("conditions") or ()),
        )

    async def eligibility(self, profile: dict[str, Any], *, lang: str) -> Eligibility:
        """POST /eligibility: the profile's fields (stage, age, need, residence, city...) in, outcomes out."""
        data = await self._request("POST", "/eligibility", params={"lang": lang}, json=profile)
        return Eligibility(
            results=tuple(_assessment(a) for a in data.get("results") or []),
            next_questions=tuple(data.get("next_questions") or ()),
            notices=tuple(n["text"] for n in data.get("notices") or []),
        )

    # ------------------------------------------------------------ handoff, privacy (actions/handoff.py, privacy.py)
    async def create_handoff(
        self,
        *,
        phone: str,
        channel: str,
        language: str,
        summary: str,
        reason: str = "question",
        full_name: str | None = None,
        agency_id: str | None = None,
        place: str | None = None,
    ) -> Handoff:
        """POST /handoffs: a callback request (the backend needs agency_id or place)."""
        body = {"phone": phone, "channel": channel, "language": language, "summary": summary, "reason": reason,
                "full_name": full_name, "agency_id": agency_id, "place": place}
        data = await self._request("POST", "/handoffs", json=body)
        return Handoff(id=data["id"], status=data["status"], reason=data["reason"], agency_id=data.get("agency_id"),
                       place=data.get("place"))

    async def erase_citizen(self, phone: str) -> Erasure:
        """DELETE /citizens/{phone}; BackendRejected(404) when nothing is held for that number."""
        data = await self._request("DELETE", f"/citizens/{quote(phone, safe='+')}")
        return Erasure(citizen=data["citizen"], appointments_cancelled=data["appointments_cancelled"],
                       appointments_anonymised=data["appointments_anonymised"],
                       handoffs_anonymised=data["handoffs_anonymised"])

    # ------------------------------------------------------------------ booking (actions/booking.py)
    async def nearest_agencies(
        self, *, place: str | None = None, lat: float | None = None, lon: float | None = None,
        limit: int = 3, lang: str = "fr",
    ) -> NearestAgencies:
        """GET /agencies/nearest: by free-text place (any script) or coordinates, nearest first."""
        params: dict[str, Any] = {"limit": limit, "lang": lang}
        if place is not None:
            params["place"] = place
        if lat is not None and lon is not None:
            params.update(lat=lat, lon=lon)
        data = await self._request("GET", "/agencies/nearest", params=params)
        if isinstance(data, list):
            return NearestAgencies(place=None, agencies=[_agency(a) for a in data])
        if "agencies" not in data and "id" in data:
            return NearestAgencies(place=None, agencies=[_agency(data)])
        resolved = data.get("place")
        name = resolved.get("name") if isinstance(resolved, dict) else resolved
        place_id = resolved.get("id") if isinstance(resolved, dict) else None
        uncertain = isinstance(resolved, dict) and bool(resolved.get("fuzzy") or resolved.get("common_word"))
        return NearestAgencies(place=name, agencies=[_agency(a) for a in data.get("agencies") or []],
                               place_id=place_id, place_uncertain=uncertain)

    async def resolve_place(self, text: str, *, lang: str = "fr") -> ResolvedPlace | None:
        """GET /places/resolve: the place a free text names, or None when it names none (404)."""
        try:
            data = await self._request("GET", "/places/resolve", params={"q": text[:200], "lang": lang})
        except BackendRejected as rejected:
            if rejected.status in (404, 422):
                return None
            raise
        return ResolvedPlace(id=data["id"], name=data.get("name") or data["id"], fuzzy=bool(data.get("fuzzy")),
                             common_word=bool(data.get("common_word")))

    async def agency(self, agency_id: str, *, lang: str = "fr") -> Agency:
        """GET /agencies/{id}."""
        return _agency(await self._request("GET", f"/agencies/{quote(agency_id, safe='')}", params={"lang": lang}))

    async def free_slots(self, agency_id: str, *, service: str, start: date | None = None,
                         days: int = 7) -> list[FreeSlot]:
        """GET /agencies/{id}/slots: free start times, local time, earliest first."""
        params: dict[str, Any] = {"service": service, "days": days}
        if start is not None:
            params["from"] = start.isoformat()
        data = await self._request("GET", f"/agencies/{quote(agency_id, safe='')}/slots", params=params)
        return [FreeSlot(starts_at=s["starts_at"], date=str(s["date"]), time=s["time"], free_seats=s["free_seats"])
                for s in data["slots"]]

    async def book_appointment(
        self, *, idempotency_key: str, full_name: str, phone: str, agency_id: str, service: str,
        starts_at: str, language: str, channel: str, program: str | None = None, whatsapp_opt_in: bool = False,
    ) -> Appointment:
        """POST /appointments; BackendRejected(409) when the slot was taken meanwhile. A retry with the
        same key and body replays the first answer, so it never books twice."""
        body: dict[str, Any] = {"full_name": full_name, "phone": phone, "agency_id": agency_id, "service": service,
                                "starts_at": starts_at, "language": language, "channel": channel}
        if program:
            body["program"] = program
        if whatsapp_opt_in:
            body["whatsapp_opt_in"] = True
        data = await self._request("POST", "/appointments", json=body, headers={"Idempotency-Key": idempotency_key})
        return _appointment(data)

    async def appointments(self, phone: str, *, lang: str | None = None) -> list[Appointment]:
        """GET /appointments?phone=: the person's upcoming appointments, earliest first, their agency
        and service named in `lang` (default: each booking's language)."""
        params = {"phone": phone, **({"lang": lang} if lang else {})}
        return [_appointment(a) for a in await self._request("GET", "/appointments", params=params)]

    async def cancel_appointment(self, reference: str, *, phone: str) -> Appointment:
        """POST /appointments/{ref}/cancel; 404 unless the phone is the booking's, 409 when no longer possible."""
        data = await self._request("POST", f"/appointments/{quote(reference, safe='')}/cancel", json={"phone": phone})
        return _appointment(data)

    async def reschedule_appointment(self, reference: str, *, starts_at: str, phone: str,
                                     lang: str | None = None) -> Appointment:
        """POST /appointments/{ref}/reschedule (atomic: on 409 the appointment stays where it was)."""
        data = await self._request("POST", f"/appointments/{quote(reference, safe='')}/reschedule",
                                   json={"starts_at": starts_at, "phone": phone},
                                   params={"lang": lang} if lang else None)
        return _appointment(data)

    # ------------------------------------------------------------------ analytics (actions/analytics.py)
    async def record_event(self, kind: str, *, channel: str | None = None, language: str | None = None,
                           place: str | None = None, region: str | None = None, agency_id: str | None = None,
                           segment: str | None = None, program: str | None = None) -> None:
        """POST /events: one step of a conversation for the steering funnel (codes only, no
        personal data; a place is reduced to its region and province by the backend)."""
        body = {"kind": kind, "channel": channel, "language": language, "place": place, "region": region,
                "agency_id": agency_id, "segment": segment, "program": program}
        await self._request("POST", "/events", json={k: v for k, v in body.items() if v is not None})


_client: BackendClient | None = None


def get_client() -> BackendClient:
    """The process-wide client, created on first use from BACKEND_URL and SERVICE_TOKEN."""
    global _client
    if _client is None:
        _client = BackendClient(
            os.environ.get("BACKEND_URL", "http://localhost:8000"),
            os.environ.get("SERVICE_TOKEN", "dev-service-token"),
        )
    return _client


def set_client(client: BackendClient | None) -> None:
    """Replace the process-wide client (tests)."""
    global _client
    _client = client
