"""Intent classifier: a linear model on character and word n-grams of the normalised text.

Why not DIET: the training set is ~6,000 short messages in four varieties, much of it Arabizi
with free spelling; character n-grams with TF-IDF and a linear SVM learn it in seconds, answer in
well under a millisecond and generalise to unseen spellings at least as well. Places and
programme names found by GazetteerEntityExtractor are replaced by a placeholder, so that "fin
kayna anapec f __city__" is learnt once for every city, and a bare "__city__" is `inform`.

Confidences are the SVM scores through a softmax whose temperature is fitted on out-of-fold
scores of the training data (so that FallbackClassifier's threshold reads as a probability).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

import numpy as np
import scipy.sparse as sp
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from bot.components.gazetteer import ENTITY_SPANS
from bot.components.linear import LinearScorer
from bot.components.normalizer import ORIGINAL_TEXT, code_fingerprint, is_payload
from bot.components.stored import StoredComponent

logger = logging.getLogger(__name__)
EMPTY = "__empty__"
PLACEHOLDER = {"city": " __city__ ", "program": " __program__ ", "appointment_ref": " __ref__ "}


def classifier_text(message: Message) -> str:
    """The text the classifier reads: normalised, names replaced by placeholders, plus the
    symbols normalisation drops but which carry meaning (emojis, a question mark)."""
    text = message.get(TEXT) or ""
    spans = message.get(ENTITY_SPANS) or []
    for kind, start, end in sorted(spans, key=lambda s: -s[1]):
        text = text[:start] + PLACEHOLDER.get(kind, " ") + text[end:]
    text = " ".join(text.split())
    original = message.get(ORIGINAL_TEXT) or ""
    symbols = []
    for char in original:
        if char in "?؟":
            symbols.append("__q__")
        elif unicodedata.category(char) == "So":
            symbols.append(f"__sym{ord(char):x}__")
    extra = " ".join(dict.fromkeys(symbols))
    if not text and extra == "__q__":
        # A bare "?" asks nothing in particular (it was read as "are you a bot?"): as empty.
        return EMPTY
    return " ".join(part for part in (text, extra) if part) or EMPTY


def _word_tokens(text: str) -> list[str]:
    return text.replace("'", " ").split()


_ARABIC = re.compile("[\u0600-\u06ff]")
_VOWELS = re.compile("[aeiouy]")
_DOUBLES = re.compile(r"(.)\1+")
_FINAL_TAA = re.compile("ه$")
# Arabic letters (after ge_text.normalize) to the Latin letters and digits Arabizi writes them
# with; emphatics fold into their plain counterparts as they do in Arabizi.
_TRANSLIT = str.maketrans({
    "ا": "a", "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "7", "خ": "5", "د": "d", "ذ": "d", "ر": "r",
    "ز": "z", "س": "s", "ش": "C", "ص": "s", "ض": "d", "ط": "t", "ظ": "d", "ع": "3", "غ": "8", "ف": "f",
    "ق": "9", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "و": "w", "ي": "y", "ء": "",
})


def _skeleton_word(word: str) -> str:
    if word.startswith("__"):
        return word
    if _ARABIC.search(word):
        # Taa marbuta (normalised to ه) is the "a" Arabizi ends words with: خدمه ~ khedma.
        word = _FINAL_TAA.sub("", word).translate(_TRANSLIT)
    else:
        for digraph, letter in (("sh", "C"), ("ch", "C"), ("ou", "w"), ("kh", "5"), ("gh", "8"), ("q", "9"),
                                ("2", "")):
            word = word.replace(digraph, letter)
    return _DOUBLES.sub(r"\1", _VOWELS.sub("", word)) or "_"


def skeleton(text: str) -> str:
    """Consonant skeleton shared by Darija in both scripts: "بغيت ناخد موعد", "bghit nakhod
    maw3id" and "bghyt nakhd mow3id" all read "b8t n5d mw3d". Short vowels are unwritten in
    Arabic and spelt at will in Arabizi, so the skeleton lets the Arabic-script and the
    Latin-script examples teach each other."""
    return " ".join(_skeleton_word(w) for w in text.replace("'", " ").split())


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class GEIntentClassifier(StoredComponent, IntentClassifier):
    """Linear SVM on TF-IDF character n-grams (within words) and word uni/bigrams."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "char_ngram_range": [1, 5],
            "word_ngram_range": [1, 2],
            "C": 1.0,
            "class_weight": "balanced",
            # Folds for the out-of-fold scores that fit the softmax temperature.
            "calibration_folds": 3,
            "ranking_length": 10,
            "random_seed": 0,
        }

    STATE_FILE = "intent_classifier.joblib"
    WITHOUT_STATE = "predicting nothing"

    def use_state(self, state: dict[str, Any] | None) -> None:
        self._model = state
        self._scorer = self._build_scorer(state)

    @staticmethod
    def _build_scorer(model: dict[str, Any] | None) -> LinearScorer | None:
        if not model:
            return None
        svm = model["svm"]
        return LinearScorer(model["vectorizers"], svm.coef_, svm.intercept_, svm.classes_)

    # Training ---------------------------------------------------------------------------------

    def _vectorizers(self) -> list[TfidfVectorizer]:
        return [
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=tuple(self._config["char_ngram_range"]),
                sublinear_tf=True,
                dtype=np.float32,
            ),
            TfidfVectorizer(
                analyzer="word",
                tokenizer=_word_tokens,
                token_pattern=None,
                lowercase=False,
                ngram_range=tuple(self._config["word_ngram_range"]),
                sublinear_tf=True,
                dtype=np.float32,
            ),
            TfidfVectorizer(
                analyzer="char_wb",
                preprocessor=skeleton,
                ngram_range=(2, 4),
                sublinear_tf=True,
                dtype=np.float32,
            ),
        ]

    def _fit(self, texts: list[str], labels: np.ndarray) -> tuple[list[TfidfVectorizer], LinearSVC]:
        vectorizers = self._vectorizers()
        features = sp.hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
        svm = LinearSVC(C=self._config["C"], class_weight=self._config["class_weight"],
                        random_state=self._config["random_seed"])
        svm.fit(features, labels)
        return vectorizers, svm

    @staticmethod
    def _scores(vectorizers: list[TfidfVectorizer], svm: LinearSVC, texts: list[str]) -> np.ndarray:
        features = sp.hstack([v.transform(texts) for v in vectorizers]).tocsr()
        return svm.decision_function(features)

    def _temperature(self, texts: list[str], labels: np.ndarray) -> float:
        """The softmax scale that best predicts out-of-fold labels (maximum likelihood)."""
        folds = int(self._config["calibration_folds"])
        _, counts = np.unique(labels, return_counts=True)
        if folds < 2 or counts.min() < folds:
            return 5.0
        scores = np.zeros((len(texts), len(np.unique(labels))), dtype=np.float64)
        splitter = StratifiedKFold(folds, shuffle=True, random_state=self._config["random_seed"])
        for train_index, test_index in splitter.split(texts, labels):
            vectorizers, svm = self._fit([texts[i] for i in train_index], labels[train_index])
            scores[test_index] = self._scores(vectorizers, svm, [texts[i] for i in test_index])
        classes = np.unique(labels)
        target = np.searchsorted(classes, labels)

        def nll(scale: float) -> float:
            z = scores * scale
            z -= z.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return float(-log_p[np.arange(len(target)), target].mean())

        return float(minimize_scalar(nll, bounds=(0.1, 50.0), method="bounded").x)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT) is not None]
        if len({m.get(INTENT) for m in examples}) < 2:
            logger.warning("GEIntentClassifier: fewer than two intents, nothing to learn")
            return self._resource
        texts = [classifier_text(m) for m in examples]
        labels = np.array([m.get(INTENT) for m in examples])
        temperature = self._temperature(texts, labels)
        vectorizers, svm = self._fit(texts, labels)
        logger.info("GEIntentClassifier: %d examples, softmax temperature %.2f", len(texts), temperature)
        return self.store({"vectorizers": vectorizers, "svm": svm, "temperature": temperature})

    # Prediction -------------------------------------------------------------------------------

    def predict_proba(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        """Classes and their probabilities for each text (used by the component and the bench)."""
        assert self._scorer is not None and self._model is not None
        z = np.array([self._scorer.scores(text) for text in texts]) * self._model["temperature"]
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return self._scorer.classes, p / p.sum(axis=1, keepdims=True)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and is_payload(text):
                # A button payload names its intent ("/inform{...}"): Rasa's RegexMessageHandler
                # applies it at the end of the pipeline, but the components in between
                # (FallbackClassifier) need an intent to be set, so give them that one.
                name = text[1:].split("{", 1)[0].split("@", 1)[0].strip()
                prediction = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, prediction, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [prediction], add_to_output=True)
        todo = [m for m in messages if self._scorer and isinstance(m.get(TEXT), str) and not is_payload(m.get(TEXT))]
        if not todo:
            return messages
        classes, probabilities = self.predict_proba([classifier_text(m) for m in todo])
        n = int(self._config["ranking_length"])
        for message, p in zip(todo, probabilities, strict=True):
            order = np.argsort(-p)[: n if n > 0 else len(p)]
            ranking = [{INTENT_NAME_KEY: str(classes[i]), PREDICTED_CONFIDENCE_KEY: float(p[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        return code_fingerprint()
