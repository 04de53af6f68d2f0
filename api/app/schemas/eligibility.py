"""The eligibility vocabulary (profile fields and their values), the rule format of
`data/reference/programmes.yaml`, and the localised result of `POST /eligibility`."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

Lang = Literal["fr", "ar", "ary", "ary_latn"]

# The profile's vocabulary: the bot's forms map the person's words onto these codes.
Stage = Literal["idea", "project", "auto_entrepreneur", "tpe", "informal", "employer"]
Residence = Literal["morocco", "mre", "foreign_resident", "foreign_non_resident"]
Area = Literal["rural", "urban"]
Sector = Literal[
    "commerce",
    "industry",
    "crafts",
    "services",
    "agriculture",
    "real_estate_development",
    "deep_sea_fishing",
    "regulated_profession",
    "hotel",
    "other",
]
Need = Literal[
    "information", "training", "business_plan", "formalisation", "financing", "premises", "accounting", "hiring"
]
ProfileField = Literal[
    "stage", "age", "need", "residence", "sector", "turnover", "business_age_years", "investment", "area", "province"
]
Outcome = Literal["eligible", "maybe", "not_eligible"]
# met / not_met / uncertain (the facts leave it open) / missing (the profile lacks a field that
# decides it) / info (a note that never changes the outcome).
RuleResult = Literal["met", "not_met", "uncertain", "missing", "info"]

# In this order next_questions breaks ties: the bot's form asks stage, age and need first.
PROFILE_FIELDS: tuple[ProfileField, ...] = get_args(ProfileField)
CHOICES: dict[str, tuple[str, ...]] = {
    "stage": get_args(Stage),
    "residence": get_args(Residence),
    "area": get_args(Area),
    "sector": get_args(Sector),
    "need": get_args(Need),
}
NUMBERS = ("age", "turnover", "business_age_years", "investment")
TEXTS = ("province",)


class Localised(BaseModel):
    """One text in the four languages; none may be empty."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fr: str = Field(min_length=1)
    ar: str = Field(min_length=1)
    ary: str = Field(min_length=1)
    ary_latn: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return str(getattr(self, lang))


class Rule(BaseModel):
    """One condition of a programme, as written in the YAML (see data/reference/eligibility.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    field: ProfileField | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    not_in: tuple[str, ...] | None = None
    maybe: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    below: float | None = None
    when: dict[ProfileField, tuple[str, ...]] = {}
    unless: dict[ProfileField, tuple[str, ...]] = {}
    if_not_met: Literal["not_eligible", "maybe"] = "not_eligible"
    unknown: bool = False
    info: bool = False
    fact: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    text: Localised

    @model_validator(mode="after")
    def _well_formed(self) -> Rule:
        lists = self.in_ is not None or self.not_in is not None or bool(self.maybe)
        numbers = self.min is not None or self.max is not None or self.below is not None
        if self.unknown:
            if self.field or lists or numbers or self.when or self.unless or self.info:
                raise ValueError(f"rule {self.id}: an `unknown` rule tests nothing (no field, test or when)")
            return self
        if self.field is None:
            raise ValueError(f"rule {self.id}: needs a `field` (or `unknown: true`)")
        if self.field in NUMBERS:
            if lists or not numbers:
                raise ValueError(f"rule {self.id}: {self.field} is a number: use min, max or below")
        else:
            if numbers or (self.in_ is None) == (self.not_in is None):
                raise ValueError(f"rule {self.id}: {self.field} takes exactly one of `in` or `not_in` (plus `maybe`)")
            listed = (self.in_ or ()) + (self.not_in or ()) + self.maybe
            _check_values(self.id, self.field, listed)
            if set(self.in_ or ()) & set(self.maybe) or set(self.not_in or ()) & set(self.maybe):
                raise ValueError(f"rule {self.id}: a value cannot be both listed and `maybe`")
        for guard in (self.when, self.unless):
            for field, values in guard.items():
                if field not in CHOICES:
                    raise ValueError(f"rule {self.id}: `when`/`unless` only take {', '.join(CHOICES)}")
                _check_values(self.id, field, values)
        if self.info and self.if_not_met != "not_eligible":
            raise ValueError(f"rule {self.id}: an `info` rule never changes the outcome")
        return self


def _check_values(rule_id: str, field: str, values: tuple[str, ...]) -> None:
    allowed = CHOICES.get(field)
    unknown = [v for v in values if allowed is not None and v not in allowed]
    if unknown:
        raise ValueError(
            f"rule {rule_id}: {field} has no value {', '.join(unknown)} (allowed: {', '.join(allowed or ())})"
        )


class Profile(BaseModel):
    """What the person told the bot; every field is optional."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"stage": "idea", "age": 24, "residence": "morocco", "province": "Tanger-Assilah", "need": "financing"}
            ]
        },
    )

    stage: Stage | None = Field(None, description="idea, project, auto_entrepreneur, tpe, informal or employer")
    age: int | None = Field(None, ge=0, le=120, description="age in years")
    residence: Residence | None = Field(None, description="morocco, mre, foreign_resident or foreign_non_resident")
    province: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        validation_alias=AliasChoices("province", "city"),
        description="province, prefecture or city (also accepted as `city`)",
    )
    area: Area | None = Field(None, description="rural or urban")
    turnover: float | None = Field(None, ge=0, le=1e12, description="yearly turnover in DH, realised or forecast")
    sector: Sector | None = None
    need: Need | None = None
    business_age_years: float | None = Field(None, ge=0, le=100, description="years since the business was created")
    investment: float | None = Field(None, ge=0, le=1e12, description="total investment of the project, in DH")


