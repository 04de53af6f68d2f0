"""Programme information, documents and financing questions, from the backend's catalogue (GET
/programs, /programs/{id}).

Every benefit is shown with the date of its figure, every programme with its status (a closed one
is said closed), and answers end with the next step (eligibility, appointment, documents).
"""

from __future__ import annotations

import re
from typing import Any

from ge_text import Gazetteer, normalize
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.analytics import report
from actions.backend import BackendRejected, BackendUnavailable, Program, ProgramSummary, get_client
from actions.language import language_of, localized_custom

BUTTON_TITLE_MAX = 24
_SHORT = re.compile(r"\s+[(–—:-]|\s*[(–—:]")


def fit(title: str, limit: int = BUTTON_TITLE_MAX) -> str:
    """A title cut to `limit` characters (WhatsApp rows), on a whole word when one fits."""
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut.strip() else cut).rstrip(" :,-–") + "…"


def short_name(name: str) -> str:
    """A button-sized name: "Intelaka (Programme intégré…)" → "Intelaka", cut at 24 characters."""
    return fit(_SHORT.split(name, maxsplit=1)[0].strip() or name)


def dated(as_of: str | None, labels: dict[str, str]) -> str:
    """"2023-06" → "infos au 06/2023"; "2018-2022" stays; None → "date à confirmer"."""
    if not as_of:
        return labels.get("as_of_unknown", "")
    match = re.fullmatch(r"(\d{4})-(\d{2})", as_of)
    return labels.get("as_of", "{date}").format(date=f"{match.group(2)}/{match.group(1)}" if match else as_of)


def resolve_program(value: Any, programs: list[ProgramSummary]) -> str | None:
    """The catalogue id a `program` entity means: its canonical value, or a name said otherwise."""
    if not isinstance(value, str) or not value.strip():
        return None
    ids = {p.id for p in programs}
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    if key in ids:
        return key
    aliases = [(p.id.replace("_", " "), p.id) for p in programs]
    aliases += [(p.name, p.id) for p in programs] + [(short_name(p.name), p.id) for p in programs]
    return Gazetteer(aliases).lookup(value)


def program_entity(tracker: Tracker) -> str | None:
    value = next(tracker.get_latest_entity_values("program"), None)
    return str(value) if value else None


def _labels(domain: DomainDict, lang: str) -> dict[str, str]:
    return localized_custom(domain, "utter_program_labels", lang).get("labels", {})


def format_program(program: Program, labels: dict[str, str], *, benefits_only: bool = False) -> str:
    """The programme's details: name, status (closed said so), summary, benefits with their dates,
    obligations, where to go. `benefits_only`, for a question about amounts right after its
    details: without the summary, the obligations and the date already shown."""
    lines: list[str] = [f"{program.name} — {program.status_label}"]
    if not benefits_only:
        lines.append(program.summary)
    if program.status == "closed":
        lines.append("⛔ " + labels.get("closed", ""))
    elif program.status_note:
        lines.append("⚠️ " + program.status_note)
    if program.benefits:
        lines.append(labels.get("benefits", ""))
        lines += [f"• {b.text} ({dated(b.as_of, labels)})" for b in program.benefits]
    if program.obligations and not benefits_only:
        lines.append(labels.get("obligations", ""))
        lines += [f"• {b.text} ({dated(b.as_of, labels)})" for b in program.obligations]
    if program.where:
        lines.append(f"{labels.get('where', '')} {program.where}")
    if not benefits_only:
        lines.append(f"({dated(program.as_of, labels)})")
    return "\n".join(line for line in lines if line.strip())


