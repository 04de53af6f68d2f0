"""Tells which of fr, ar, ary, ary_latn a message is written in, as a `language` entity.

The `language` slot is filled from this entity on every turn, so replies follow the user's
language and script (design §3). In order:

1. An explicit choice ("b darija 3afak", "en français svp", "بالعربية", "kteb darija b les
   lettres latines") gives the chosen language, whatever the script it is written in. It is taken
   when the message is a `choose_language` request or is little more than a language name.
2. Messages with no language signal once places, programme names, digits and words every variety
   uses ("ok", "anapec") are set aside (a number, "ok", an emoji, a bare city) give no entity, and
   the slot keeps its value.
3. Otherwise the script decides between the Arabic-script pair (ar, ary) and the Latin-script
   pair (fr, ary_latn), and a character n-gram classifier trained at `rasa train` time on the
   variety-tagged examples (the folder of data/nlu/<variety>/ is the label) decides within the
   pair. A message the classifier cannot place within its pair ("salam", "merci" are as much
   Darija as French; "شكرا", "لا" as much Darija as MSA) gives no entity when the conversation is
   already in that script; otherwise it gets the likelier variety, so a user who switches
   script is answered in the new script.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from ge_text import detect_script, normalize, tokens
from ge_text.gazetteer import stem_variants
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from bot.components.gazetteer import ENTITY_SPANS, resolve_path
from bot.components.linear import LinearScorer
from bot.components.normalizer import code_fingerprint, is_payload
from bot.components.stored import StoredComponent

logger = logging.getLogger(__name__)
VARIETIES = ("fr", "ar", "ary", "ary_latn")
PAIRS = {"arabic": ("ar", "ary"), "latin": ("fr", "ary_latn")}

# Words that say nothing about the variety (after normalisation).
NEUTRAL_WORDS = frozenset(
    normalize(w)
    for w in (
        "ok", "okay", "okey", "oki", "okk", "k", "anapec", "lanapec", "l'anapec", "أنابيك", "لانابيك",
        "rdv", "sms", "whatsapp", "cin", "pdf", "hh", "hhh", "lol", "xd", "ah", "eh", "oh",
    )
)

# Language names as typed, after normalisation; stem variants take glued prepositions off
# ("بالعربية" → "العربيه", "lfransawiya" → "fransawiya").
_FR = {"francais", "fransawiya", "fransawia", "fransaouia", "fransaoui", "fransawi", "fransiya", "fransia",
       "francia", "fransawiyya", "french", "فرنسيه", "الفرنسيه", "فرنساويه", "الفرنساويه", "فرنسي",
       "الفرنسي", "فرونسي", "الفرونسي", "فرونساويه", "الفرونساويه", "fr"}
_AR = {"arabe", "arabic", "3arbia", "3arabia", "3arabiya", "3arbiya", "3arbiyya", "arabia", "arabiya",
       "العربيه", "عربيه", "العربي", "الفصحي", "فصحي", "fos7a", "fus7a", "fusha", "fosha", "classique"}
_DARIJA = {"darija", "darja", "darij", "dareja", "الدارجه", "دارجه", "الداريجه", "داريجه", "marocain",
           "marocaine", "maghribiya", "lmaghribiya", "المغربيه", "dialecte"}
_LETTERS = {"lettres", "lettre", "7rouf", "hrouf", "l7rouf", "lhrouf", "7ourouf", "horouf", "حروف", "الحروف",
            "alphabet", "caracteres", "script", "ecriture", "latin", "latine", "latines", "اللاتينيه", "لاتينيه"}
_LATIN_LETTERS = {"latin", "latine", "latines", "اللاتينيه", "لاتينيه", "francais", "fransawiya", "fransawia",
                  "lfransawiya", "الفرنسيه", "فرنسيه"}
# A message this short that names a language is a choice even if the intent model hesitates.
_MAX_CHOICE_WORDS = 4
_FILLERS = {"svp", "stp", "3afak", "afak", "3fak", "please", "pls", "plz", "من", "فضلك", "عافاك", "لو", "سمحت",
            "en", "b", "f", "bl", "b l", "ب", "بال", "merci", "mrc", "chokran", "شكرا", "ok", "wakha", "يرجي"}
_LETTER_RE = re.compile(r"[^\W\d_]")


def _names(text: str) -> list[set[str]]:
    return [set(stem_variants(token)) for token in tokens(text)]


def explicit_choice(text: str, *, asked: bool) -> str | None:
    """The language a message asks for, if it names one (normalised text). `asked` says the
    message is a choose_language request; otherwise only a short message counts."""
    words = _names(text)
    if not words:
        return None
    mentions = [w for w in words if w & (_FR | _AR | _DARIJA)]
    if not mentions:
        return None
    if not asked:
        content = [w for w in words if not w & _FILLERS]
        if len(content) > _MAX_CHOICE_WORDS - 1:
            return None
    darija = any(w & _DARIJA for w in words)
    if darija:
        if any(w & _LETTERS for w in words):
            latin_letters = any(w & _LATIN_LETTERS and not w & _DARIJA for w in words)
            arabic_letters = any(w & _AR for w in words)
            if latin_letters and not arabic_letters:
                return "ary_latn"
            if arabic_letters and not latin_letters:
                return "ary"
        return "ary" if detect_script(text) == "arabic" else "ary_latn"
    french = any(w & _FR for w in words)
    arabic = any(w & _AR for w in words)
    if french and not arabic:
        return "fr"
    if arabic and not french:
        return "ar"
    return None


def signal_text(text: str, spans: list[tuple[str, int, int]]) -> str:
    """What is left of a normalised message once names, digits and neutral words are set aside."""
    for _, start, end in sorted(spans, key=lambda s: -s[1]):
        text = text[:start] + " " + text[end:]
    kept = [w for w in tokens(text) if _LETTER_RE.search(w) and w not in NEUTRAL_WORDS]
    return " ".join(kept)


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, dtype=np.float32)


def _word_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="word", token_pattern=r"[^\s']+", sublinear_tf=True, dtype=np.float32)


class ScriptPairModel:
    """Tells apart the two varieties written in one script."""

    def __init__(self, labels: tuple[str, str], C: float) -> None:
        self.labels = labels
        self.C = C
        self.vectorizers = [_vectorizer(), _word_vectorizer()]
        self.model = LogisticRegression(C=C, max_iter=1000, class_weight="balanced")

    def _features(self, texts: list[str], fit: bool = False) -> sp.csr_matrix:
        if fit:
            return sp.hstack([v.fit_transform(texts) for v in self.vectorizers]).tocsr()
        return sp.hstack([v.transform(texts) for v in self.vectorizers]).tocsr()

    def fit(self, texts: list[str], labels: list[str]) -> ScriptPairModel:
        y = np.array(labels)
        # Examples whose folder says one variety while every other example says the other
        # ("wakha khoya" among the French examples, code-switching) would teach the wrong
        # words: drop those the out-of-fold model gives less than 10% to their own folder.
        features = self._features(texts, fit=True)
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        oof = cross_val_predict(LogisticRegression(C=self.C, max_iter=1000, class_weight="balanced"),
                                features, y, cv=folds, method="predict_proba")
        own = oof[np.arange(len(y)), np.searchsorted(np.unique(y), y)]
        keep = own >= 0.1
        logger.info("LanguageDetector %s: %d examples, %d dropped as mislabelled", self.labels, len(y), (~keep).sum())
        kept_texts = [t for t, k in zip(texts, keep, strict=True) if k]
        self.model.fit(self._features(kept_texts, fit=True), y[keep])
        return self

    def predict(self, text: str) -> tuple[str, float]:
        if getattr(self, "_scorer", None) is None:
            self._scorer = LinearScorer(self.vectorizers, self.model.coef_, self.model.intercept_, self.model.classes_)
        score = float(self._scorer.scores(text)[0])
        # Binary logistic regression: the score is the log-odds of the second class.
        second = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))
        if second >= 0.5:
            return self._scorer.classes[1], second
        return self._scorer.classes[0], 1.0 - second

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_scorer", None)  # rebuilt on first use, never pickled
        return state


def read_variety_examples(directory: Path) -> dict[str, list[str]]:
    """Normalised examples of data/nlu/<variety>/, per variety."""
    from rasa.shared.nlu.training_data.loading import load_data

    out: dict[str, list[str]] = {}
    for variety in VARIETIES:
        folder = directory / variety
        if not folder.is_dir():
            continue
        data = load_data(str(folder))
        out[variety] = [normalize(m.get(TEXT)) for m in data.training_examples if m.get(TEXT)]
    return out


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class LanguageDetector(StoredComponent, EntityExtractorMixin):
    """Adds a `language` entity to every message whose language can be told."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "varieties_dir": "data/nlu",
            "C": 10.0,
            # Below this probability a Latin-script message is neither clearly French nor clearly
            # Arabizi, and the slot keeps its value.
            "latin_threshold": 0.75,
            # The same for an Arabic-script message in an Arabic-script conversation: MSA and
            # Darija share most everyday words ("شكرا", "لا", "السلام"), and one of them alone is
            # no move from one to the other.
            "arabic_threshold": 0.75,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Which folder an example is in is its label, and Rasa's training data does not say."""
        digest = hashlib.sha256(code_fingerprint().encode())
        directory = resolve_path(config.get("varieties_dir") or cls.get_default_config()["varieties_dir"])
        for path in sorted(directory.glob("*/*.yml")):
            digest.update(str(path.relative_to(directory)).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()

    STATE_FILE = "language_identifier.joblib"
    WITHOUT_STATE = "using the script only"

    def use_state(self, state: dict[str, ScriptPairModel] | None) -> None:
        self.models = state or {}

    def train(self, training_data: TrainingData) -> Resource:
        examples = read_variety_examples(resolve_path(self._config["varieties_dir"]))
        models: dict[str, ScriptPairModel] = {}
        for script, pair in PAIRS.items():
            texts, labels = [], []
            for variety in pair:
                for text in examples.get(variety, []):
                    if text and detect_script(text) == script:
                        texts.append(text)
                        labels.append(variety)
            if len(set(labels)) == 2:
                models[script] = ScriptPairModel(pair, float(self._config["C"])).fit(texts, labels)
        return self.store(models)

    def detect(self, text: str, spans: list[tuple[str, int, int]] | None = None,
               intent: str | None = None, current: str | None = None) -> str | None:
        """fr, ar, ary, ary_latn, or None when the message gives no clue (normalised text).

        `current` is the conversation's language so far: when the classifier hesitates between
        French and Darija on a Latin-script message, the conversation keeps its language if it is
        in Latin script too, and otherwise takes the classifier's best guess, since a person who
        writes in Latin letters must not be answered in Arabic script ("Bonjour" after "السلام").
        Likewise an Arabic-script message the classifier cannot place between MSA and Darija
        leaves an Arabic-script conversation in its variety ("شكرا" after "بغيت موعد").
        """
        choice = explicit_choice(text, asked=intent == "choose_language")
        if choice:
            return choice
        signal = signal_text(text, spans or [])
        if not signal:
            return None
        script = detect_script(signal)
        if script == "mixed":
            arabic = sum(1 for c in signal if "\u0600" <= c <= "\u06ff")
            latin = sum(1 for c in signal if c.isascii() and c.isalpha())
            script = "arabic" if arabic >= latin else "latin"
            signal = " ".join(w for w in signal.split() if detect_script(w) == script)
        if script not in PAIRS:
            return None
        model = self.models.get(script)
        if model is None:
            return PAIRS[script][0]
        words = signal.split()
        # A hesitation on Latin script still leaves an Arabic-script conversation, except for a
        # bare answer to a question (a name typed in Latin letters is no change of language).
        switch = script == "latin" and current in ARABIC_SCRIPT_VARIETIES and intent != "inform"
        if script == "latin" and len(words) <= SHORT_LATIN_WORDS:
            # One or two Latin words ("Salma Benali", "ok merci") rarely tell French from Darija;
            # only words Darija alone uses do.
            if len(set(words) & _ARY_LATN_WORDS) >= 2 and not set(words) & _FR_WORDS:
                return "ary_latn"
            if current in LATIN_SCRIPT_VARIETIES:
                # One word no French speaker types moves a French conversation ("chno hiya",
                # "wakha"; "salam" and "fin" are French too).
                if set(words) & _ARY_LATN_ONLY and not set(words) & _FR_WORDS:
                    return "ary_latn"
                # Darija borrows French words all the time ("bonjour", "merci", "d'accord"): one
                # or two of them are code-switching, not a move from Darija to French.
                return None
            language, probability = model.predict(signal)
            return language if probability >= SHORT_LATIN_CONFIDENCE or switch else None
        if script == "latin" and intent == "inform" and len(words) <= BARE_ANSWER_WORDS:
            # A bare answer to a question (a name, a city, "lundi 10h") says who the person is or
            # what they want, not which language they speak: "Salma Benali" is no switch to Darija.
            return None
        if script == "arabic" and current in ARABIC_SCRIPT_VARIETIES and len(words) <= SHORT_ARABIC_WORDS:
            # One or two Arabic-script words ("تمويل", "شكرا", "في المغرب") are mostly shared by MSA
            # and Darija (the Darija buttons say "تمويل" too): only a word one variety alone uses
            # ("واخا", "نعم") moves the conversation.
            darija, msa = bool(set(words) & _ARY_MARKERS), bool(set(words) & _AR_MARKERS)
            return "ary" if darija and not msa else "ar" if msa and not darija else None
        language, probability = model.predict(signal)
        if script == "latin" and probability < float(self._config["latin_threshold"]):
            # The classifier hesitates (greetings are shared by French and Darija); several
            # words only Darija uses and no French one still settle it ("salam khoya labas").
            words = set(signal.split())
            if len(words & _ARY_LATN_WORDS) >= 2 and not words & _FR_WORDS:
                return "ary_latn"
            return language if switch else None
        if (script == "arabic" and current in ARABIC_SCRIPT_VARIETIES
                and probability < float(self._config["arabic_threshold"])):
            return None
        return language

    @staticmethod
    def _intent(message: Message) -> str | None:
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if intent == "nlu_fallback":
            ranking = message.get(INTENT_RANKING_KEY) or []
            intent = next((r.get(INTENT_NAME_KEY) for r in ranking if r.get(INTENT_NAME_KEY) != "nlu_fallback"), None)
        return intent

    def process(self, messages: list[Message], tracker: DialogueStateTracker | None = None) -> list[Message]:
        # Rasa's recipe passes the conversation's tracker to a `process` that names it (None when
        # a message is parsed outside a conversation).
        current = tracker.get_slot("language") if tracker is not None else None
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text or is_payload(text):
                continue
            language = self.detect(text, message.get(ENTITY_SPANS), self._intent(message), current)
            if language:
                entity = {"entity": "language", "value": language, "start": 0, "end": 0,
                          "confidence": 1.0, "extractor": self.__class__.__name__}
                message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
        return messages


ARABIC_SCRIPT_VARIETIES = ("ar", "ary")
LATIN_SCRIPT_VARIETIES = ("fr", "ary_latn")

# Latin-script answers to a form's question this short carry no language (see `detect`).
BARE_ANSWER_WORDS = 3
SHORT_LATIN_WORDS = 2
SHORT_LATIN_CONFIDENCE = 0.9
SHORT_ARABIC_WORDS = 2

# Words only Darija uses, and common French words: the guess of `detect_language`, for callers
# that have no model at hand (the WhatsApp channel guessing from a caption or a profile name).
_ARY_WORDS = {"بغيت", "واش", "شنو", "فين", "ديال", "دابا", "عافاك", "كيفاش", "كاين", "كاينه", "بزاف", "خويا",
              "مزيان", "واخا", "صافي", "شحال", "علاش", "ديالي"}
_ARY_LATN_WORDS = {"salam", "slm", "bghit", "bghyt", "wach", "chno", "fin", "dyal", "daba", "3afak", "afak",
                   "kifach", "kayn", "bzaf", "khoya", "mzyan", "wakha", "safi", "ch7al", "3lach", "dyali", "labas",
                   "ahlan", "chokran", "choukran", "ana", "nta"}
# In a short Arabic-script message, words only Darija uses and words only MSA uses (normalised).
_ARY_MARKERS = frozenset(normalize(w) for w in (*_ARY_WORDS, "اه", "إيه", "ايوا", "بسلامة", "فابور", "مرسي", "عفاك",
                                               "ماشي", "والو", "زوين", "بغيتي", "كنبغي", "ديالك", "هادشي", "شي"))
_AR_MARKERS = frozenset(normalize(w) for w in ("نعم", "حسنا", "أريد", "أود", "هل", "ماذا", "لماذا", "أين", "جزيلا",
                                              "وداعا", "لست", "ليس", "هذا", "هذه", "الذي", "التي", "سوف", "أيضا",
                                              "بالتأكيد"))
_ARY_LATN_ONLY = {"bghit", "bghyt", "bghyna", "wach", "chno", "chnou", "achno", "dyal", "dyali", "dyalek", "3afak",
                  "kifach", "bzaf", "khoya", "mzyan", "mzyana", "wakha", "ch7al", "chhal", "3lach", "kayna", "fabor",
                  "bslama", "hadchi", "chkon", "chkoun", "achkon", "nta", "nti", "ntouma", "ntoma", "3ndi", "3andi",
                  "3ndek", "imta", "fach", "mnin", "daba", "labas", "kifash", "wash", "shno", "bghina", "khasni",
                  "khassni", "n9der", "t9der", "3awni", "3awnni"}
_FR_WORDS = {"bonjour", "salut", "bonsoir", "je", "vous", "quels", "quel", "services", "merci", "est", "les",
             "des", "une", "pour", "avec", "oui", "non"}


def detect_language(text: str) -> str | None:
    """A guess without the trained model: explicit choice, script and a few telltale words."""
    norm = normalize(text)
    choice = explicit_choice(norm, asked=False)
    if choice:
        return choice
    words = set(tokens(norm))
    script = detect_script(norm)
    if script == "arabic":
        return "ary" if words & _ARY_WORDS else "ar"
    if script == "latin":
        darija, french = len(words & _ARY_LATN_WORDS), len(words & _FR_WORDS)
        if darija and darija >= french:
            return "ary_latn"
        if french:
            return "fr"
    return None
