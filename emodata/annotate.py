"""The annotate stage: tokens, negation scope, lexicon VAD, coverage, rationale, emotion LF votes and
appraisal LF votes for a batch of reader records.

`annotate_frame` is a pure function of (records, annotator) so it runs the same in-process or per
partition. `Annotator` bundles what the stage needs and describes itself for cache keys/manifests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterator, Sequence

from typing import TYPE_CHECKING

import pandas as pd

from emodata.core.hashing import normalize_text, sha1_json, sha1_text
from emodata.text.lemma import LexiconLookup, candidate_function
from emodata.text.lexicon import Lexicon
from emodata.text.negation import adjust_with_depth
from emodata.text.negation_parse import NegationScoper
from emodata.text.nlp import Pipeline, Tokens, tokenize
from emodata.text.vad import EPSILON, UtteranceVad, score_utterance

if TYPE_CHECKING:
    from snorkel.labeling import LabelingFunction

#: Bump when the annotate logic changes, so cached annotations are rebuilt.
ANNOTATE_VERSION = "5"

#: `tokens`/`lower` are the spaCy tokens (whitespace dropped) and `neg` marks tokens inside an odd
#: number of negation scopes: the columns labeling functions read instead of calling spaCy per row.
ANNOTATED_COLUMNS = ("tokens", "lower", "neg", "n_tokens", "n_content", "n_covered", "vad_v", "vad_a", "vad_d",
                     "vad_conf", "rationale", "dedup_key", "text_key")


def dedup_key(text: str, record_id: str) -> str:
    """The paper's de-duplication key sha1(text ‖ id)."""
    return sha1_text(text + "\u2016" + record_id)


def text_key(text: str) -> str:
    """Key for exact-text duplicates: SHA-1 of the whitespace-normalised, case-folded text."""
    return sha1_text(normalize_text(text))


@dataclass
class Annotator:
    """The annotate stage's parts: spaCy pipeline, lexicon, negation handling and the emotion LFs.

    `negation` ("on"/"off") switches the negation/intensifier VAD adjustment (the ablation);
    `scope` ("window"/"parse") picks the negation scope method (emodata/negation.py,
    emodata/negation_parse.py) used both for that adjustment and for the `neg` column LFs read;
    `lfs` are the emotion labeling functions whose votes are stored per row (`emotion_votes`), and
    `appraisal_lfs` the appraisal-atom LFs (`appraisal_votes`, atoms in catalog order), so label
    models can be fit later, and applied per partition, without re-reading text.
    """

    pipeline: Pipeline
    lexicon: Lexicon
    epsilon: float = EPSILON
    negation: str = "on"
    scope: str = "window"
    lfs: Sequence[LabelingFunction] = ()
    appraisal_lfs: Sequence[LabelingFunction] = ()
    lookup: LexiconLookup = field(init=False)
    scoper: NegationScoper = field(init=False)

    def __post_init__(self) -> None:
        if self.negation not in ("on", "off"):
            raise ValueError(f"negation must be 'on' or 'off', not {self.negation!r}")
        self.lookup = LexiconLookup(self.lexicon, candidate_function(self.pipeline))
        self.scoper = NegationScoper(self.pipeline, self.scope)

    def describe(self) -> dict:
        """Everything that changes annotations: hashed into cache keys and recorded in manifests."""
        return {"version": ANNOTATE_VERSION, "pipeline": self.pipeline.describe(),
                "lexicon": self.lexicon.describe(), "epsilon": self.epsilon,
                "adjust": self.scoper.name if self.negation == "on" else "none",
                "negation_scope": self.scoper.describe(), "lfs": lf_set_describe(self.lfs),
                "appraisal_lfs": lf_set_describe(self.appraisal_lfs)}

    def key(self) -> str:
        """SHA-1 of `describe()`."""
        return sha1_json(self.describe())


def lf_set_describe(lfs: Sequence[LabelingFunction]) -> dict:
    """Names and a hash of an LF set, so editing an LF or its data rebuilds cached votes: each LF's
    declared resources and the source files of the packages defining the LFs
    (`labeling_functions.core.lf_set_identity`)."""
    from labeling_functions.core import lf_set_identity

    return lf_set_identity(lfs)


