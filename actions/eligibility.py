"""Eligibility: a form that asks only what can still change an outcome, then the programmes that
fit (eligible / maybe) with their reasons, the notices, and an offer to book an appointment.

The questions are chosen by the backend: after each answer POST /eligibility says which profile
fields could still change an outcome (`next_questions`, most useful first, and each programme's
`missing`); the form asks the first of them that matters for the programmes still in play that
serve the person's need. Stage and need come first (they prune most), and the form stops after
MAX_ANSWERS answers: the result then says "maybe" with the open points.

Answers come as buttons (`/inform{"stage":"idea"}`) or typed in any of the four varieties ("3ndi
24 3am", "عندي فكرة فقط", "j'ai une TPE", "ghir fikra"); typed answers are parsed here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from ge_text import normalize
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.analytics import report
from actions.backend import Assessment, BackendRejected, BackendUnavailable, Eligibility, get_client
from actions.language import language_of, localized_custom
from actions.programs import dated, fit, short_name

FORM = "eligibility_form"
# Profile field of POST /eligibility → the slot that holds it (the place is the shared `city`).
SLOT_OF = {
    "stage": "stage", "need": "need", "age": "age", "residence": "residence", "turnover": "turnover",
    "business_age_years": "business_age_years", "sector": "sector", "investment": "investment",
    "area": "area", "province": "city",
}
FIELD_OF = {slot: field for field, slot in SLOT_OF.items()}
ALWAYS_FIRST = ("stage", "need")
# The slots only this form fills (the place is the booking's `city`).
OWN_SLOTS = frozenset(SLOT_OF.values()) - {"city"}
MAX_ANSWERS = 6
MAX_SHOWN = 5
MAX_BOOK_BUTTONS = 3
# "I don't know": the question was asked and answered, the field stays out of the profile.
UNKNOWN = "unknown"
ANSWER_INTENTS = {"inform", "nlu_fallback", "affirm", "deny", "out_of_scope"}
ICONS = {"eligible": "✅", "maybe": "🟡", "not_eligible": "❌"}

# ------------------------------------------------------------------------------------- parsing
# Keywords are compared with ge_text.normalize'd text (accents, hamza, taa marbuta, case folded),
# padded with spaces so that " ae " does not match inside a word. The first list that matches
# wins: more specific meanings come first ("idée de projet" is an idea, "entreprise informelle"
# is informal, "الصناعة التقليدية" is crafts before industry).
Vocabulary = tuple[tuple[str, tuple[str, ...]], ...]

STAGES: Vocabulary = (
    ("employer", ("employeur", "employer", "j'emploie", "mochaghil", "mouchaghil", "مشغل", "kanchghel",
                  "kanchaghel", "كنشغل", "des salaries", "des employes")),
    ("informal", ("informel", "informelle", " noir", " nwar", " nouar", "نوار", "غير مهيكل", "غير المهيكل",
                  "غير مصرح", "sans papier", "bla wra9", "bla papier", "non declare")),
    ("auto_entrepreneur", ("auto entrepreneur", "auto-entrepreneur", "autoentrepreneur", " ae ", "l'auto ",
                           "مقاول ذاتي", "المقاول الذاتي", "مقاوله ذاتيه", "moukawil dati", "mokawil dati",
                           "moukawil dati", "اوطو")),
    ("tpe", (" tpe", "tpme", " pme", "entreprise", "societe", "sarl", "chrika", "charika", "charika", "شركه",
             "مقاوله", "cooperative", "تعاونيه", "t3awniya")),
    ("idea", ("idee", " idea", "fikra", "fekra", "فكره")),
    ("project", ("projet", "project", "machro3", "mashro3", "mchro3", "machrou3", "مشروع")),
)
NEEDS: Vocabulary = (
    ("hiring", ("recrut", "embauch", "tachghil", "تشغيل", "نشغل", "nchghel", "nchaghel", "توظيف", "نوظف",
                "main d'oeuvre", "des employes")),
    ("financing", ("financ", "tamwil", "tamouil", "تمويل", "flous", "فلوس", "credit", "kridi", "كريدي", "قرض",
                   "9ard", " pret", "subvention", "argent", "capital", "راس المال", "raas lmal", "دعم مالي",
                   "banque", "lbanka", "البنك")),
    ("premises", ("local", "loyer", "lkra", "كراء", "الكرا", " محل", "mahal", "ma7al", "7anout", "حانوت",
                  "atelier", "bureau")),
    ("accounting", ("comptab", "compta", "7isabat", "hisabat", "محاسب", "الحسابات")),
    ("business_plan", ("business plan", "businessplan", "plan d'affaire", " bp ", "etude", "dirasa", "دراسه",
                       "مخطط الاعمال", "بيزنس بلان")),
    ("formalisation", ("formalis", "statut", "declar", "tasjil", "tsjil", "sajjel", "nsjel", "nsajel", "nsejjel",
                       "ntsjel", "تسجيل", "نسجل", "نتسجل", "هيكله",
                       "legal", "9anouni", "قانوني", "creer mon entreprise", "creer une entreprise", "registre")),
    ("training", (" formation", " former", "me former", "takwin", "تكوين", "apprendre", "nt3allem", "نتعلم", "cours")),
    ("information", ("information", "info", "ma3loumat", "m3loumat", "معلومات", "orientation", "tawjih",
                     "توجيه", "conseil", "nasi7a", "نصيحه")),
)
RESIDENCES: Vocabulary = (
    ("foreign_resident", ("etranger resident", "resident etranger", "carte de sejour", "ajnabi", "اجنبي",
                          "je suis etranger", "etranger vivant", "foreigner")),
    ("mre", (" mre", "etranger", "l5arij", "lkharij", "l kharij", "الخارج", " برا", "barra", "diaspora", "abroad")),
    ("morocco", ("maroc", "lmghrib", "lmaghrib", "المغرب", " hna ", " ici", "morocco", "الداخل")),
)
SECTORS: Vocabulary = (
    ("agriculture", ("agri", "fla7a", "flaha", "فلاحه", "ferme", "elevage", "الكسيبه")),
    ("crafts", ("artisan", "حرفه", "تقليدي", "ta9lidi", "couture", "khiyata", "خياطه", "menuiserie", "najjar",
                "نجار")),
    ("industry", ("industri", "usine", "sina3a", "صناعه", "fabrication")),
    ("commerce", ("commerce", "commercant", "tijara", "تجاره", "vente", " bi3", " بيع", "boutique", "7anout",
                  "حانوت", "magasin", "epicerie")),
    ("services", ("service", "khadamat", "خدمات", "خدمه", "conseil", "informatique", "transport", "livraison",
                  "coiffure", "nettoyage", "freelance")),
    ("other", ("autre", "khra", "اخر", "other")),
)
AREAS: Vocabulary = (
    ("rural", ("rural", "campagne", "3roubiya", "l3roubia", "عروبيه", "العروبيه", "بادي", "قروي", "douar",
               "دوار", "village", "bled")),
    ("urban", ("ville", "urbain", "mdina", "lmdina", "مدينه", "حضري")),
)
DONT_KNOW = ("sais pas", "aucune idee", "ma3reft", "ma3rft", "m3rft", "ma3rafch", "ما عرفت", "ماعرفت",
             "لا اعرف", "لا ادري", "ما نعرف", "idk", "pas sur", "machi mt2aked", "ماشي متاكد", "je ne sais")
NOTHING_YET = ("walo", "والو", "rien", "aucun", "pas encore", "mazal", "مازال", "zero", "sifr", "صفر",
               "ma3ndi", "ماعندي", "ما عندي", "nothing", "none", "لا شيء", "لاشيء", "لا يوجد", "ليس بعد", "لم ابدا",
               "لم نبدا", "pas de chiffre", "pas de ca ", "nada")

# Eastern Arabic and Persian digits, as typed on Arabic keyboards.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")
# A number: "150 000", "150.000", "1,500,000" (groups of three), or "24", "1,5", "2.5".
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ \u00a0\u202f.,]\d{3})+|\d+(?:[.,]\d+)?)(?![\d])\s*([^\W\d_]*)")
_AGE_UNITS = {"ans", "an", "ane", "sna", "snin", "snine", "years", "year", "yo", "عام", "سنه", "سنين", "سنوات",
              "عاما", "ch3am"}
_AGE_CUES = ("ans", " an ", "3am", "عام", "سنه", "سنين", "سنوات", "عمري", "3mri", "3omri", "age", " sna", "snin",
             "years")
# A number of years after these words is how long something has lasted, not an age ("depuis 12
# ans", "ça fait 12 ans", "il y a 12 ans", "hadi 12 3am", "منذ 12 سنة"); as typed or normalised.
# Only with a unit of time: "on fait 300000 dh" is an amount.
_DURATION = re.compile(r"(?<!\S)(?:depuis|fait|pendant|y a|mnd|mnin|mn|men|hadi|من|منذ|مند|هادي)\s+\d+\s*"
                       r"(?:ans?|annees?|années?|mois|sna|snin|snine|3am|3amin|عام|عاما|عامين|سنة|سنه|سنين|سنوات|"
                       r"شهر|شهور|أشهر|اشهر|chhar|chhor|chhour|years?|months?)(?!\w)", re.IGNORECASE)
_MONTH_WORDS = ("mois", "chhar", "chhour", "chhor", "شهر", "شهور", "اشهر", "months", "month")
_THOUSANDS = ("k", "alf", "alaf", "الف", "الاف", "mille")
_MILLIONS_FR = ("million", "millions", "m", "mdh", "mdhs", "mio")
# In Darija "mlyoun" often counts centimes (1 mlyoun = 10,000 DH): only sure with "DH"/"درهم".
_MILLIONS_DARIJA = ("mlyon", "mlyoun", "mlyoune", "melyon", "melyoun", "mliyon", "مليون", "ملايين", "ملاين",
                    "مليونين")
_CURRENCY = ("dh ", "dhs ", "dirham", "درهم", "دراهم", " mad ")


def _pad(text: str) -> str:
    return f" {normalize(text)} "


# Arabizi spells one word many ways: "mchrou3", "mashro3" and "machro3"; "nsjjel" and "nsjel";
# "lma3lomat" and "ma3loumat". Folded here: doubled Latin letters, "sh" written "ch", "ou" written "o".
_DOUBLED_LATIN = re.compile(r"([a-z])\1+")


def _spelling_fold(text: str) -> str:
    return _DOUBLED_LATIN.sub(r"\1", text).replace("sh", "ch").replace("ou", "o")


# A word with a doubled letter is folded too when it stays this long: "business plan" is also
# "busines plan", but "barra" (abroad) is not "bara".
_FOLDED_DOUBLE_MIN = 6


@functools.cache
def _folded(vocabulary: Vocabulary) -> Vocabulary:
    """The vocabulary's Latin words folded as messages are (see `_spelling_fold`); short words
    with a doubled letter are left out."""
    folded = []
    for value, words in vocabulary:
        spelt = {_spelling_fold(w) for w in words if w.isascii()
                 and (not _DOUBLED_LATIN.search(w) or len(_spelling_fold(w).strip()) >= _FOLDED_DOUBLE_MIN)}
        folded.append((value, tuple(sorted(spelt))))
    return tuple(folded)


def _find(vocabulary: Vocabulary, text: str) -> str | None:
    """The first meaning whose words the text has as listed; failing that, as spelt another way."""
    padded = _pad(text)
    for value, words in vocabulary:
        if any(word in padded for word in words):
            return value
    folded = _spelling_fold(padded)
    for value, words in _folded(vocabulary):
        if any(word in folded for word in words):
            return value
    return None


# "nsjel rdv", "التسجيل لموعد": registering for an appointment is booking it, not a need to register
# an activity.
_BOOKING_REGISTRATION = re.compile(
    r"(?:\b\w*s[ae]?j+[ae]?l\w*|\w*تسجيل|\w*سجل\w*)\s+(?:(?:l|f|pour|un|une|le|dyal|ل|في)\s+)*(?:l|ل)?"
    r"(?:rdv|rendez-vous|rendez vous|maw3id|mw3d|mou3id|موعد)")


def find_need(text: str) -> str | None:
    """The need a message names ("un business plan", "tamwil", "نتسجل"), if any."""
    return _find(NEEDS, _BOOKING_REGISTRATION.sub(" ", normalize(text)))


def says_dont_know(text: str) -> bool:
    padded = _pad(text)
    return any(word in padded for word in DONT_KNOW)


def says_nothing_yet(text: str) -> bool:
    padded = _pad(text)
    return any(word in padded for word in NOTHING_YET)


def _numbers(text: str) -> list[tuple[float, str]]:
    """Each number written in the text with the word glued or next to it ("24ans", "200 k")."""
    raw = text.translate(_DIGITS).lower()
    out = []
    for match in _NUMBER.finditer(raw):
        digits, unit = match.group(1), match.group(2)
        if re.fullmatch(r"\d{1,3}(?:[ \u00a0\u202f.,]\d{3})+", digits):
            value = float(re.sub(r"[ \u00a0\u202f.,]", "", digits))
        else:
            value = float(digits.replace(",", "."))
        out.append((value, normalize(unit)))
    return out


def parse_age(text: str, *, strict: bool = False) -> int | None:
    """An age in years ("24", "24 ans", "3ndi 24 3am", "عمري ٢٤ سنة"); `strict` wants a cue ("ans", "عمري")."""
    padded = _pad(text)
    if strict and not any(cue in padded for cue in _AGE_CUES):
        return None
    for value, unit in _numbers(_DURATION.sub(" ", normalize(text))):
        # "3ndi" and "3am" are words, not numbers: a number glued to letters counts only with a unit.
        if unit and unit not in _AGE_UNITS:
            continue
        if value == int(value) and 10 <= value <= 99:
            return int(value)
    return None


_TWO_YEARS = ("عامين", "سنتين", "3amayn", "3amin", "deux ans", "jouj snin", "زوج سنين")


def parse_years(text: str) -> float | None:
    """How long an activity has existed, in years: "2 ans", "6 mois" (0.5), "عامين" (2), "mazal" (0)."""
    if any(word in _pad(text) for word in _TWO_YEARS):
        return 2.0
    for value, unit in _numbers(text):
        if unit in _MONTH_WORDS or any(w in _pad(text) for w in _MONTH_WORDS):
            return round(value / 12, 2)
        if value <= 100:
            return value
    return 0.0 if says_nothing_yet(text) else None


class Ambiguous(ValueError):
    """A Darija "mlyoun" without "DH": centimes or dirhams? Better ask again."""


def parse_amount(text: str, *, lang: str = "fr") -> float | None:
    """An amount in dirhams: "150000", "150 000 DH", "200k", "1,5 million", "500 alf", "مليون درهم".

    Raises Ambiguous for a Darija million without a currency word.
    """
    padded = _pad(text)
    has_currency = any(c in padded for c in _CURRENCY)
    # Years or months are no amount ("tijara, hadi 3 snin", "6 mois").
    for value, unit in _numbers(_DURATION.sub(" ", text)):
        if unit in _AGE_UNITS or unit in _MONTH_WORDS:
            continue
        words = [unit, *normalize(text).split()]
        if unit in _THOUSANDS:
            return value * 1_000
        if unit in _MILLIONS_DARIJA or (not unit and any(w in _MILLIONS_DARIJA for w in words)):
            if lang in ("ary", "ary_latn") and not has_currency:
                raise Ambiguous(text)
            return value * 1_000_000
        if unit in _MILLIONS_FR or (not unit and any(w in ("million", "millions", "mdh") for w in words)):
            return value * 1_000_000
        return value
    if any(f" {w} " in padded for w in ("million", "مليون")):
        if lang in ("ary", "ary_latn") and not has_currency:
            raise Ambiguous(text)
        return 1_000_000.0
    return 0.0 if says_nothing_yet(text) else None


CHOICE_VALUES = {
    "stage": {v for v, _ in STAGES}, "need": {v for v, _ in NEEDS}, "residence": {v for v, _ in RESIDENCES},
    "sector": {v for v, _ in SECTORS}, "area": {v for v, _ in AREAS},
}
VOCABULARIES = {"stage": STAGES, "need": NEEDS, "residence": RESIDENCES, "sector": SECTORS, "area": AREAS}


def parse_answer(slot: str, text: str, *, lang: str) -> Any:
    """The value of `slot` written in `text`, UNKNOWN for "I don't know", or None if not understood.

    Raises Ambiguous for an amount that could be centimes.
    """
    if slot in VOCABULARIES:
        found = _find(VOCABULARIES[slot], text)
        return found or (UNKNOWN if says_dont_know(text) else None)
    if says_dont_know(text):
        return UNKNOWN
    if slot == "age":
        return parse_age(text)
    if slot == "business_age_years":
        return parse_years(text)
    if slot in ("turnover", "investment"):
        return parse_amount(text, lang=lang)
    if slot == "city":
        place = " ".join(text.split())[:100]
        return place or None
    return None


def _from_payload(slot: str, value: Any) -> Any:
    """A value set by a button (`/inform{"turnover": 350000}`), checked; None if not acceptable."""
    if value == UNKNOWN:
        return UNKNOWN
    if slot in CHOICE_VALUES:
        return value if value in CHOICE_VALUES[slot] else None
    if slot == "city":
        return str(value) if value else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if slot == "age":
        return int(number) if 10 <= number <= 99 else None
    return number if number >= 0 else None


# ------------------------------------------------------------------------------------ profile
def profile_of(tracker: Tracker) -> dict[str, Any]:
    """The POST /eligibility body from the slots (answers "unknown" left out)."""
    profile: dict[str, Any] = {}
    for field, slot in SLOT_OF.items():
        value = tracker.get_slot(slot)
        if value in (None, "", UNKNOWN):
            continue
        if field in ("age",):
            value = int(float(value))
        elif field in ("turnover", "business_age_years", "investment"):
            value = float(value)
        elif field == "province":
            value = str(value)[:100]
        profile[field] = value
    return profile


def next_field(result: Eligibility, answered: Iterable[str]) -> str | None:
    """The first of next_questions that matters for the programmes still in play that serve the
    person's need (all programmes still in play when none serves it)."""
    done = set(answered)
    in_play = [r for r in result.results if r.outcome != "not_eligible"]
    targeted = [r for r in in_play if r.matches_need] or in_play
    wanted = {field for r in targeted for field in r.missing}
    return next((f for f in result.next_questions if f in wanted and f in SLOT_OF and f not in done), None)


