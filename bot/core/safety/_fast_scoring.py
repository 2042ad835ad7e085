"""The safety classifiers' probabilities without the per-message overhead of sklearn's wrappers.

For one message, `Pipeline.predict_proba` spent more time around the arithmetic than in
it (profiled at 7 ms a message for both models): `FeatureUnion` dispatches each block of
features through joblib, the two models compute the same character and word n-gram blocks
twice (both vectorisers were fitted on the same texts with the same settings, so they are
equal), and the logistic regression multiplies by its transposed coefficient matrix, a
copy of 3 x 200,000 numbers made again for every call. Here each distinct block is
computed once per batch, the blocks are stacked as `FeatureUnion` stacks them, and the
regression uses a transposed copy made once. sklearn 1.1's TF-IDF step also rebuilt its
whole idf vector (200,000 numbers) from a diagonal matrix on every call, only to check that
it was fitted, then multiplied by that matrix; here the idf vector is read once and each
count is scaled by its word's weight, the same product. The probabilities are the pipelines'
own (tests/bot/core/safety/test_fast_scoring.py compares them on the whole corpus).
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np
from scipy import sparse


def _same_vectoriser(a, b) -> bool:
    if type(a) is not type(b) or a.get_params() != b.get_params():
        return False
    if not hasattr(a, "vocabulary_"):  # stateless (the rules' features): equal settings suffice
        return True
    return a.vocabulary_ == b.vocabulary_ and np.array_equal(a.idf_, b.idf_)


def _plain_tfidf(block) -> bool:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return type(block) is TfidfVectorizer and block.use_idf and hasattr(block, "vocabulary_")


class FastScorer:
    """`predict_proba` of each named pipeline (FeatureUnion -> multinomial LogisticRegression)."""

    def __init__(self, pipelines: Dict[str, object]) -> None:
        self.pipelines = pipelines
        self._blocks: List[object] = []  # distinct transformers over all pipelines
        self._layout: Dict[str, List[int]] = {}  # pipeline -> indexes into _blocks, in union order
        self._models: Dict[str, Tuple[np.ndarray, np.ndarray, object]] = {}
        for name, pipeline in pipelines.items():
            union, model = pipeline.steps[0][1], pipeline.steps[-1][1]
            layout = []
            for _, transformer in union.transformer_list:
                index = next(
                    (i for i, b in enumerate(self._blocks) if _same_vectoriser(b, transformer)), None
                )
                if index is None:
                    index = len(self._blocks)
                    self._blocks.append(transformer)
                layout.append(index)
            self._layout[name] = layout
            self._models[name] = (np.ascontiguousarray(model.coef_.T), model.intercept_, model)
        self._idf = {i: b.idf_ for i, b in enumerate(self._blocks) if _plain_tfidf(b)}

    def _transform(self, index: int, texts: Sequence[str]) -> sparse.spmatrix:
        """What `self._blocks[index].transform(texts)` gives, TF-IDF without sklearn's overhead."""
        block, idf = self._blocks[index], self._idf.get(index)
        if idf is None:
            return block.transform(texts)
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.preprocessing import normalize

        # TfidfVectorizer.transform = counts, then TfidfTransformer.transform's three steps.
        features = CountVectorizer.transform(block, texts).astype(np.float64).tocsr()
        if block.sublinear_tf:
            np.log(features.data, features.data)
            features.data += 1
        features.data *= idf[features.indices]  # = features @ diag(idf), one product per entry
        return normalize(features, norm=block.norm, copy=False) if block.norm else features

    def predict_proba_many(self, names: Sequence[str], texts: Sequence[str]) -> Dict[str, np.ndarray]:
        from sklearn.utils.extmath import softmax

        computed: Dict[int, sparse.spmatrix] = {}
        out = {}
        for name in names:
            blocks = []
            for index in self._layout[name]:
                if index not in computed:
                    computed[index] = self._transform(index, texts)
                blocks.append(computed[index])
            features = sparse.hstack(blocks).tocsr()
            coef_t, intercept, model = self._models[name]
            if len(model.classes_) <= 2 or getattr(model, "multi_class", "auto") == "ovr":
                out[name] = model.predict_proba(features)  # not the shape trained here: sklearn's own way
                continue
            decision = np.asarray(features @ coef_t) + intercept
            out[name] = softmax(decision, copy=False)
        return out
