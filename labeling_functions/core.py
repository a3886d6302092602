"""What every labeling function shares: the row columns LFs read, the batch applier, test rows.

LFs are Snorkel `@labeling_function()`s over a row `x` with the annotate stage's columns
(`LF_COLUMNS`): `text`, `tokens` (spaCy tokens, whitespace dropped), `lower` (the same, lower-cased),
`neg` (1 where a token is inside a negation scope), `vad_v`/`vad_a`/`vad_d`/`vad_conf` (lexicon VAD,
nan without coverage), `padded` (" " + " ".join(lower) + " ", so a phrase is a substring test) and
`in_dialogue` (the row is a conversation turn: a question there is mostly a turn-taking move) and
`context` (a dialogue turn's previous utterances, oldest first, as the readers give them; empty elsewhere).
They never call spaCy themselves, so `apply_lfs` runs them over a whole frame at Python speed, and
the very same objects still work with Snorkel's `PandasLFApplier` (a pandas row has these attributes).

An LF's identity (what cached votes are keyed on) is its name, its declared resources and the source of
its package: `DeclaredLF`/`declared_lf` are Snorkel LFs whose data (keyword lists, patterns, labels)
is passed through Snorkel's `resources` and kept public, so `lf_identity` hashes what an LF declares
instead of reading a function's closure.
"""
from __future__ import annotations

import hashlib
import importlib
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from snorkel.labeling import LabelingFunction

from emodata.core.hashing import sha1_json

ABSTAIN = -1
LF_COLUMNS = ("text", "tokens", "lower", "neg", "vad_v", "vad_a", "vad_d", "vad_conf", "padded", "in_dialogue",
              "context")


def with_lf_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` plus the derived `padded` column, `in_dialogue` (the row is a turn of a conversation:
    its `conv_id` is set; rows without that column are not) and an empty `context` where it has none."""
    if "padded" not in frame.columns:
        frame = frame.assign(padded=[" " + " ".join(lower) + " " for lower in frame["lower"]])
    if "in_dialogue" not in frame.columns:
        dialogue = frame["conv_id"].notna().tolist() if "conv_id" in frame.columns else [False] * len(frame)
        frame = frame.assign(in_dialogue=dialogue)
    if "context" not in frame.columns:
        frame = frame.assign(context=[()] * len(frame))
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


#: The file whose code applies every LF (this module), hashed into `lf_set_identity`.
APPLIER_FILE = __file__


def source_files_sha1(modules: Sequence[str]) -> str:
    """SHA-1 over the source files of `modules` and of their sibling modules in the same package
    (an LF's keyword lists, negation rules and helpers live beside it), in a fixed order."""
    files: set[Path] = set()
    for name in modules:
        module = sys.modules.get(name) or importlib.import_module(name)
        path = Path(module.__file__).resolve()
        if name == PACKAGE:  # the whole LF package, sub-packages included
            files.update(path.parent.rglob("*.py"))
        else:
            files.update(path.parent.glob("*.py") if getattr(module, "__package__", None) else [path])
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha1()
    for path in sorted(files):
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class DeclaredLF(LabelingFunction):
    """A Snorkel `LabelingFunction` whose identity is public: `resources` (the data it declares, passed to
    `f` as keyword arguments, as Snorkel's `resources` are) and `module` (where `f` is defined)."""

    def __init__(self, name: str, f: Callable[..., int], resources: Mapping[str, Any] | None = None,
                 pre: list | None = None) -> None:
        super().__init__(name, f, resources=dict(resources or {}), pre=pre)
        self.resources: dict[str, Any] = dict(resources or {})
        self.module: str = f.__module__


def declared_lf(name: str | None = None, **resources: Any) -> Callable[[Callable[..., int]], DeclaredLF]:
    """Decorator like Snorkel's `@labeling_function(name=..., resources=...)`, giving a `DeclaredLF`."""
    def wrap(f: Callable[..., int]) -> DeclaredLF:
        return DeclaredLF(name or f.__name__, f, resources)

    return wrap


def stable_repr(value: Any) -> str:
    """A repr that is the same in every process: compiled regexes by their full pattern, sets sorted,
    containers element by element."""
    if hasattr(value, "pattern") and hasattr(value, "flags"):
        return f"re({value.pattern!r}, {int(value.flags)})"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(stable_repr(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(stable_repr(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{stable_repr(k)}: {stable_repr(v)}" for k, v in sorted(value.items(), key=repr)) + "}"
    return repr(value)


#: The package whose source identifies an LF that declares nothing (a plain Snorkel LF).
PACKAGE = __name__.rsplit(".", 1)[0]


def lf_identity(lf: LabelingFunction) -> dict:
    """What identifies an LF's votes: its name, its declared resources and the module whose package
    source is hashed with it (a plain Snorkel LF declares nothing: its function's module in this package,
    else the whole LF package's source)."""
    if isinstance(lf, DeclaredLF):
        return {"name": lf.name, "module": lf.module,
                "resources": {k: stable_repr(v) for k, v in sorted(lf.resources.items())}}
    # A plain Snorkel LF: the module defining its function, when that is in this package (its siblings are
    # hashed with it), else the whole package. Not the whole package always: an edit to the label models or
    # the end model beside it would re-annotate every corpus for votes that cannot change.
    module = getattr(getattr(lf, "_f", None), "__module__", None) or ""
    return {"name": lf.name, "module": module if module.startswith(PACKAGE + ".") else PACKAGE, "resources": {}}


def lf_set_identity(lfs: Sequence[LabelingFunction]) -> dict:
    """Names and one SHA-1 of an LF set: every LF's identity and the source files behind them, so editing
    an LF, its keyword lists or its helpers rebuilds cached votes."""
    identities = [lf_identity(lf) for lf in lfs]
    sources = source_files_sha1(sorted({i["module"] for i in identities}))
    # this module applies the LFs and builds their input columns (`apply_lfs`, `LF_COLUMNS`): a change
    # here can change the votes of every LF, so it is part of every set's identity
    applier = hashlib.sha1(Path(APPLIER_FILE).read_bytes()).hexdigest()
    return {"names": [lf.name for lf in lfs],
            "sha1": sha1_json({"lfs": identities, "sources": sources, "applier": applier})}
