"""The programme catalogue: the record of `data/reference/programmes.yaml` and its localised views."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.eligibility import Localised, Need, Rule

Status = Literal["active", "to_confirm", "closed"]
Confidence = Literal["high", "medium", "low"]

STATUS_LABELS: dict[str, Localised] = {
    "active": Localised(fr="Actif", ar="ساري", ary="خدام", ary_latn="Khddam"),
    "to_confirm": Localised(
        fr="Statut à confirmer",
        ar="الوضعية بحاجة إلى تأكيد",
        ary="خاص يتأكد واش مازال خدام",
        ary_latn="Khass ytt2akked wach mazal khddam",
    ),
    "closed": Localised(fr="Fermé", ar="مغلق", ary="مسدود", ary_latn="Msdoud"),
}


class Benefit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: Localised
    as_of: str | None
    confidence: Confidence | None = None


class ProgrammeRecord(BaseModel):
    """One programme as reviewed in the YAML; stored whole in `Program.content`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    facts_id: str
    status: Status
    facts_status: str
    as_of: str | None
    confidence: Confidence
    names: Localised
    summary: Localised
    status_note: Localised | None = None
    benefits: tuple[Benefit, ...]
    obligations: tuple[Benefit, ...] = ()
    documents: tuple[Localised, ...]
    where: Localised
    needs: tuple[Need, ...]
    to_check: tuple[Localised, ...] = ()
    rules: tuple[Rule, ...]
    sources: tuple[str, ...] = Field(min_length=1)
    # Filled by the loader from the catalogue's `sources` map, so an answer can cite addresses.
    source_urls: dict[str, str] = {}

    @model_validator(mode="after")
    def _unique_rules(self) -> ProgrammeRecord:
        ids = [rule.id for rule in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError(f"programme {self.id}: two rules share an id")
        return self


class Catalogue(BaseModel):
    """The whole file: shared texts (YAML anchors), programmes, and the addresses of the sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    texts: dict[str, Localised] = {}
    programmes: tuple[ProgrammeRecord, ...] = Field(min_length=1)
    sources: dict[str, str]

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        ids = [p.id for p in self.programmes]
        if len(ids) != len(set(ids)):
            raise ValueError("two programmes share an id")
        rule_ids = [rule.id for p in self.programmes for rule in p.rules]
        if len(rule_ids) != len(set(rule_ids)):
            raise ValueError("two rules share an id (rule ids are unique across the file)")
        cited = {s for p in self.programmes for s in p.sources} | {
            s for p in self.programmes for rule in p.rules for s in rule.sources
        }
        unknown = sorted(cited - set(self.sources))
        if unknown:
            raise ValueError(f"sources cited but missing from `sources`: {', '.join(unknown)}")
        return self


class BenefitOut(BaseModel):
    text: str
    as_of: str | None = Field(description="date of the figure; null: to be confirmed at the agency")
    confidence: str | None = None


class SourceOut(BaseModel):
    key: str
    url: str


class ProgramSummaryOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "forsa",
                    "name": "Programme Forsa",
                    "summary": "Programme de l'État qui forme et finance des porteurs de projets...",
                    "status": "to_confirm",
                    "status_label": "Statut à confirmer",
                    "status_note": "Aucun nouvel appel à candidatures trouvé après l'édition 2023...",
                    "as_of": "2025-11",
                    "confidence": "high",
                    "lang": "fr",
                    "needs": ["financing", "training"],
                }
            ]
        }
    )

    id: str
    name: str
    summary: str
    status: Status
    status_label: str
    status_note: str | None
    as_of: str | None
    confidence: Confidence
    lang: str
    needs: list[str] = Field(description="the needs it serves (financing, training, hiring...), as the "
                                         "eligibility profile's `need` says them")

    @classmethod
    def localised(cls, record: ProgrammeRecord, lang: str) -> ProgramSummaryOut:
        return cls(**_summary_fields(record, lang))


class ProgramOut(ProgramSummaryOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "forsa",
                    "name": "Programme Forsa",
                    "summary": "Programme de l'État qui forme et finance des porteurs de projets...",
                    "status": "to_confirm",
                    "status_label": "Statut à confirmer",
                    "status_note": "Aucun nouvel appel à candidatures trouvé après l'édition 2023...",
                    "as_of": "2025-11",
                    "confidence": "high",
                    "lang": "fr",
                    "benefits": [
                        {
                            "text": "Prêt d'honneur à 0 % jusqu'à 100 000 DH, dont jusqu'à 10 000 DH de subvention.",
                            "as_of": "2023",
                            "confidence": None,
                        }
                    ],
                    "obligations": [],
                    "documents": ["Aucun document pour la candidature en ligne."],
                    "where": "forsa.ma, les guichets Forsa des 12 régions, centre d'appel 5544.",
                    "conditions": ["Forsa est ouvert aux personnes de 18 ans et plus."],
                    "to_check": [],
                    "needs": ["financing", "training"],
                    "sources": [{"key": "telquel_forsa_2022", "url": "https://telquel.ma/..."}],
                }
            ]
        }
    )

    benefits: list[BenefitOut]
    obligations: list[BenefitOut] = Field(description="what the person commits to (costs, declarations)")
    documents: list[str]
    where: str
    conditions: list[str] = Field(description="who can apply: the texts of the programme's rules")
    to_check: list[str] = Field(description="conditions to check at the agency")
    sources: list[SourceOut]

    @classmethod
    def localised(cls, record: ProgrammeRecord, lang: str) -> ProgramOut:
        def benefits(items: tuple[Benefit, ...]) -> list[BenefitOut]:
            return [BenefitOut(text=b.text.get(lang), as_of=b.as_of, confidence=b.confidence) for b in items]

        return cls(
            **_summary_fields(record, lang),
            benefits=benefits(record.benefits),
            obligations=benefits(record.obligations),
            documents=[d.get(lang) for d in record.documents],
            where=record.where.get(lang),
            conditions=list(dict.fromkeys(rule.text.get(lang) for rule in record.rules)),
            to_check=[t.get(lang) for t in record.to_check],
            sources=[SourceOut(key=k, url=record.source_urls.get(k, "")) for k in record.sources],
        )


def _summary_fields(record: ProgrammeRecord, lang: str) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.names.get(lang),
        "summary": record.summary.get(lang),
        "status": record.status,
        "status_label": STATUS_LABELS[record.status].get(lang),
        "status_note": record.status_note.get(lang) if record.status_note else None,
        "as_of": record.as_of,
        "confidence": record.confidence,
        "lang": lang,
        "needs": list(record.needs),
    }
