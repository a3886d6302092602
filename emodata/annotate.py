"""The annotate stage: tokens, lexicon VAD, coverage and rationale for a batch of reader records.

`annotate_frame` is a pure function of (records, annotator) so it runs the same in-process or per
partition. `Annotator` bundles what the stage needs and describes itself for cache keys/manifests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from .hashing import normalize_text, sha1_json, sha1_text
from .lemma import LexiconLookup, candidate_function
from .lexicon import Lexicon
from .nlp import Pipeline, tokenize
from .vad import EPSILON, TokenAdjuster, score_utterance

#: Bump when the annotate logic changes, so cached annotations are rebuilt.
ANNOTATE_VERSION = "1"

ANNOTATED_COLUMNS = ("tokens", "n_tokens", "n_content", "n_covered", "vad_v", "vad_a", "vad_d",
                     "vad_conf", "rationale", "dedup_key", "text_key")


def dedup_key(text: str, record_id: str) -> str:
    """The paper's de-duplication key sha1(text ‖ id)."""
    return sha1_text(text + "\u2016" + record_id)


def text_key(text: str) -> str:
    """Key for exact-text duplicates: SHA-1 of the whitespace-normalised, case-folded text."""
    return sha1_text(normalize_text(text))


@dataclass
class Annotator:
    """The annotate stage's parts: spaCy pipeline, lexicon lookup and optional token adjuster."""

    pipeline: Pipeline
    lexicon: Lexicon
    epsilon: float = EPSILON
    adjust: TokenAdjuster | None = None
    adjust_name: str = "none"
    lookup: LexiconLookup = field(init=False)

    def __post_init__(self) -> None:
        self.lookup = LexiconLookup(self.lexicon, candidate_function(self.pipeline))

    def describe(self) -> dict:
        """Everything that changes annotations: hashed into cache keys and recorded in manifests."""
        return {"version": ANNOTATE_VERSION, "pipeline": self.pipeline.describe(),
                "lexicon": self.lexicon.describe(), "epsilon": self.epsilon, "adjust": self.adjust_name}

    def key(self) -> str:
        """SHA-1 of `describe()`."""
        return sha1_json(self.describe())


def annotate_frame(records: pd.DataFrame, annotator: Annotator,
                   progress: Callable[[int], None] | None = None, batch_size: int = 2000) -> pd.DataFrame:
    """Add token and VAD columns to reader records (rows are never dropped here)."""
    columns: dict[str, list] = {name: [] for name in ANNOTATED_COLUMNS}
    texts = records["text"].tolist()
    for i, tokens in enumerate(tokenize(annotator.pipeline, texts, batch_size=batch_size)):
        scored = score_utterance(tokens, annotator.lookup, annotator.adjust, annotator.epsilon)
        columns["tokens"].append(list(tokens.words))
        columns["n_tokens"].append(tokens.n_words)
        columns["n_content"].append(scored.n_content)
        columns["n_covered"].append(scored.n_covered)
        columns["vad_v"].append(scored.v)
        columns["vad_a"].append(scored.a)
        columns["vad_d"].append(scored.d)
        columns["vad_conf"].append(scored.conf)
        columns["rationale"].append(scored.rationale)
        if progress is not None and (i + 1) % batch_size == 0:
            progress(batch_size)
    if progress is not None:
        progress(len(texts) % batch_size)
    ids = records["id"].tolist()
    columns["dedup_key"] = [dedup_key(t, i) for t, i in zip(texts, ids)]
    columns["text_key"] = [text_key(t) for t in texts]
    out = records.reset_index(drop=True).copy()
    for name in ANNOTATED_COLUMNS:
        out[name] = columns[name]
    return out
