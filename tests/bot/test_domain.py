"""The domain keeps design §3 and §4: the contract's intents, and every response in four
languages plus a default, with channel-specific variants also conditioned on the language."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = {"fr", "ar", "ary", "ary_latn"}
CONTRACT_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "choose_language", "ask_services",
    "check_eligibility", "ask_program_info", "ask_financing", "ask_documents", "ask_cost", "find_agency",
    "ask_opening_hours", "book_appointment", "cancel_appointment", "reschedule_appointment", "my_appointments",
    "ask_human", "complaint", "delete_my_data", "inform", "out_of_scope",
}
CONTRACT_ENTITIES = {"city", "program"}
CONTRACT_SLOTS = {
    "service", "city", "agency_id", "appointment_slot", "full_name", "phone", "stage", "age", "need", "language",
}


def _domain_files() -> list[Path]:
    return sorted((ROOT / "bot" / "domain").glob("*.yml"))


def _merged() -> dict[str, dict]:
    merged: dict[str, dict] = {"responses": {}, "slots": {}, "intents": {}, "entities": {}}
    for path in _domain_files():
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variants in (doc.get("responses") or {}).items():
            assert name not in merged["responses"], f"{name} defined twice (again in {path.name}): Rasa keeps only one"
            merged["responses"][name] = variants
        merged["slots"].update(doc.get("slots") or {})
        for intent in doc.get("intents") or []:
            merged["intents"][intent if isinstance(intent, str) else next(iter(intent))] = path.name
        for entity in doc.get("entities") or []:
            merged["entities"][entity if isinstance(entity, str) else next(iter(entity))] = path.name
    return merged


DOMAIN = _merged()


def _language_of(variant: dict) -> str | None:
    for condition in variant.get("condition") or []:
        if condition.get("name") == "language":
            return str(condition.get("value"))
    return None


def test_the_contracts_intents_entities_and_slots_are_declared() -> None:
    assert set(DOMAIN["intents"]) >= CONTRACT_INTENTS
    assert set(DOMAIN["entities"]) >= CONTRACT_ENTITIES
    assert set(DOMAIN["slots"]) >= CONTRACT_SLOTS, CONTRACT_SLOTS - set(DOMAIN["slots"])


@pytest.mark.parametrize("name", sorted(DOMAIN["responses"]))
def test_every_response_has_four_languages_and_a_default(name: str) -> None:
    variants = DOMAIN["responses"][name]
    generic = [v for v in variants if not v.get("channel")]
    languages = {_language_of(v) for v in generic}
    assert languages >= LANGUAGES, f"{name} lacks {sorted(LANGUAGES - languages)}"
    assert None in languages, f"{name} has no default variant (no condition)"
    for variant in variants:
        if variant.get("channel"):
            assert _language_of(variant) in LANGUAGES, f"{name}: a channel variant must carry a language condition"
        assert variant.get("text") or variant.get("custom") or variant.get("buttons"), f"{name}: empty variant"


@pytest.mark.parametrize("name", sorted(DOMAIN["responses"]))
def test_arabic_variants_are_in_arabic_script_and_latin_ones_are_not(name: str) -> None:
    for variant in DOMAIN["responses"][name]:
        language, text = _language_of(variant), variant.get("text") or ""
        letters = [c for c in text if c.isalpha()]
        if not letters or language is None:
            continue
        arabic = sum("\u0600" <= c <= "\u06ff" for c in letters) / len(letters)
        if language in ("ar", "ary"):
            assert arabic > 0.5, f"{name}/{language} is not mostly in Arabic script: {text[:60]!r}"
        else:
            assert arabic < 0.2, f"{name}/{language} is mostly in Arabic script: {text[:60]!r}"
