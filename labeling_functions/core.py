"""What every labeling function shares: the row columns LFs read, the batch applier, test rows.

LFs are Snorkel `@labeling_function()`s over a row `x` with the annotate stage's columns
(`LF_COLUMNS`): `text`, `tokens` (spaCy tokens, whitespace dropped), `lower` (the same, lower-cased),
`neg` (1 where a token is inside a negation scope), `vad_v`/`vad_a`/`vad_d`/`vad_conf` (lexicon VAD,
nan without coverage), `padded` (" " + " ".join(lower) + " ", so a phrase is a substring test) and
`in_dialogue` (the row is a conversation turn: a question there is mostly a turn-taking move).
They never call spaCy themselves, so `apply_lfs` runs them over a whole frame at Python speed, and
the very same objects still work with Snorkel's `PandasLFApplier` (a pandas row has these attributes).
"""
from __future__ import annotations

import hashlib
import importlib
import sys
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from snorkel.labeling import LabelingFunction

ABSTAIN = -1
LF_COLUMNS = ("text", "tokens", "lower", "neg", "vad_v", "vad_a", "vad_d", "vad_conf", "padded", "in_dialogue")


def with_lf_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` plus the derived `padded` column and `in_dialogue` (the row is a turn of a conversation:
    its `conv_id` is set; rows without that column are not)."""
    if "padded" not in frame.columns:
        frame = frame.assign(padded=[" " + " ".join(lower) + " " for lower in frame["lower"]])
    if "in_dialogue" not in frame.columns:
        dialogue = frame["conv_id"].notna().tolist() if "conv_id" in frame.columns else [False] * len(frame)
        frame = frame.assign(in_dialogue=dialogue)
    return frame


def apply_lfs(frame: pd.DataFrame, lfs: Sequence[LabelingFunction],
              progress: Callable[[int], None] | None = None, chunk: int = 5000) -> np.ndarray:
    """The label matrix L (rows × LFs, `ABSTAIN` = -1) of `lfs` over an annotated frame."""
    frame = with_lf_columns(frame)
    matrix = np.full((len(frame), len(lfs)), ABSTAIN, dtype=np.int64)
    columns = frame[list(LF_COLUMNS)]
    for start in range(0, len(frame), chunk):
        rows = columns.iloc[start:start + chunk].itertuples(index=False, name="Row")
        for i, row in enumerate(rows, start):
            for j, lf in enumerate(lfs):
                matrix[i, j] = lf(row)
        if progress is not None:
            progress(min(chunk, len(frame) - start))
    return matrix


def annotate_texts(texts: Sequence[str], lexicon=None, negation: str = "on") -> pd.DataFrame:
    """Rows for LFs from raw texts, through the real annotate stage (default lexicon: nrclex proxy)."""
    from emodata.annotate import annotate_frame, make_annotator
    from emodata.text.lexicon import load_lexicon
    from emodata.text.nlp import load_pipeline

    annotator = make_annotator(load_pipeline(), lexicon if lexicon is not None else load_lexicon(None), negation)
    records = pd.DataFrame({"id": [f"t{i}" for i in range(len(texts))], "text": list(texts)})
    return with_lf_columns(annotate_frame(records, annotator))


def source_files_sha1(modules: Sequence[str]) -> str:
    """SHA-1 over the source files of `modules` and of their sibling modules in the same package
    (an LF's keyword lists, negation rules and helpers live beside it), in a fixed order."""
    files: set[Path] = set()
    for name in modules:
        module = sys.modules.get(name) or importlib.import_module(name)
        path = Path(module.__file__).resolve()
        files.update(path.parent.glob("*.py") if getattr(module, "__package__", None) else [path])
    digest = hashlib.sha1()
    for path in sorted(files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