class ReasonOut(BaseModel):
    rule: str
    result: RuleResult
    text: str


class AssessmentOut(BaseModel):
    program_id: str
    name: str
    outcome: Outcome
    outcome_label: str
    status: str
    status_label: str
    status_note: str | None
    matches_need: bool
    reasons: list[ReasonOut]
    missing: list[ProfileField] = Field(description="profile fields whose answer could still change this outcome")
    to_check: list[str] = Field(description="conditions the profile cannot capture: check them at the agency")
    as_of: str | None = Field(description="date of the newest source behind the facts; null: to be confirmed")
    confidence: str


class NoticeOut(BaseModel):
    id: str
    text: str


class EligibilityOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lang": "fr",
                    "results": [
                        {
                            "program_id": "auto_entrepreneur",
                            "name": "Statut d'auto-entrepreneur",
                            "outcome": "eligible",
                            "outcome_label": "Éligible",
                            "status": "active",
                            "status_label": "Actif",
                            "status_note": None,
                            "matches_need": True,
                            "reasons": [{"rule": "ae_stage", "result": "met", "text": "Le statut est fait pour..."}],
                            "missing": [],
                            "to_check": ["Ne pas exercer déjà une activité soumise à la taxe professionnelle..."],
                            "as_of": "2025-08",
                            "confidence": "high",
                        }
                    ],
                    "next_questions": ["age", "residence"],
                    "notices": [{"id": "free", "text": "Les services de l'ANAPEC sont gratuits..."}],
                }
            ]
        }
    )

    lang: Lang
    results: list[AssessmentOut] = Field(description="every programme: eligible first, then maybe, then not_eligible")
    next_questions: list[ProfileField] = Field(
        description="unanswered profile fields that could still change an outcome, most useful first"
    )
    notices: list[NoticeOut]


OUTCOME_LABELS: dict[str, Localised] = {
    "eligible": Localised(fr="Éligible", ar="مؤهل", ary="مؤهل", ary_latn="Mo2ahal"),
    "maybe": Localised(fr="Peut-être éligible", ar="ربما مؤهل", ary="يمكن تكون مؤهل", ary_latn="Ymken tkoun mo2ahal"),
    "not_eligible": Localised(fr="Non éligible", ar="غير مؤهل", ary="ماشي مؤهل", ary_latn="Machi mo2ahal"),
}

# Guardrails of facts.md §4.5, shown with every answer.
NOTICES: dict[str, Localised] = {
    "free": Localised(
        fr="Les services de l'ANAPEC sont gratuits : personne n'a le droit de vous demander de l'argent.",
        ar="خدمات أنابيك مجانية: لا يحق لأي أحد أن يطلب منك المال.",
        ary="الخدمات ديال لانابيك فابور: حتى واحد ما عندو الحق يطلب منك الفلوس.",
        ary_latn="Les services dyal l'ANAPEC fabor: 7ta wa7ed ma 3ndo l7a9 ytleb mennek lflous.",
    ),
    "not_a_promise": Localised(
        fr="Être éligible n'est pas une promesse de financement : chaque programme décide selon ses règles "
        "et son budget (la banque pour Intelaka).",
        ar="الأهلية ليست وعدا بالتمويل: كل برنامج يقرر حسب قواعده وميزانيته (البنك بالنسبة لانطلاقة).",
        ary="إلا كنتي مؤهل، راه ماشي وعد بالتمويل: كل برنامج كيقرر على حساب القواعد والميزانية ديالو "
        "(البنكة فانطلاقة).",
        ary_latn="Ila kenti mo2ahal, rah machi wa3d b tamwil: kol barnamej kay9arrer 3la 7sab l9awa3id w "
        "lmizaniya dyalo (lbanka f Intelaka).",
    ),
    "dated": Localised(
        fr="Informations publiques datées, à confirmer dans votre agence ANAPEC.",
        ar="معلومات عمومية مؤرخة، يتعين التأكد منها في وكالة أنابيك.",
        ary="هادي معلومات عمومية بالتاريخ ديالها، خاصك تأكد منها فالوكالة ديال لانابيك.",
        ary_latn="Hadi ma3loumat 3omomiya b tarikh dyalha, khassek tt2akked menha f l'agence dyal l'ANAPEC.",
    ),
}
