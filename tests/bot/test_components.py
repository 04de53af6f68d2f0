"""The custom NLU components, one by one, as Rasa runs them (bot/components)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.events import ActiveLoop, SlotSet
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.form_answer import FormAnswerIntent
from bot.components.gazetteer import ENTITY_SPANS, GazetteerEntityExtractor
from bot.components.intent import GEIntentClassifier, classifier_text, skeleton
from bot.components.language import LanguageDetector, explicit_choice
from bot.components.normalizer import ORIGINAL_TEXT, OriginalTextRestorer, TextNormalizer
from bot.components.reference import AppointmentReferenceExtractor

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> LocalModelStorage:
    return LocalModelStorage(tmp_path_factory.mktemp("model"))


def _context() -> ExecutionContext:
    from rasa.engine.graph import GraphSchema

    return ExecutionContext(GraphSchema({}), "test")


def _message(text: str, **data: Any) -> Message:
    return Message({"text": text, **data})


# TextNormalizer and OriginalTextRestorer ---------------------------------------------------------

NORMALIZER = TextNormalizer()


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("ﺑﻐﻴﺖ ﻣﻮﻋﺪ ﻓﺎﻟﺮﺑﺎﻁ", "بغيت موعد فالرباط"),  # presentation forms
        ("بغيت مَوْعِدْ فالرِّبَاطْ", "بغيت موعد فالرباط"),  # harakat
        ("بغيـــت موعـــد فالربـــاط", "بغيت موعد فالرباط"),  # tatweel
        ("إنطلاقة أوراش آسفي", "انطلاقه اوراش اسفي"),  # hamza forms, taa marbuta
        ("بغييييت موعد", "بغيت موعد"),  # elongation
        ("BGHIIIT RDV F Fès!!", "bghit rdv f fes"),
    ],
)
def test_the_normaliser_gives_every_spelling_its_plain_form(typed: str, plain: str) -> None:
    message = _message(typed)
    NORMALIZER.process([message])
    assert message.get("text") == plain
    assert message.get(ORIGINAL_TEXT) == typed


def test_training_examples_get_the_same_text_and_entities_moved_onto_it() -> None:
    text = "bghit rdv فالربـــاط 3afak"
    surface = "فالربـــاط"
    start = text.index(surface)
    example = _message(text, intent="book_appointment",
                       entities=[{"start": start, "end": start + len(surface), "value": surface, "entity": "city"}])
    data = TrainingData([example])
    NORMALIZER.process_training_data(data)
    inference = _message(text)
    NORMALIZER.process([inference])
    assert example.get("text") == inference.get("text") == "bghit rdv فالرباط 3afak"
    [entity] = example.get("entities")
    assert example.get("text")[entity["start"] : entity["end"]] == "فالرباط" == entity["value"]


def test_an_explicit_synonym_value_is_kept() -> None:
    text = "rdv f Tanja"
    example = _message(text, entities=[{"start": 7, "end": 11, "value": "tanger", "entity": "city"}])
    NORMALIZER.process_training_data(TrainingData([example]))
    assert example.get("entities")[0] == {"start": 7, "end": 11, "value": "tanger", "entity": "city"}


def test_button_payloads_are_left_alone() -> None:
    payload = '/inform{"service":"business_plan"}'
    message = _message(payload)
    NORMALIZER.process([message])
    OriginalTextRestorer().process([message])
    assert message.get("text") == payload


def test_the_restorer_gives_back_the_typed_text_and_entity_offsets_on_it() -> None:
    typed = "Bghit RDV f ﺍﻟﺮﺑﺎﻁ, smiti Youssef"
    message = _message(typed)
    NORMALIZER.process([message])
    normalized = message.get("text")
    start = normalized.index("الرباط")
    message.set("entities", [{"entity": "city", "value": "rabat", "start": start, "end": start + 6},
                             {"entity": "language", "value": "ary_latn", "start": 0, "end": 0}])
    OriginalTextRestorer().process([message])
    assert message.get("text") == typed
    city, language = message.get("entities")
    assert typed[city["start"] : city["end"]] == "ﺍﻟﺮﺑﺎﻁ"
    assert language["value"] == "ary_latn"


# GazetteerEntityExtractor ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gazetteer(storage: LocalModelStorage) -> GazetteerEntityExtractor:
    config = {"common_words": ["jdida", "ljdida", "الجديدة", "جديدة"], "not_alone": ["safi"]}
    resource = Resource("gazetteer")
    extractor = GazetteerEntityExtractor.create(config, storage, resource, _context())
    extractor.train(TrainingData())
    # What the running bot uses: the tables read back from the model, not the data files.
    return GazetteerEntityExtractor.load(config, storage, resource, _context())


def _entities(gazetteer: GazetteerEntityExtractor, text: str) -> list[tuple[str, str]]:
    message = _message(text)
    NORMALIZER.process([message])
    gazetteer.process([message])
    OriginalTextRestorer().process([message])
    found = [e for e in message.get("entities", []) if e["entity"] in ("city", "program")]
    for e in found:
        assert message.get("text")[e["start"] : e["end"]].strip(), e
    return [(e["entity"], e["value"]) for e in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fin kayna anapec f tanja", [("city", "tanger")]),
        ("bghit rdv ftanja", [("city", "tanger")]),
        ("bghit rdv fttanja", [("city", "tanger")]),
        ("l'agence de Tanger svp", [("city", "tanger")]),
        ("فين كاينة لانابيك فطنجة", [("city", "tanger")]),
        ("أين توجد الوكالة في طنجة؟", [("city", "tanger")]),
        ("anapec frbat", [("city", "rabat")]),
        ("بغيت موعد بالرباط", [("city", "rabat")]),
        ("للرباط", [("city", "rabat")]),
        ("ﺍﻟﺮﺑﺎﻁ", [("city", "rabat")]),
        ("rdv f casa", [("city", "casablanca")]),
        ("l'agence dyal kaza", [("city", "casablanca")]),
        ("f dar lbida", [("city", "casablanca")]),
        ("فالدار البيضاء", [("city", "casablanca")]),
        ("Casablnca", [("city", "casablanca")]),  # one typo
        ("fin anapec f marakech", [("city", "marrakech")]),
        ("fmrrakch", [("city", "marrakech")]),
        ("à Fès", [("city", "fes")]),
        ("ffas", [("city", "fes")]),
        ("بفاس", [("city", "fes")]),
        ("agence d'Agadir", [("city", "agadir")]),
        ("fl3ayoun", [("city", "laayoune")]),
        ("العيون", [("city", "laayoune")]),
        ("wach kayna f bni mellal", [("city", "beni-mellal")]),
        ("chno hiya forsa", [("program", "forsa")]),
        ("FORSA", [("program", "forsa")]),
        ("bghit n3ref 3la lforsa", [("program", "forsa")]),
        ("شنو هي لفرصة", [("program", "forsa")]),
        ("برنامج فرصة", [("program", "forsa")]),
        ("intilaka", [("program", "intelaka")]),
        ("intelaqa kifach", [("program", "intelaka")]),
        ("فرصة وانطلاقة", [("program", "forsa"), ("program", "intelaka")]),
        ("c'est quoi l'auto-entrepreneur", [("program", "auto_entrepreneur")]),
        ("statut auto entrepreneur", [("program", "auto_entrepreneur")]),
        ("bghit ndir lauto", [("program", "auto_entrepreneur")]),
        ("je suis AE", [("program", "auto_entrepreneur")]),
        ("كيفاش نولي مقاول ذاتي", [("program", "auto_entrepreneur")]),
        ("نظام المقاول الذاتي", [("program", "auto_entrepreneur")]),
        ("للمقاول الذاتي", [("program", "auto_entrepreneur")]),
        ("لوطو أونطروبرونور", [("program", "auto_entrepreneur")]),
        ("c'est quoi l'indh", [("program", "indh")]),
        ("المبادرة الوطنية للتنمية البشرية", [("program", "indh")]),
        ("awrach 2", [("program", "awrach")]),
        ("أوراش", [("program", "awrach")]),
        ("ta7fiz", [("program", "tahfiz")]),
        ("contrat idmaj", [("program", "idmaj")]),
        ("عقد الإدماج", [("program", "idmaj")]),
        ("taehil", [("program", "taehil")]),
        ("ana moukawil", [("program", "ana_moukawil")]),
        ("أنا مقاول", [("program", "ana_moukawil")]),
        ("Génération Entrepreneurs", [("program", "generation_entrepreneurs")]),
        ("جيل المقاولين", [("program", "generation_entrepreneurs")]),
        ("forsa f casa", [("program", "forsa"), ("city", "casablanca")]),
        ("bghit rdv 3la intelaka f l'agence dyal fes", [("program", "intelaka"), ("city", "fes")]),
    ],
)
def test_names_in_every_script_spelling_and_clitic(gazetteer: GazetteerEntityExtractor, text: str,
                                                  expected: list[tuple[str, str]]) -> None:
    assert _entities(gazetteer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "safi merci",  # "that's it"
        "safi",
        "safi baraka",
        "la carte nationale jdida",
        "البطاقة الوطنية الجديدة",
        "la plus proche agence de chez moi",
        "bonjour",
        "merci beaucoup",
        "bghit nakhod maw3id",
        "ok",
    ],
)
def test_everyday_words_are_not_places(gazetteer: GazetteerEntityExtractor, text: str) -> None:
    assert [e for e in _entities(gazetteer, text) if e[0] == "city"] == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("ana f safi", "safi"), ("fsafi", "safi"), ("jdida", "el-jadida"), ("f ljdida", "el-jadida"),
     ("بالجديدة", "el-jadida"), ("l'agence de larache", "larache")],
)
def test_everyday_word_places_with_a_locative_or_alone(gazetteer: GazetteerEntityExtractor, text: str,
                                                       value: str) -> None:
    assert ("city", value) in _entities(gazetteer, text)


def test_a_one_typo_guess_never_takes_two_edits(gazetteer: GazetteerEntityExtractor) -> None:
    # "larache" is two edits from "awrach" (through the glued "l"): a place, not the programme.
    assert _entities(gazetteer, "larache") == [("city", "larache")]


def test_training_examples_get_spans_and_keep_their_annotations(gazetteer: GazetteerEntityExtractor) -> None:
    gold = [{"start": 18, "end": 23, "value": "tanja", "entity": "city"}]
    example = _message("fin kayna anapec f tanja", intent="find_agency", entities=gold)
    gazetteer.process_training_data(TrainingData([example]))
    assert example.get("entities") == gold
    assert example.get(ENTITY_SPANS) == [("city", 19, 24)]


# LanguageDetector -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def detector(storage: LocalModelStorage) -> LanguageDetector:
    resource = Resource("language")
    component = LanguageDetector.create({}, storage, resource, _context())
    component.train(TrainingData())
    return LanguageDetector.load({}, storage, resource, _context())


def _conversation_in(language: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker("t", slots=[TextSlot("language", mappings=[{}])])
    tracker.update(SlotSet("language", language))
    return tracker


def _language(detector: LanguageDetector, gazetteer: GazetteerEntityExtractor, text: str,
              intent: str | None = None, current: str | None = None) -> str | None:
    message = _message(text)
    NORMALIZER.process([message])
    gazetteer.process([message])
    if intent:
        message.set("intent", {"name": intent, "confidence": 0.9})
    detector.process([message], _conversation_in(current) if current else None)
    languages = [e["value"] for e in message.get("entities", []) if e["entity"] == "language"]
    assert len(languages) <= 1
    return languages[0] if languages else None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("b darija 3afak", "ary_latn"),
        ("en français svp", "fr"),
        ("بالعربية", "ar"),
        ("بالعربية من فضلك", "ar"),
        ("بالدارجة عافاك", "ary"),
        ("kteb b l3arbia", "ar"),
        ("hder m3aya b lfransawiya", "fr"),
        ("parlez-moi en arabe", "ar"),
        ("en darija stp", "ary_latn"),
        ("darija b l7rouf l3arbia", "ary"),
        ("écris en darija avec l'alphabet latin", "ary_latn"),
        ("الدارجة بالحروف اللاتينية", "ary_latn"),
        ("français", "fr"),
        ("Darija", "ary_latn"),
    ],
)
def test_an_explicit_choice_wins_over_the_script(detector: LanguageDetector, gazetteer: GazetteerEntityExtractor,
                                                text: str, language: str) -> None:
    assert _language(detector, gazetteer, text, intent="choose_language") == language
    # The short ones are a choice even when the intent model hesitates.
    if len(text.split()) <= 3:
        assert _language(detector, gazetteer, text, intent="inform") == language


def test_naming_a_language_inside_a_question_is_not_a_choice(detector: LanguageDetector,
                                                            gazetteer: GazetteerEntityExtractor) -> None:
    text = "wach lformation kat9ra b lfransawiya wla b l3arbia f l'agence dyal casa"
    assert explicit_choice(text, asked=False) is None
    assert _language(detector, gazetteer, text, intent="ask_services") == "ary_latn"


@pytest.mark.parametrize(
    "text", ["2", "06 12 34 56 78", "ok", "OK 👍", "👍", "🙏🙏", "😂", "casa", "Tanger", "الرباط", "forsa", "?", "24",
             "ok casa", "anapec"],
)
def test_messages_without_language_signal_emit_no_entity(detector: LanguageDetector,
                                                        gazetteer: GazetteerEntityExtractor, text: str) -> None:
    assert _language(detector, gazetteer, text) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("bghit nakhod maw3id f casa", "ary_latn"),
        ("wach kayna chi formation dyal business plan", "ary_latn"),
        ("chno lwra9 li khassni njib", "ary_latn"),
        ("je voudrais prendre un rendez-vous à Casablanca", "fr"),
        ("quels documents dois-je apporter ?", "fr"),
        ("est-ce que c'est gratuit", "fr"),
        ("أريد حجز موعد في الرباط", "ar"),
        ("ما هي الوثائق المطلوبة؟", "ar"),
        ("هل الخدمة مجانية؟", "ar"),
        ("بغيت ناخد موعد فالرباط", "ary"),
        ("شنو الوراق اللي خاصني نجيب", "ary"),
        ("واش هادشي فابور", "ary"),
        ("ﺑﻐﻴﺖ ﻧﺎﺧﺪ ﻣﻮﻋﺪ", "ary"),
        ("bghit rdv f l'agence dyal casa", "ary_latn"),  # code-switching stays Darija
    ],
)
def test_the_classifier_tells_the_varieties_apart(detector: LanguageDetector, gazetteer: GazetteerEntityExtractor,
                                                 text: str, language: str) -> None:
    assert _language(detector, gazetteer, text) == language


@pytest.mark.parametrize(("text", "current", "intent", "expected"), [
    # Latin letters after Arabic script: a Latin-script variety, even when French and Darija
    # are hard to tell apart...
    ("Bonjour", "ar", "greet", {"fr", "ary_latn"}),
    ("merci", "ary", "thank", {"fr", "ary_latn"}),
    ("salam", "ary", "greet", {"fr", "ary_latn"}),
    # ... but a Latin-script conversation keeps its language on such a message,
    ("Bonjour", "ary_latn", "greet", {None}),
    ("merci", "fr", "thank", {None, "fr"}),
    ("merci beaucoup", "ary_latn", "thank", {None}),  # French words inside Darija
    ("salam", "fr", "greet", {None}),
    # (one word French never uses does move a French conversation),
    ("chno hiya", "fr", "ask_program_info", {"ary_latn"}), ("wakha", "fr", "affirm", {"ary_latn"}),
    ("chkon nta", "fr", "bot_challenge", {"ary_latn"}), ("wach nta robot", "fr", "bot_challenge", {"ary_latn"}),
    ("fin", "fr", "goodbye", {None}),
    # and neither a name typed in Latin letters nor a message with no language in it moves it.
    ("Salma Benali", "ar", "inform", {None}),
    ("ok", "ar", "affirm", {None}),
    ("2", "ary", "inform", {None}),
])
def test_a_hesitation_on_latin_script_leaves_an_arabic_script_conversation(
        detector: LanguageDetector, gazetteer: GazetteerEntityExtractor, text: str, current: str, intent: str,
        expected: set[str | None]) -> None:
    assert _language(detector, gazetteer, text, intent=intent, current=current) in expected


def test_an_arabic_script_message_always_gets_an_arabic_variety(detector: LanguageDetector,
                                                               gazetteer: GazetteerEntityExtractor) -> None:
    for text in ("شكرا", "نعم", "لا", "مزيان"):
        assert _language(detector, gazetteer, text) in ("ar", "ary")
        # ... also after Latin letters: the reply must be in Arabic script.
        for current in ("fr", "ary_latn"):
            assert _language(detector, gazetteer, text, current=current) in ("ar", "ary")


@pytest.mark.parametrize(("text", "current", "intent"), [
    ("شكرا", "ary", "thank"), ("شكرا", "ar", "thank"),
    ("لا", "ary", "deny"), ("لا", "ar", "deny"),
    ("السلام", "ary", "greet"), ("السلام عليكم", "ary", "greet"),
    # the Darija buttons' own words, typed (the classifier is sure they are MSA),
    ("تمويل", "ary", "inform"), ("تكوين", "ary", "inform"), ("الخدمات", "ary", "inform"),
    ("في المغرب", "ary", "inform"), ("فالمغرب", "ar", "inform"),
])
def test_a_word_msa_and_darija_share_leaves_the_conversation_in_its_variety(
        detector: LanguageDetector, gazetteer: GazetteerEntityExtractor, text: str, current: str,
        intent: str) -> None:
    # Without a conversation the same words get a variety (the classifier's best guess).
    assert _language(detector, gazetteer, text, intent=intent) in ("ar", "ary")
    assert _language(detector, gazetteer, text, intent=intent, current=current) is None


@pytest.mark.parametrize(("text", "current", "expected"), [
    ("بغيت ناخد موعد", "ar", "ary"), ("شكرا بزاف", "ar", "ary"), ("واخا", "ar", "ary"), ("اه", "ar", "ary"),
    ("أريد حجز موعد", "ary", "ar"), ("شكرا جزيلا", "ary", "ar"), ("هل الخدمة مجانية؟", "ary", "ar"),
    ("نعم", "ary", "ar"), ("حسنا", "ary", "ar"),
])
def test_a_message_that_is_clearly_the_other_arabic_variety_switches_to_it(
        detector: LanguageDetector, gazetteer: GazetteerEntityExtractor, text: str, current: str,
        expected: str) -> None:
    assert _language(detector, gazetteer, text, current=current) == expected


# GEIntentClassifier ---------------------------------------------------------------------------------------

TINY = {
    "book_appointment": ["bghit nakhod maw3id", "je veux un rendez-vous", "بغيت موعد", "أريد حجز موعد",
                         "bghit rdv f __city__", "rdv svp", "3tini maw3id 3afak", "je voudrais un rdv"],
    "find_agency": ["fin kayna anapec", "où est l'agence", "فين كاينة الوكالة", "أين توجد الوكالة",
                    "adresse de l'agence", "fin jat lagence", "l'adresse 3afak", "agence la plus proche"],
    "inform": ["__city__", "f __city__", "3ndi 25 3am", "j'ai 24 ans", "ghedda", "demain", "__program__", "2"],
}


@pytest.fixture(scope="module")
def classifier(storage: LocalModelStorage) -> GEIntentClassifier:
    examples = [_message(text, intent=intent) for intent, texts in TINY.items() for text in texts]
    resource = Resource("intent")
    component = GEIntentClassifier.create({"calibration_folds": 2}, storage, resource, _context())
    component.train(TrainingData(examples))
    return GEIntentClassifier.load({"calibration_folds": 2}, storage, resource, _context())


def test_the_classifier_ranks_intents_with_probabilities(classifier: GEIntentClassifier) -> None:
    message = _message("bghit maw3id ghedda")
    NORMALIZER.process([message])
    classifier.process([message])
    intent, ranking = message.get("intent"), message.get("intent_ranking")
    assert intent["name"] == "book_appointment"
    assert ranking[0] == intent
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6
    assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)


def test_places_and_programmes_are_read_as_placeholders() -> None:
    message = _message("bghit rdv f tanja 3la forsa 🙏 ?")
    NORMALIZER.process([message])
    message.set(ENTITY_SPANS, [("city", 12, 17), ("program", 22, 27)])
    assert classifier_text(message) == "bghit rdv f __city__ 3la __program__ __sym1f64f__ __q__"


@pytest.mark.parametrize("text", ["...", "?", " ?? ", "؟"])
def test_an_empty_message_still_has_something_to_classify(text: str) -> None:
    message = _message(text)
    NORMALIZER.process([message])
    assert classifier_text(message) == "__empty__"


def test_an_emoji_alone_is_read() -> None:
    message = _message("👍")
    NORMALIZER.process([message])
    assert classifier_text(message) == "ok __sym1f44d__"  # normalisation reads it "ok"


def test_the_skeleton_joins_arabizi_and_arabic_spellings() -> None:
    assert skeleton("bghit nakhod maw3id") == skeleton("bghyt nakhd mow3id") == skeleton("بغيت ناخد موعد")


def test_fast_scores_agree_with_sklearn(classifier: GEIntentClassifier) -> None:
    texts = ["bghit maw3id f __city__", "où est l'agence de __city__", "فين الوكالة", "2", "__empty__"]
    model = classifier._model
    assert model is not None
    reference = GEIntentClassifier._scores(model["vectorizers"], model["svm"], texts)
    fast = np.array([classifier._scorer.scores(t) for t in texts])
    np.testing.assert_allclose(fast, reference, atol=1e-4)


# AppointmentReferenceExtractor ---------------------------------------------------------------------


def _references(text: str, asked: str | None = None) -> list[str]:
    message = _message(text)
    NORMALIZER.process([message])
    tracker = DialogueStateTracker("t", slots=[TextSlot("requested_slot", mappings=[{}])])
    if asked:
        tracker.update(SlotSet("requested_slot", asked))
    AppointmentReferenceExtractor().process([message], tracker)
    found = [e["value"] for e in message.get("entities", []) if e["entity"] == "appointment_ref"]
    spans = [s for s in message.get(ENTITY_SPANS) or [] if s[0] == "appointment_ref"]
    assert len(spans) == len(found)
    return found


@pytest.mark.parametrize(("text", "asked", "expected"), [
    # Asked for: a reference-shaped token, however it is typed.
    ("K7M2QX", "appointment_ref", ["K7M2QX"]),
    ("k7m2qx", "appointment_ref", ["K7M2QX"]),
    ("hahiya q2w3e4 3afak", "appointment_ref", ["Q2W3E4"]),
    ("المرجع K7M2QX", "appointment_ref", ["K7M2QX"]),
    # Not asked: only next to a word that names it.
    ("ma référence est K7M2QX", None, ["K7M2QX"]),
    ("annuler le rdv ref Q2W3E4", None, ["Q2W3E4"]),
    ("المرجع ديالي K7M2QX", None, ["K7M2QX"]),
    ("bghit nfhem lma3na dyal forsa", None, []),
    ("K7M2QX", None, []),
    # Never: words, numbers, letters outside the alphabet, other lengths.
    ("baraka", "appointment_ref", []),
    ("lma3na", "phone", []),
    ("0612345678", "appointment_ref", []),
    ("K7M2QXZ", "appointment_ref", []),
    ("K1M2QX", "appointment_ref", []),  # 1 is not in the alphabet
    ("stop", "appointment_ref", []),
])
def test_a_reference_is_found_where_one_is_expected(text: str, asked: str | None, expected: list[str]) -> None:
    assert _references(text, asked) == expected


def test_an_annotated_reference_is_a_placeholder_for_the_intent_classifier() -> None:
    text = "ma référence est K7M2QX"
    start = text.index("K7M2QX")
    example = _message(text, intent="inform", entities=[
        {"entity": "appointment_ref", "start": start, "end": start + 6, "value": "K7M2QX"}])
    data = TrainingData([example])
    NORMALIZER.process_training_data(data)
    AppointmentReferenceExtractor().process_training_data(data)
    assert "__ref__" in classifier_text(example) and "k7m2qx" not in classifier_text(example)


def test_a_bare_reference_says_nothing_of_the_language(detector: LanguageDetector,
                                                       gazetteer: GazetteerEntityExtractor) -> None:
    message = _message("K7M2QX")
    NORMALIZER.process([message])
    gazetteer.process([message])
    tracker = DialogueStateTracker("t", slots=[TextSlot("requested_slot", mappings=[{}]),
                                              TextSlot("language", mappings=[{}])])
    tracker.update(SlotSet("requested_slot", "appointment_ref"))
    AppointmentReferenceExtractor().process([message], tracker)
    detector.process([message], tracker)
    assert [e["entity"] for e in message.get("entities", [])] == ["appointment_ref"]


# FormAnswerIntent -----------------------------------------------------------------------------


def _classified(text: str, intent: str, confidence: float, *, form: str | None = "eligibility_form",
                asked: str | None = "sector") -> tuple[str, list[str]]:
    """The intent and ranking FormAnswerIntent leaves on a message the classifier gave `intent`."""
    ranking = [{"name": intent, "confidence": confidence}, {"name": "inform", "confidence": 0.2},
               {"name": "affirm", "confidence": 0.1}]
    message = _message(text, intent=ranking[0], intent_ranking=ranking)
    tracker = DialogueStateTracker("t", slots=[TextSlot("requested_slot", mappings=[{}])])
    if form:
        tracker.update(ActiveLoop(form))
    if asked:
        tracker.update(SlotSet("requested_slot", asked))
    FormAnswerIntent.create({}, None, None, _context()).process([message], tracker)  # type: ignore[arg-type]
    return message.get("intent")["name"], [r["name"] for r in message.get("intent_ranking")]


def test_a_short_unsure_message_in_a_form_is_an_answer() -> None:
    assert _classified("ymken snack", "ask_financing", 0.48) == ("inform", ["inform", "ask_financing", "affirm"])
    assert _classified("Youssef Amrani", "greet", 0.4, form="booking_form", asked="full_name")[0] == "inform"


@pytest.mark.parametrize(("text", "intent", "confidence", "form", "asked"), [
    ("ymken snack", "ask_financing", 0.48, None, None),  # no form asks anything
    ("ymken snack", "ask_financing", 0.48, "eligibility_form", None),  # the form asks nothing now
    ("c'est gratuit ?", "ask_cost", 0.95, "eligibility_form", "sector"),  # a question it is sure of
    ("safi", "stop", 0.35, "eligibility_form", "sector"),  # the way out, however unsure
    ("ana 3la l3arbiya", "choose_language", 0.4, "eligibility_form", "sector"),
    ("wach kayn chi tamwil l chabab f lmghrib", "ask_financing", 0.5, "eligibility_form", "sector"),  # long
    ('/ask_cost', "ask_cost", 0.5, "eligibility_form", "sector"),  # a button
])
def test_otherwise_the_intent_is_kept(text: str, intent: str, confidence: float, form: str | None,
                                      asked: str | None) -> None:
    assert _classified(text, intent, confidence, form=form, asked=asked)[0] == intent