def program_buttons(program: Program, labels: dict[str, str]) -> list[dict[str, str]]:
    if program.status == "closed":
        return [{"title": labels.get("others", "…"), "payload": "/ask_program_info"},
                {"title": labels.get("book", "…"), "payload": "/book_appointment"}]
    return [
        {"title": labels.get("check", "…"), "payload": f'/check_eligibility{{"program":"{program.id}"}}'},
        {"title": labels.get("book", "…"), "payload": f'/book_appointment{{"program":"{program.id}"}}'},
        {"title": labels.get("documents", "…"), "payload": f'/ask_documents{{"program":"{program.id}"}}'},
    ]


async def list_programs(
    dispatcher: CollectingDispatcher, programs: list[ProgramSummary], labels: dict[str, str]
) -> None:
    """Every programme with its status, and a button for each."""
    lines = []
    for p in programs:
        mark = "⛔ " if p.status == "closed" else ""
        lines.append(f"• {mark}{p.name} — {p.status_label}")
    buttons = [{"title": short_name(p.name), "payload": f'/ask_program_info{{"program":"{p.id}"}}'} for p in programs]
    dispatcher.utter_message(response="utter_programs_list", programs="\n".join(lines), buttons=buttons)


async def fetch_program(named: Any, lang: str) -> Program | None:
    """The catalogue's programme a name or id means, with its details; None if none is."""
    program_id = resolve_program(named, await get_client().programs(lang=lang))
    return await get_client().program(program_id, lang=lang) if program_id else None


def show_program(dispatcher: CollectingDispatcher, tracker: Tracker, program: Program,
                 labels: dict[str, str], *, benefits_only: bool = False) -> list[EventType]:
    """The programme's details (or only what it gives) with its next steps; the programme becomes
    the conversation's."""
    details = format_program(program, labels, benefits_only=benefits_only and bool(program.benefits))
    dispatcher.utter_message(response="utter_program_info", details=details, buttons=program_buttons(program, labels))
    report(tracker, "programme_viewed", program=program.id)
    return [SlotSet("program", program.id)]


class ActionProgramInfo(Action):
    """The named programme's details, or the list of programmes to choose from."""

    def name(self) -> str:
        return "action_program_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = language_of(tracker)
        labels = _labels(domain, lang)
        try:
            programs = await get_client().programs(lang=lang)
            program_id = resolve_program(program_entity(tracker), programs)
            if program_id is None:
                await list_programs(dispatcher, programs, labels)
                return []
            program = await get_client().program(program_id, lang=lang)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        except BackendRejected:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        return show_program(dispatcher, tracker, program, labels)


class ActionDocuments(Action):
    """Documents to bring: the programme's own list when one is named (or was just discussed),
    else the generic list, always "to be confirmed at your agency"."""

    def name(self) -> str:
        return "action_documents"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = language_of(tracker)
        named = program_entity(tracker) or tracker.get_slot("program")
        if not named:
            dispatcher.utter_message(response="utter_documents_generic")
            return []
        try:
            program = await fetch_program(named, lang)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        except BackendRejected:
            program = None
        if program is None or not program.documents:
            dispatcher.utter_message(response="utter_documents_generic")
            return []
        dispatcher.utter_message(
            response="utter_program_documents", name=program.name,
            documents="\n".join(f"• {d}" for d in program.documents),
        )
        return [SlotSet("program", program.id)]


# Buttons of the hiring programmes (then the eligibility check).
MAX_HIRING_BUTTONS = 4
# The answers about one programme: a question right after one of them is about that programme.
PROGRAM_ANSWERS = frozenset({"action_program_info", "action_documents", "action_financing"})


def program_just_shown(tracker: Tracker) -> str | None:
    """The `program` slot, when the bot's last answer before this message was about it."""
    events = tracker.events
    user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    for event in reversed(events[:max(user, 0)]):
        name = event.get("name")
        if event.get("event") == "action" and name != "action_listen":
            value = tracker.get_slot("program")
            return str(value) if name in PROGRAM_ANSWERS and value else None
    return None


