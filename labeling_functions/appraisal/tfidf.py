"""Transform-only TF-IDF features of the appraisal classifier, equal (bit for bit) to the fitted sklearn
`TfidfVectorizer.transform` of its word and char_wb vectorizers, several times faster.

sklearn's char_wb analyzer builds every 2–5-gram of every word of every document in Python; most are not
in the (enISEAR-sized) vocabulary. Here each distinct word's in-vocabulary n-grams are found once and
kept for the process (`CharGrams`), a document's counts are (document × word counts) @ (word × n-gram
counts), and the word 1–2-grams are looked up once per document. Counts are then weighted exactly as
`TfidfTransformer.transform` does (sublinear tf, idf by column, `sklearn.preprocessing.normalize`), on
the same sorted CSR layout, so the matrices and every score computed from them are identical.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize


def char_wb_grams(word: str, low: int, high: int) -> list[str]:
    """The char_wb n-grams (low ≤ n ≤ high) of one word, as sklearn's `_char_wb_ngrams` lists them."""
    padded = f" {word} "
    size = len(padded)
    out = []
    for n in range(low, high + 1):
        offset = 0
        out.append(padded[:n])
        while offset + n < size:
            offset += 1
            out.append(padded[offset:offset + n])
        if offset == 0:  # a word shorter than n is counted once
            break
    return out


class CharGrams:
    """word → column indices of its in-vocabulary char_wb n-grams (with repeats), memoised per word."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vocabulary = vectorizer.vocabulary_
        self.low, self.high = vectorizer.ngram_range
        self.memo: dict[str, list[int]] = {}

    def __call__(self, word: str) -> list[int]:
        """The column indices of `word`'s n-grams that are in the vocabulary."""
        found = self.memo.get(word)
        if found is None:
            vocabulary = self.vocabulary
            found = [vocabulary[g] for g in char_wb_grams(word, self.low, self.high) if g in vocabulary]
            self.memo[word] = found
        return found


def _weighted(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """`TfidfTransformer.transform` with sublinear_tf, idf and l2 norm, on a count matrix."""
    x = counts.astype(np.float64, copy=False)
    x.sort_indices()
    np.log(x.data, x.data)
    x.data += 1.0
    x.data *= idf[x.indices]
    return normalize(x, norm="l2", copy=False)


def _counts(rows: Sequence[int] | np.ndarray, cols: Sequence[int] | np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)  # duplicates summed


def transform(docs: Sequence[str], word: TfidfVectorizer, char: CharGrams, char_idf: np.ndarray) -> sp.csr_matrix:
    """[word 1–2-gram TF-IDF | char_wb TF-IDF] of whitespace-tokenised `docs` (the classifier's
    `normalise` output), equal to `sp.hstack([word.transform(docs), char_vectorizer.transform(docs)])`."""
    vocabulary, word_ids = word.vocabulary_, {}
    occ_doc, occ_word, gram_doc, gram_col = [], [], [], []
    for i, doc in enumerate(docs):
        tokens = doc.split()
        occ_doc += [i] * len(tokens)
        occ_word += [word_ids.setdefault(t, len(word_ids)) for t in tokens]
        for a, b in zip(tokens, tokens[1:]):
            j = vocabulary.get(f"{a} {b}")
            if j is not None:
                gram_doc.append(i)
                gram_col.append(j)
    words = list(word_ids)
    n, n_words = len(docs), len(words)
    occ_doc_a, occ_word_a = np.asarray(occ_doc, dtype=np.int64), np.asarray(occ_word, dtype=np.int64)
    unigram = np.array([vocabulary.get(w, -1) for w in words], dtype=np.int64)[occ_word_a]
    known = unigram >= 0
    word_counts = _counts(np.concatenate([occ_doc_a[known], np.asarray(gram_doc, dtype=np.int64)]),
                          np.concatenate([unigram[known], np.asarray(gram_col, dtype=np.int64)]), (n, len(word.idf_)))
    grams = [char(w) for w in words]
    by_word = _counts(np.repeat(np.arange(n_words), np.array([len(g) for g in grams], dtype=np.int64)),
                      [j for g in grams for j in g], (n_words, len(char_idf)))
    char_counts = (_counts(occ_doc_a, occ_word_a, (n, n_words)) @ by_word).tocsr()
    return sp.hstack([_weighted(word_counts, word.idf_), _weighted(char_counts, char_idf)], format="csr")
