"""The eligibility engine: applies the rules written in `data/reference/programmes.yaml` to a profile.

The rules are data; this module only knows how to read them (data/reference/eligibility.md):
a programme is not eligible as soon as one condition is not met, "maybe" while a condition is
uncertain or depends on something the person has not said, and eligible otherwise. A closed
programme is never eligible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ge_text import normalize
from sqlalchemy.orm import Session

from app.schemas.eligibility import (
    CHOICES,
    NOTICES,
    NUMBERS,
    OUTCOME_LABELS,
    PROFILE_FIELDS,
    AssessmentOut,
    EligibilityOut,
    NoticeOut,
    Outcome,
    Profile,
    ProfileField,
    ReasonOut,
    Rule,
    RuleResult,
)
from app.schemas.programs import STATUS_LABELS, ProgrammeRecord
from app.services.programs import programme_records

Values = Mapping[str, object]

_OUTCOME_ORDER: dict[Outcome, int] = {"eligible": 0, "maybe": 1, "not_eligible": 2}
_STATUS_ORDER = {"active": 0, "to_confirm": 1, "closed": 2}
# Reasons read best with what blocks first and what already fits last.
_RESULT_ORDER: dict[RuleResult, int] = {"not_met": 0, "uncertain": 1, "missing": 2, "met": 3, "info": 4}
# Stands for "a place no rule lists" when trying the values of a free-text field.
_UNLISTED = "\x00"


@dataclass(frozen=True)
class Check:
    rule: Rule
    result: RuleResult


def _listed(rule: Rule, value: object, listed: Sequence[str]) -> bool:
    if rule.field in CHOICES:
        return value in listed
    # Free text (province) is compared in the shared normal form, whatever the spelling or script.
    return normalize(str(value)) in {normalize(item) for item in listed}


def _test(rule: Rule, value: object) -> RuleResult:
    """The rule's own test on a known value: met, not_met or uncertain."""
    if rule.field in NUMBERS:
        number = float(value)  # type: ignore[arg-type]
        ok = (
            (rule.min is None or number >= rule.min)
            and (rule.max is None or number <= rule.max)
            and (rule.below is None or number < rule.below)
        )
        return "met" if ok else "not_met"
    if _listed(rule, value, rule.maybe):
        return "uncertain"
    if rule.in_ is not None:
        return "met" if _listed(rule, value, rule.in_) else "not_met"
    return "not_met" if _listed(rule, value, rule.not_in or ()) else "met"


def _applies(rule: Rule, values: Values) -> bool | None:
    """Whether the rule concerns this profile: True, False, or None while a guard field is unknown."""
    unknown = False
    for guard, inside in ((rule.when, True), (rule.unless, False)):
        for field, listed in guard.items():
            value = values.get(field)
            if value is None:
                unknown = True
            elif (value in listed) != inside:
                return False
    return None if unknown else True


def check_rule(rule: Rule, values: Values) -> RuleResult | None:
    """The rule's result for this profile, or None when it does not concern it."""
    if rule.unknown:
        return "uncertain"
    applies = _applies(rule, values)
    if applies is False:
        return None
    value = values.get(rule.field) if rule.field else None
    if value is None:
        return None if rule.info else "missing"
    result = _test(rule, value)
    if rule.info:
        return "info" if result == "met" and applies else None
    if result == "met":
        return "met"
    if applies is None:  # it fails, but only if the guard holds: the guard's answer decides
        return "missing"
    if result == "not_met" and rule.if_not_met == "maybe":
        return "uncertain"
    return result


def assess_programme(programme: ProgrammeRecord, values: Values) -> tuple[Outcome, list[Check]]:
    if programme.status == "closed":
        return "not_eligible", []
    checks = [Check(rule, result) for rule in programme.rules if (result := check_rule(rule, values))]
    results = {check.result for check in checks}
    if "not_met" in results:
        return "not_eligible", checks
    if results & {"uncertain", "missing"}:
        return "maybe", checks
    return "eligible", checks


def candidate_values(programmes: Sequence[ProgrammeRecord]) -> dict[str, tuple[object, ...]]:
    """For each profile field, values that together reach every outcome the rules allow: the
    choices of a closed list, each side of every numeric threshold, each place a rule names."""
    candidates: dict[str, tuple[object, ...]] = {field: CHOICES[field] for field in CHOICES}
    bounds: dict[str, set[float]] = {field: set() for field in NUMBERS}
    places: set[str] = set()
    for rule in (rule for programme in programmes for rule in programme.rules):
        if rule.field in NUMBERS:
            bounds[rule.field] |= {b for b in (rule.min, rule.max, rule.below) if b is not None}
        elif rule.field is not None and rule.field not in CHOICES:
            places |= {*(rule.in_ or ()), *(rule.not_in or ()), *rule.maybe}
    for field, marks in bounds.items():
        candidates[field] = tuple(sorted({max(0.0, b + step) for b in marks for step in (-1, 0, 1)}))
    candidates["province"] = (*sorted(places), _UNLISTED) if places else ()
    return candidates