def answered_elsewhere(tracker: Tracker) -> bool:
    """Whether an action other than the form ran since the latest message (a rule answered it)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") not in (FORM, "action_listen", None):
            return True
    return False


def _latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


class ValidateEligibilityForm(Action):
    """Reads the answer to the question asked, then asks the next one that matters (or ends the form)."""

    def name(self) -> str:
        return f"validate_{FORM}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = language_of(tracker)
        declared = domain.get("forms", {}).get(FORM, {}).get("required_slots") or []
        form_slots = [s for s in declared if s in SLOT_OF.values()]
        answers = self._answers(dispatcher, tracker, form_slots, lang)
        tracker.slots.update(answers)
        events: list[EventType] = [SlotSet(slot, value) for slot, value in answers.items()]
        events.append(SlotSet("requested_slot", await self._next_slot(tracker, form_slots, lang)))
        return events

    def _answers(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, form_slots: list[str], lang: str
    ) -> dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        # Returning after a digression ("c'est gratuit ?" answered by a rule): the latest message
        # is not an answer to the question. (On activation, only the opening rule ran.)
        if requested is not None and answered_elsewhere(tracker):
            return {}
        answers: dict[str, Any] = {}
        if requested is None and _latest_intent(tracker) == "check_eligibility":
            # A new check starts afresh (the place, shared with booking, is kept).
            answers = {s: None for s in form_slots if s in OWN_SLOTS and tracker.get_slot(s) is not None}
        for slot in form_slots:
            for value in tracker.get_latest_entity_values(slot):
                checked = _from_payload(slot, value)
                if checked is not None:
                    answers[slot] = checked
        text = tracker.latest_message.get("text") or ""
        intent = _latest_intent(tracker)
        if text.startswith("/") or intent == "stop":
            return answers
        if requested is None:
            # The message that opened the form may already say the stage, the need or the age
            # ("j'ai une TPE et 30 ans, suis-je éligible ?"); "mon projet" or "des infos" say too
            # little to skip the question.
            found = {"stage": _find(STAGES, text), "need": _find(NEEDS, text), "age": parse_age(text, strict=True)}
            for slot, value in found.items():
                if value in (None, "project", "information") or slot not in form_slots:
                    continue
                if answers.get(slot) is None and (slot in answers or tracker.get_slot(slot) is None):
                    answers[slot] = value
            return answers
        if requested in answers or requested not in form_slots:
            return answers
        if requested == "city":
            entity = next(tracker.get_latest_entity_values("city"), None)
            if entity:
                answers["city"] = entity
                return answers
        place = next(tracker.get_latest_entity_values("city"), None)
        try:
            value = parse_answer(requested, text, lang=lang)
        except Ambiguous:
            dispatcher.utter_message(response="utter_eligibility_amount_in_dirhams")
            answers[requested] = None
            return answers
        # An age said beside or instead of the answer to a question with choices ("une idée, et
        # j'ai 24 ans"; "3ndi 24 3am" when asked the need) is kept and not asked later; so is one
        # said instead of an amount ("35 ans" when asked the turnover). Not beside a number
        # answer, nor for how long a business has run: "10 ans" of activity is no age.
        age = (parse_age(text, strict=True) if requested in VOCABULARIES
               or (requested in ("turnover", "investment") and value is None) else None)
        if age is not None and "age" in form_slots and tracker.get_slot("age") is None:
            answers["age"] = age
        if value is None and requested == "residence" and place is not None:
            # "f tanja" when asked where they live: a Moroccan place (the gazetteer knows no other).
            value = "morocco"
        if value is not None:
            answers[requested] = value
        elif "age" not in answers and place is None and intent in ANSWER_INTENTS:
            # Not understood (with an age or a place understood, kept by the form, the question is
            # simply asked again).
            dispatcher.utter_message(response="utter_eligibility_not_understood")
            answers[requested] = None
        # else: another question ("c'est gratuit ?"): nothing set, the form lets the rules answer.
        return answers

    async def _next_slot(self, tracker: Tracker, form_slots: list[str], lang: str) -> str | None:
        for slot in ALWAYS_FIRST:
            if slot in form_slots and tracker.get_slot(slot) is None:
                return slot
        answered = [FIELD_OF[s] for s in form_slots if tracker.get_slot(s) is not None]
        if len(answered) >= MAX_ANSWERS:
            return None
        try:
            result = await get_client().eligibility(profile_of(tracker), lang=lang)
        except (BackendUnavailable, BackendRejected):
            # The result step asks again and tells the person if the backend is still down.
            return None
        field = next_field(result, answered)
        slot = SLOT_OF.get(field) if field else None
        return slot if slot in form_slots else None


# ------------------------------------------------------------------------------------ results
def format_assessment(item: Assessment, labels: dict[str, str], *, max_reasons: int = 2) -> str:
    head = f"{ICONS.get(item.outcome, '•')} {item.name} — {item.outcome_label}"
    notes = [item.status_label] if item.status != "active" and item.status_label else []
    notes.append(dated(item.as_of, labels))
    lines = [f"{head} ({' · '.join(n for n in notes if n)})"]
    # The status note, unless an uncertain condition already says what is open.
    if item.status != "active" and item.status_note and not any(r.result == "uncertain" for r in item.reasons):
        lines.append(f"   ⚠️ {item.status_note}")
    lines += [f"   • {reason.text}" for reason in item.reasons[:max_reasons]]
    return "\n".join(lines)


def _focus(tracker: Tracker) -> str | None:
    """The programme named in the message that opened the check ("wach n9der nstafed mn forsa?")."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") == "check_eligibility":
            values = [e.get("value") for e in parse.get("entities") or [] if e.get("entity") == "program"]
            return str(values[0]) if values else None
    return None


