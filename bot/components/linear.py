"""TF-IDF features and linear scores for one message at a time, without sklearn's overhead.

sklearn's `TfidfVectorizer.transform` and `decision_function` validate their inputs and build
sparse matrices on every call: about 1 ms per vectorizer for a single message, most of the time
the server spends on NLU. Both components train with sklearn and then answer with this: the same
analyzers, vocabularies and idf weights, the same sublinear tf and L2 norm per block, and a dot
product with the model's coefficients (tests check it agrees with sklearn).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class LinearScorer:
    """Scores of a fitted linear model over horizontally stacked TF-IDF blocks."""

    def __init__(self, vectorizers: Sequence[Any], coef: np.ndarray, intercept: np.ndarray,
                 classes: Sequence[str]) -> None:
        self.classes = [str(c) for c in classes]
        self._analyzers: list[Callable[[str], list[str]]] = [v.build_analyzer() for v in vectorizers]
        self._blocks: list[tuple[dict[str, int], np.ndarray, bool, int]] = []
        offset = 0
        for v in vectorizers:
            vocabulary = {str(k): int(i) for k, i in v.vocabulary_.items()}
            self._blocks.append((vocabulary, np.asarray(v.idf_, dtype=np.float64), bool(v.sublinear_tf), offset))
            offset += len(vocabulary)
        # (features, classes), so that the rows of a message's features are one gather.
        self._weights = np.ascontiguousarray(np.asarray(coef, dtype=np.float64).T)
        self._intercept = np.asarray(intercept, dtype=np.float64)

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Indices and values of the message's non-zero features."""
        indices: list[int] = []
        values: list[float] = []
        for analyzer, (vocabulary, idf, sublinear, offset) in zip(self._analyzers, self._blocks, strict=True):
            counts = Counter(analyzer(text))
            block_indices, block_values = [], []
            for term, count in counts.items():
                j = vocabulary.get(term)
                if j is None:
                    continue
                tf = 1.0 + math.log(count) if sublinear else float(count)
                block_indices.append(offset + j)
                block_values.append(tf * idf[j])
            norm = math.sqrt(sum(v * v for v in block_values))
            if norm > 0:
                indices += block_indices
                values += [v / norm for v in block_values]
        return np.array(indices, dtype=np.int64), np.array(values, dtype=np.float64)

    def scores(self, text: str) -> np.ndarray:
        """Decision values, one per class (one value for a binary model, as sklearn)."""
        indices, values = self.features(text)
        if len(indices) == 0:
            return self._intercept.copy()
        return values @ self._weights[indices] + self._intercept
