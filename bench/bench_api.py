"""Throughput and latency of the backend's hot paths, at 1 and 20 concurrent clients.

What it measures (each at every concurrency level):
  nearest  GET  /api/v1/agencies/nearest?place=<place>
  slots    GET  /api/v1/agencies/{id}/slots?service=<service>&days=7
  book     POST /api/v1/appointments  (each request a distinct free seat, person and Idempotency-Key)

It starts nothing: run a backend first, against a development or staging database (never
production: the bench creates people and appointments), for example from the repository root:

    cd api && ../.venv-api/bin/python -m app.cli setup          # migrate + seed the reference data
    ../.venv-api/bin/uvicorn app.main:app --port 8000 --workers 4 &
    cd .. && .venv-api/bin/python bench/bench_api.py            # or --help

Options: --base-url (default http://127.0.0.1:8000), --token (default $SERVICE_TOKEN or the
development token), --place (default Tanger), --agency (default: the agency nearest to --place),
--service, --requests per scenario and level, --concurrency (default 1,20).

Every booking carries the marker `bench:<run id>` in its notes and a phone number of the
+2126999xxxxx block; at the end (even after an error or Ctrl-C) every booking of the run is
cancelled and the bench's people are erased through DELETE /citizens/{phone}.
Prints a table: requests/s (completed requests / wall time) and p50/p95 latency in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

API = "/api/v1"


@dataclass
class Outcome:
    name: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    wall: float = 0.0

    def row(self) -> str:
        n = len(self.latencies)
        ok = sum(count for code, count in self.statuses.items() if 200 <= code < 300)
        if not n:
            return f"{self.name:<8} {self.clients:>7} {0:>8} {'-':>6} {'-':>9} {'-':>8} {'-':>8}"
        ms = sorted(x * 1000 for x in self.latencies)
        p50 = statistics.median(ms)
        p95 = ms[min(n - 1, round(0.95 * (n - 1)))]
        others = ",".join(f"{code}x{count}" for code, count in sorted(self.statuses.items()) if not 200 <= code < 300)
        return (f"{self.name:<8} {self.clients:>7} {n:>8} {ok:>6} {n / self.wall:>9.1f} {p50:>8.1f} {p95:>8.1f}"
                + (f"  (other statuses: {others})" if others else ""))


async def run(name: str, clients: int, jobs: Sequence[Callable[[], Awaitable[httpx.Response]]]) -> Outcome:
    """Run the jobs with `clients` concurrent workers; each job is one request."""
    outcome = Outcome(name, clients)
    queue: asyncio.Queue[Callable[[], Awaitable[httpx.Response]]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def worker() -> None:
        while not queue.empty():
            job = queue.get_nowait()
            started = time.perf_counter()
            response = await job()
            outcome.latencies.append(time.perf_counter() - started)
            outcome.statuses[response.status_code] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    outcome.wall = time.perf_counter() - started
    return outcome


async def find_agency(http: httpx.AsyncClient, place: str) -> str:
    response = await http.get(f"{API}/agencies/nearest", params={"place": place})
    response.raise_for_status()
    body = response.json()
    agencies = body.get("agencies") if isinstance(body, dict) else None
    if not agencies or "id" not in agencies[0]:
        raise RuntimeError(f"no agency near {place!r}: {body!r:.300}; pass --agency")
    return str(agencies[0]["id"])


async def free_seats(http: httpx.AsyncClient, agency: str, service: str, wanted: int) -> list[str]:
    """Start times, one per free seat, enough for `wanted` bookings if the agency has them."""
    response = await http.get(f"{API}/agencies/{agency}/slots", params={"service": service, "days": 31})
    response.raise_for_status()
    seats = [slot["starts_at"] for slot in response.json()["slots"] for _ in range(slot["free_seats"])]
    return seats[:wanted]


async def main(args: argparse.Namespace) -> int:
    run_id = secrets.token_hex(4)
    headers = {"Authorization": f"Bearer {args.token}"}
    limits = httpx.Limits(max_connections=max(args.concurrency) + 5)
    booked: list[str] = []
    phones: list[str] = []
    outcomes: list[Outcome] = []
    async with httpx.AsyncClient(base_url=args.base_url, headers=headers, timeout=30, limits=limits) as http:
        try:
            await http.get("/health")
        except httpx.TransportError as error:
            print(f"no backend at {args.base_url}: {error}", file=sys.stderr)
            return 2
        agency = args.agency or await find_agency(http, args.place)
        print(f"run {run_id}: {args.base_url}, agency {agency}, service {args.service}, "
              f"{args.requests} requests per scenario and level\n")

        for clients in args.concurrency:
            nearest = [lambda: http.get(f"{API}/agencies/nearest", params={"place": args.place})] * args.requests
            outcomes.append(await run("nearest", clients, nearest))
            slots = [lambda: http.get(f"{API}/agencies/{agency}/slots",
                                      params={"service": args.service, "days": 7})] * args.requests
            outcomes.append(await run("slots", clients, slots))

        try:
            for clients in args.concurrency:
                starts = await free_seats(http, agency, args.service, args.requests)
                if len(starts) < args.requests:
                    print(f"only {len(starts)} free seats in 31 days at {agency}: booking that many", file=sys.stderr)

                def booking(starts_at: str) -> Callable[[], Awaitable[httpx.Response]]:
                    phone = f"+2126999{len(phones):05d}"
                    phones.append(phone)
                    body = {"full_name": "Bench Test", "phone": phone, "agency_id": agency, "service": args.service,
                            "starts_at": starts_at, "language": "fr", "channel": "web",
                            "notes": f"bench:{run_id}"}

                    async def send() -> httpx.Response:
                        response = await http.post(f"{API}/appointments", json=body,
                                                   headers={"Idempotency-Key": f"bench-{run_id}-{phone}"})
                        if response.status_code == 201:
                            booked.append(response.json()["reference"])
                        return response
                    return send

                outcomes.append(await run("book", clients, [booking(s) for s in starts]))
        finally:
            cancelled = 0
            for reference in booked:
                cancelled += (await http.post(f"{API}/appointments/{reference}/cancel")).status_code == 200
            for phone in phones:
                await http.delete(f"{API}/citizens/{phone}")
            print(f"cleanup: {cancelled}/{len(booked)} bench bookings cancelled, {len(phones)} bench people erased\n")

    print(f"{'scenario':<8} {'clients':>7} {'requests':>8} {'2xx':>6} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for outcome in outcomes:
        print(outcome.row())
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", default=os.environ.get("SERVICE_TOKEN", "dev-service-token"))
    parser.add_argument("--place", default="Tanger")
    parser.add_argument("--agency", help="agency id (default: nearest to --place)")
    parser.add_argument("--service", default="information_orientation")
    parser.add_argument("--requests", type=int, default=200, help="requests per scenario and concurrency level")
    parser.add_argument("--concurrency", default="1,20", type=lambda s: [int(x) for x in s.split(",")])
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