def book_buttons(items: list[Assessment], labels: dict[str, str]) -> list[dict[str, str]]:
    """One button per programme to book an appointment about it, then a plain "book" button."""
    template = labels.get("book", "{name}")
    buttons = [
        {"title": fit(template.format(name=short_name(item.name))),
         "payload": f'/book_appointment{{"program":"{item.program_id}"}}'}
        for item in items[:MAX_BOOK_BUTTONS]
    ]
    return [*buttons, {"title": labels.get("book_any", "…"), "payload": "/book_appointment"}]


class ActionEligibilityResult(Action):
    def name(self) -> str:
        return "action_eligibility_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = language_of(tracker)
        try:
            result = await get_client().eligibility(profile_of(tracker), lang=lang)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        except BackendRejected:
            dispatcher.utter_message(response="utter_eligibility_failed")
            return []
        labels: dict[str, str] = localized_custom(domain, "utter_eligibility_labels", lang).get("labels", {})
        # What serves the person's need first (the backend ranks by outcome first).
        shown = sorted((r for r in result.results if r.outcome in ("eligible", "maybe")),
                       key=lambda r: not r.matches_need)
        focus = _focus(tracker)
        focused = [r for r in result.results if r.program_id == focus]
        shown = (focused + [r for r in shown if r.program_id != focus])[:MAX_SHOWN]
        notices = "\n".join(f"ℹ️ {n}" for n in result.notices)
        if not any(r.outcome != "not_eligible" for r in shown):
            dispatcher.utter_message(response="utter_eligibility_none", notices=notices)
            if shown:
                dispatcher.utter_message(text=format_assessment(shown[0], labels))
            dispatcher.utter_message(response="utter_eligibility_book_offer", buttons=book_buttons([], labels))
            self._report(tracker, focus)
            return []
        dispatcher.utter_message(
            response="utter_eligibility_results",
            results="\n\n".join(format_assessment(item, labels) for item in shown),
            notices=notices,
        )
        bookable = [r for r in shown if r.outcome != "not_eligible"]
        dispatcher.utter_message(response="utter_eligibility_book_offer", buttons=book_buttons(bookable, labels))
        self._report(tracker, focus)
        return []

    @staticmethod
    def _report(tracker: Tracker, focus: str | None) -> None:
        stage = tracker.get_slot("stage")
        report(tracker, "eligibility_checked", place=tracker.get_slot("city"), program=focus,
               segment=stage if stage in CHOICE_VALUES["stage"] else None)

