"""Two-stage fallback: likely intents as localised buttons, then the offer of a human."""

from __future__ import annotations

import json

import pytest

from actions.fallback import ActionDefaultAskAffirmation, ActionDefaultFallback
from tests.actions.conftest import assert_responses_exist, entity, make_tracker, message_for, payloads_of, responses_of


@pytest.mark.asyncio
async def test_suggests_the_likely_intents_as_buttons_in_the_users_language(dispatcher, domain):
    tracker = make_tracker(
        text="bghit n3ref fin", intent="nlu_fallback", language="ary_latn",
        intent_ranking=[("nlu_fallback", 0.3), ("find_agency", 0.25), ("book_appointment", 0.2),
                        ("greet", 0.1), ("ask_opening_hours", 0.08), ("ask_cost", 0.07)],
    )
    await ActionDefaultAskAffirmation().run(dispatcher, tracker, domain)
    message = message_for(dispatcher, "utter_ask_affirmation")
    # greet has no label (not a suggestion); "none of these" is Rasa's /out_of_scope. The language
    # rides along: picking makes Rasa rewind the message that had set it.
    assert payloads_of(message) == ['/find_agency{"language":"ary_latn"}', '/book_appointment{"language":"ary_latn"}',
                                    '/ask_opening_hours{"language":"ary_latn"}', '/out_of_scope{"language":"ary_latn"}']
    titles = [b["title"] for b in message["buttons"]]
    assert titles == ["Nl9a agence", "Nakhod maw3id", "Lwa9t dyal lkhedma", "7aja khra"]
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_labels_exist_in_every_language_and_fit_whatsapp(domain):
    from actions.fallback import suggestions
    from actions.language import localized_custom

    french = localized_custom(domain, "utter_intent_labels", "fr")["labels"]
    for lang in ("fr", "ar", "ary", "ary_latn"):
        labels = localized_custom(domain, "utter_intent_labels", lang)["labels"]
        assert labels.keys() == french.keys()
        assert all(len(title) <= 24 for title in labels.values()), lang
    assert set(french) - {"other"} <= set(domain["intents"])
    assert suggestions(make_tracker(intent_ranking=[("ask_cost", 0.01)]), french) == []


@pytest.mark.asyncio
async def test_carries_the_city_named_into_the_suggestion(dispatcher, domain):
    tracker = make_tracker(
        text="anapec tanja??", intent="nlu_fallback", entities=[entity("city", "tanger")],
        intent_ranking=[("nlu_fallback", 0.3), ("find_agency", 0.28)],
    )
    await ActionDefaultAskAffirmation().run(dispatcher, tracker, domain)
    payload = payloads_of(message_for(dispatcher, "utter_ask_affirmation"))[0]
    assert payload.startswith("/find_agency")
    assert json.loads(payload[len("/find_agency"):]) == {"city": "tanger", "language": "fr"}


@pytest.mark.asyncio
async def test_asks_to_rephrase_when_nothing_is_likely(dispatcher, domain):
    tracker = make_tracker(text="azerty", intent="nlu_fallback", intent_ranking=[("nlu_fallback", 0.3), ("greet", 0.2)])
    await ActionDefaultAskAffirmation().run(dispatcher, tracker, domain)
    assert responses_of(dispatcher) == ["utter_ask_rephrase"]


@pytest.mark.asyncio
async def test_giving_up_offers_a_human_and_forgets_the_message(dispatcher, domain):
    events = await ActionDefaultFallback().run(dispatcher, make_tracker(text="???", intent="nlu_fallback"), domain)
    assert responses_of(dispatcher) == ["utter_default"]
    assert "/ask_human" in payloads_of(domain["responses"]["utter_default"][0])
    assert events == [{"event": "rewind", "timestamp": None}]
    assert_responses_exist(dispatcher, domain)
