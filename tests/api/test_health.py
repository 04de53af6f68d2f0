"""Health and readiness."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_is_ok_once_reference_data_is_loaded(client: TestClient) -> None:
    for path in ("/health", "/api/v1/health"):
        body = client.get(path).json()
        assert body["status"] == "ok"
        assert body["services"] == 8
