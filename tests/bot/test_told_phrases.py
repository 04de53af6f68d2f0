"""What the bot tells people to write is understood: every phrase a response quotes («…») is parsed
by the trained model as the intent that phrase is meant to trigger.

A response that says « écrivez "conseiller" » when the model reads "conseiller" as something
else sends people into the wrong flow ("moustachar" alone is read as booking). A new quoted
phrase fails here until its intent is written below.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.core.agent import Agent

ROOT = Path(__file__).resolve().parents[2]
QUOTED = re.compile(r"«\s*([^»{}]+?)\s*»")

# The intents each quoted phrase may get. The booking summary's "change" words are read by the
# booking form itself (actions/booking.py `wants_change`), whatever their intent.
GROUPS: list[tuple[tuple[str, ...], frozenset[str]]] = [
    (("stop", "توقف", "صافي", "safi", "بلاش"), frozenset({"stop"})),
    (("oui", "ah", "نعم", "إيه"), frozenset({"affirm"})),
    (("non", "la", "لا"), frozenset({"deny"})),
    (("modifier", "تعديل", "بدل", "bdel"), frozenset({"reschedule_appointment", "deny", "inform"})),
    (("supprimer mes données", "احذف بياناتي", "مسح المعلومات ديالي", "ms7 les données dyali"),
     frozenset({"delete_my_data"})),
    (("mes rendez-vous", "مواعيدي", "المواعيد ديالي", "lmawa3id dyali"), frozenset({"my_appointments"})),
    (("parler à un conseiller", "التحدث إلى مستشار", "نهضر مع مستشار", "nhder m3a moustachar"),
     frozenset({"ask_human"})),
    (("je veux un rendez-vous à Casablanca", "أريد موعدا في الدار البيضاء", "بغيت موعد فكازا", "bghit maw3id f casa"),
     frozenset({"book_appointment"})),
    (("c'est quoi Forsa ?", "ما هو برنامج فرصة؟", "شنو هي فرصة؟", "chno hiya forsa?"), frozenset({"ask_program_info"})),
]
EXPECTED: dict[str, frozenset[str]] = {phrase: intents for phrases, intents in GROUPS for phrase in phrases}


def quoted_phrases() -> set[str]:
    phrases: set[str] = set()
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}
        for variants in responses.values():
            for variant in variants:
                phrases.update(QUOTED.findall(str(variant.get("text") or "")))
    return phrases


def test_every_quoted_phrase_has_its_intent_written_here() -> None:
    unknown = quoted_phrases() - set(EXPECTED)
    assert not unknown, f"say which intent these phrases must get: {sorted(unknown)}"


@pytest.fixture(scope="module")
def parsed(model: Path) -> dict[str, dict[str, Any]]:
    agent = Agent.load(str(model))
    phrases = sorted(quoted_phrases() & set(EXPECTED))
    return {phrase: asyncio.run(agent.parse_message(phrase)) for phrase in phrases}


def test_every_quoted_phrase_gets_its_intent(parsed: dict[str, dict[str, Any]]) -> None:
    wrong = {phrase: (result.get("intent") or {}).get("name") for phrase, result in parsed.items()
             if (result.get("intent") or {}).get("name") not in EXPECTED[phrase]}
    assert not wrong, f"phrases the bot tells people to write, read as another intent: {wrong}"