def _changes(programme: ProgrammeRecord, values: Values, field: str, tries: tuple[object, ...]) -> bool:
    outcome, _ = assess_programme(programme, values)
    return any(assess_programme(programme, {**values, field: value})[0] != outcome for value in tries)


def deciding_fields(
    programme: ProgrammeRecord, values: Values, candidates: Mapping[str, tuple[object, ...]]
) -> list[ProfileField]:
    """The unanswered fields whose answer could change this programme's outcome, alone or once
    the fields that guard its rules are answered too (a turnover ceiling that depends on the
    sector matters even while the sector is unknown)."""
    if assess_programme(programme, values)[0] == "not_eligible":  # a failed condition stays failed
        return []
    referenced = {rule.field for rule in programme.rules} | {
        guard for rule in programme.rules for guard in (*rule.when, *rule.unless)
    }
    deciding: list[ProfileField] = []
    for field in PROFILE_FIELDS:
        if field not in referenced or values.get(field) is not None:
            continue
        guards = {g for rule in programme.rules if rule.field == field for g in (*rule.when, *rule.unless)}
        contexts = [values] + [
            {**values, guard: value} for guard in guards if values.get(guard) is None for value in candidates[guard]
        ]
        if any(_changes(programme, context, field, candidates[field]) for context in contexts):
            deciding.append(field)
    return deciding


def assess(*, programmes: Sequence[ProgrammeRecord], profile: Profile, lang: str) -> EligibilityOut:
    values = profile.model_dump()
    candidates = candidate_values(programmes)
    ranked: list[tuple[tuple[int, int, int, int], AssessmentOut]] = []
    asked: dict[ProfileField, int] = {}
    for position, programme in enumerate(programmes):
        outcome, checks = assess_programme(programme, values)
        missing = deciding_fields(programme, values, candidates)
        for field in missing:
            asked[field] = asked.get(field, 0) + 1
        matches_need = profile.need is not None and profile.need in programme.needs
        key = (_OUTCOME_ORDER[outcome], 0 if matches_need else 1, _STATUS_ORDER[programme.status], position)
        ranked.append((key, _assessment(programme, outcome, checks, missing, matches_need, lang)))
    return EligibilityOut(
        lang=lang,  # type: ignore[arg-type]
        results=[item for _, item in sorted(ranked, key=lambda pair: pair[0])],
        next_questions=sorted(asked, key=lambda field: (-asked[field], PROFILE_FIELDS.index(field))),
        notices=[NoticeOut(id=key, text=text.get(lang)) for key, text in NOTICES.items()],
    )


def _assessment(
    programme: ProgrammeRecord,
    outcome: Outcome,
    checks: list[Check],
    missing: list[ProfileField],
    matches_need: bool,
    lang: str,
) -> AssessmentOut:
    status_note = programme.status_note.get(lang) if programme.status_note else None
    if outcome == "not_eligible":  # what blocks is the answer; open points would only blur it
        checks = [check for check in checks if check.result in ("not_met", "info")]
    reasons = [
        ReasonOut(rule=check.rule.id, result=check.result, text=check.rule.text.get(lang))
        for check in sorted(checks, key=lambda check: _RESULT_ORDER[check.result])
    ]
    if programme.status == "closed" and status_note:
        reasons.insert(0, ReasonOut(rule="status", result="not_met", text=status_note))
    return AssessmentOut(
        program_id=programme.id,
        name=programme.names.get(lang),
        outcome=outcome,
        outcome_label=OUTCOME_LABELS[outcome].get(lang),
        status=programme.status,
        status_label=STATUS_LABELS[programme.status].get(lang),
        status_note=status_note,
        matches_need=matches_need,
        reasons=reasons,
        missing=missing,
        to_check=[item.get(lang) for item in programme.to_check],
        as_of=programme.as_of,
        confidence=programme.confidence,
    )


def check_eligibility(*, session: Session, profile: Profile, lang: str) -> EligibilityOut:
    return assess(programmes=programme_records(session=session), profile=profile, lang=lang)
