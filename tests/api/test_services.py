"""The service catalogue endpoint."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

LANGS = ["fr", "ar", "ary", "ary_latn"]


@pytest.mark.parametrize("lang", LANGS)
def test_every_service_is_listed_in_the_asked_language(client: TestClient, lang: str) -> None:
    response = client.get("/api/v1/services", params={"lang": lang})
    assert response.status_code == 200
    services = response.json()
    assert [s["id"] for s in services][:2] == ["information_orientation", "entrepreneurship_training"]
    assert len(services) == 8
    assert all(s["lang"] == lang and s["free_of_charge"] for s in services)
    names = {s["name"] for s in services}
    assert len(names) == 8  # one distinct localised name per service


def test_arabic_names_are_in_arabic_script(client: TestClient) -> None:
    for lang in ("ar", "ary"):
        services = client.get("/api/v1/services", params={"lang": lang}).json()
        assert all(any("\u0600" <= c <= "\u06ff" for c in s["name"]) for s in services)


def test_unknown_language_is_a_422_with_a_reason(client: TestClient) -> None:
    response = client.get("/api/v1/services", params={"lang": "en"})
    assert response.status_code == 422
    assert "fr, ar, ary or ary_latn" in response.text or "fr, ar, ary, ary_latn" in response.text
