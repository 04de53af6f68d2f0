"""The one typed HTTP client the actions use to reach the backend."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

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