def make_annotator(pipeline: Pipeline, lexicon: Lexicon, negation: str = "on", scope: str = "window",
                   lfs: Sequence[LabelingFunction] = (),
                   appraisal_lfs: Sequence[LabelingFunction] = ()) -> Annotator:
    """The build's annotator (see `Annotator`)."""
    return Annotator(pipeline, lexicon, negation=negation, scope=scope, lfs=tuple(lfs),
                     appraisal_lfs=tuple(appraisal_lfs))


def annotate_frame(records: pd.DataFrame, annotator: Annotator,
                   progress: Callable[[int], None] | None = None, batch_size: int = 2000) -> pd.DataFrame:
    """Add token, negation, VAD and LF-vote columns to reader records (rows are never dropped here).

    Row-wise: annotating a frame in pieces and concatenating gives the whole-frame result.
    """
    columns: dict[str, list] = {name: [] for name in ANNOTATED_COLUMNS}
    texts = records["text"].tolist()
    for batch in score_batches(texts, annotator, batch_size):
        for tokens, depth, scored in batch:
            columns["tokens"].append(list(tokens.words))
            columns["lower"].append(list(tokens.lower))
            columns["neg"].append([d % 2 for d in depth])
            columns["n_tokens"].append(tokens.n_words)
            columns["n_content"].append(scored.n_content)
            columns["n_covered"].append(scored.n_covered)
            columns["vad_v"].append(scored.v)
            columns["vad_a"].append(scored.a)
            columns["vad_d"].append(scored.d)
            columns["vad_conf"].append(scored.conf)
            columns["rationale"].append(scored.rationale)
        if progress is not None:
            progress(len(batch))
    ids = records["id"].tolist()
    columns["dedup_key"] = [dedup_key(t, i) for t, i in zip(texts, ids)]
    columns["text_key"] = [text_key(t) for t in texts]
    out = records.reset_index(drop=True).copy()
    for name in ANNOTATED_COLUMNS:
        out[name] = columns[name]
    if annotator.lfs or annotator.appraisal_lfs:
        from labeling_functions.core import apply_lfs

        # One pass over the rows for both LF families; each row keeps its votes as a small int8 vector.
        matrix = apply_lfs(out, [*annotator.lfs, *annotator.appraisal_lfs]).astype("int8")
        n = len(annotator.lfs)
        if annotator.lfs:
            out["emotion_votes"] = list(matrix[:, :n])
        if annotator.appraisal_lfs:
            out["appraisal_votes"] = list(matrix[:, n:])
    return out


def score_batches(texts: Sequence[str], annotator: Annotator,
                  batch_size: int = 2000) -> Iterator[list[tuple[Tokens, list[int], UtteranceVad]]]:
    """Per batch of `batch_size` texts: each text's tokens, negation depth per token and lexicon VAD, as the
    annotate stage computes them (`annotate_frame`'s rows; the flip stage re-scores its rewrites with it)."""
    tokenized = tokenize(annotator.pipeline, texts, batch_size=batch_size)
    for start in range(0, len(texts), batch_size):
        batch_texts = texts[start:start + batch_size]
        batch = [next(tokenized) for _ in batch_texts]
        out = []
        for tokens, depth in zip(batch, annotator.scoper.depths(batch_texts, batch)):
            negated = [d % 2 == 1 for d in depth] if annotator.negation == "on" else None
            adjust = partial(adjust_with_depth, depth=depth) if negated is not None else None
            out.append((tokens, depth, score_utterance(tokens, annotator.lookup, adjust, annotator.epsilon, negated)))
        yield out


def annotate_texts(texts: Sequence[str], lexicon: Lexicon | None = None, negation: str = "on") -> pd.DataFrame:
    """Rows for LFs from raw texts, through the real annotate stage (default lexicon: the nrclex proxy)."""
    from labeling_functions.core import with_lf_columns
    from emodata.text.lexicon import load_lexicon
    from emodata.text.nlp import load_pipeline

    annotator = make_annotator(load_pipeline(), lexicon if lexicon is not None else load_lexicon(None), negation)
    records = pd.DataFrame({"id": [f"t{i}" for i in range(len(texts))], "text": list(texts)})
    return with_lf_columns(annotate_frame(records, annotator))
