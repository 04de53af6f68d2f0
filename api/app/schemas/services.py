"""Localised views of the service catalogue."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from app.models import Service


class ServiceOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "business_plan", "name": "Aide au plan d'affaires (business plan)",
        "description": "Préparer l'étude et le plan d'affaires de votre projet.", "duration_minutes": 60,
        "lang": "fr", "free_of_charge": True}]})

    id: str
    name: str
    description: str
    duration_minutes: int
    lang: str
    free_of_charge: bool = True

    @classmethod
    def localised(cls, service: Service, lang: str) -> ServiceOut:
        return cls(
            id=service.id,
            name=service.names.get(lang) or service.names["fr"],
            description=service.descriptions.get(lang) or service.descriptions["fr"],
            duration_minutes=service.duration_minutes,
            lang=lang,
        )