# Cost questions that ask how much a programme lends or gives ("combien ils prêtent ?", "ch7al
# kay3tiw ?", "شحال كيسلفو؟"): the classifier, which learnt "combien" and "ch7al" from "how much does
# it cost?", calls them ask_cost. They say how much, and lend, give or finance, and say nothing of
# paying: "هل تأخذ الوكالة نسبة من القرض؟" or "commission sur le prêt" are about money asked of the
# person, and get "free, and nobody may ask you for money" (normalised text).
_HOW_MUCH = re.compile(
    r"combien|montant|jusqu|\bmax|ch7al|chhal|sh7al|9add?ach|شحال|(?<!\S)[وب]?كم(?!\S)|قداش|مبلغ|اقصي")
_GIVES = re.compile(
    r"\bpret|\bemprunt|financ|subvention|\bdonnent\b|\bcredit|\bkridi|9ard|s+e?l+e?f|(?:kay|kat|\by)3t[iy]"
    r"|tam?w[ie]l|tamouil|mow+l|قرض|سلف|يعط|تمويل|يمول|كيمول|منحه")
_PAYS = re.compile(r"pai|pay|gratuit|frais|commission|pourcentage|khall?es|khl[ae]s|fabor|b ?flous|دفع|نخلص|تخلص"
                   r"|مجان|فابور|عمول|نسبه|بالفلوس|رشو")


def asks_amount_given(text: str) -> bool:
    """Whether a question about money asks what a programme lends or gives, not what it costs."""
    norm = normalize(text or "")
    return bool(_HOW_MUCH.search(norm) and _GIVES.search(norm) and not _PAYS.search(norm))


async def answer_hiring(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> bool:
    """"j'ai une TPE et je veux recruter, il y a une aide ?": the catalogue's programmes that serve
    hiring (not the financing ones), and the check for them. False when the message is not about
    hiring or the catalogue cannot say."""
    # actions.eligibility imports this module: its vocabulary of needs is imported when used.
    from actions.eligibility import find_need

    if find_need(tracker.latest_message.get("text") or "") != "hiring":
        return False
    lang = language_of(tracker)
    try:
        programs = await get_client().programs(lang=lang)
    except (BackendUnavailable, BackendRejected):
        return False
    hiring = [p for p in programs if "hiring" in p.needs and p.status != "closed"]
    if not hiring:
        return False
    labels = _labels(domain, lang)
    buttons = [{"title": short_name(p.name), "payload": f'/ask_program_info{{"program":"{p.id}"}}'}
               for p in hiring[:MAX_HIRING_BUTTONS]]
    buttons.append({"title": labels.get("check", "…"), "payload": '/check_eligibility{"need":"hiring"}'})
    dispatcher.utter_message(response="utter_hiring_programs",
                             programs="\n".join(f"• {p.name} — {p.status_label}" for p in hiring), buttons=buttons)
    return True


async def answer_financing(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
    """About a programme (named, or the one just shown): that programme's details, whose dated
    benefits say what it finances; only those benefits when its details were the last answer
    ("combien ils donnent ?" right after Forsa). Otherwise: ANAPEC lends nothing itself, an
    adviser orients for free, and the eligibility check finds the financing."""
    shown = program_just_shown(tracker)
    named = program_entity(tracker) or shown
    if not named:
        if not await answer_hiring(dispatcher, tracker, domain):
            dispatcher.utter_message(response="utter_financing")
        return []
    lang = language_of(tracker)
    try:
        program = await fetch_program(named, lang)
    except (BackendUnavailable, BackendRejected):
        dispatcher.utter_message(response="utter_backend_unavailable")
        return []
    if program is None:
        dispatcher.utter_message(response="utter_financing")
        return []
    return show_program(dispatcher, tracker, program, _labels(domain, lang), benefits_only=program.id == shown)


class ActionFinancing(Action):
    """A financing question (`answer_financing`)."""

    def name(self) -> str:
        return "action_financing"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await answer_financing(dispatcher, tracker, domain)
