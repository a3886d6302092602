"""Negation scope as sequence labelling: a linear-chain CRF (python-crfsuite) trained on CD-SCO training.

Each (sentence, cue) pair is one sequence; every token is labelled C (cue), LI/RI (in scope, left or
right of the cue) or LO/RO (out of scope, left or right): the side in the label lets the transitions
learn that a scope is mostly one stretch on each side of its cue (5-fold CV on CD-SCO training: token
F1 0.908 against 0.904 with plain I/O labels). The token features (`emodata.text.negation_features`)
read spaCy's tags and dependency parse of the given tokens (tagger and parser only: training and use
see the same analyses). The Viterbi path's scope then goes through `complete_constituents`: a parse
subtree away from the cue that the CRF covered at least half of joins the scope whole (chosen by 5- and
10-fold CV on CD-SCO training, like every setting here). The model file
(`emodata/text/models/negation_scope.crfsuite`) is rebuilt byte-identically by `emodata negation train`
(fixed training order, L-BFGS, single thread); its SHA-1 goes in a build's manifest.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

from spacy.language import Language
from spacy.tokens import Doc

from emodata.text.cdsco import Sentence
from emodata.text.negation_cues import CueDetector, affix_shape
from emodata.text.negation_features import FEATURES_VERSION, Sentence as Parsed, token_features
from emodata.text.nlp import numpy_blas_pipeline

#: "+cc": the CRF's scope goes through `complete_constituents` (constituent completion).
MODEL_VERSION = f"cdsco-crf-{FEATURES_VERSION}+cc"
#: c2 chosen by 5-fold CV on CD-SCO training (gold-cue scope F1; 0.5: 0.901, 1: 0.903, 2: 0.907, 4: 0.908,
#: 8: 0.911, 16: 0.911; benchmarks/bench_negation_scope.py --cv).
TRAIN_PARAMS = {"c1": 0.05, "c2": 16.0, "max_iterations": 300, "feature.possible_transitions": True}
#: spaCy components the CRF does not use (features read tags and the parse only).
SKIPPED_PIPES = ("ner", "lemmatizer", "attribute_ruler")
#: What the dependency rules (emodata.text.negation_parse) need skipped: they read coarse POS.
RULE_SKIPPED_PIPES = ("ner", "lemmatizer")
#: Tokens after which an utterance is split into sentences for tagging (scopes never cross a sentence).
SENTENCE_END = frozenset({".", "!", "?", "...", "!!", "??", "?!", "!?", "!!!", "???"})


def model_path() -> Path:
    """Where the shipped CRF model lives."""
    return Path(__file__).parent / "models" / "negation_scope.crfsuite"


#: The CRF path's tagger and parser run on a numpy-BLAS copy of the pipeline (emodata.text.nlp).
scope_pipeline = numpy_blas_pipeline


def _nlp() -> Language:
    from emodata.text.nlp import load_pipeline
    return scope_pipeline(load_pipeline().nlp)


@lru_cache(maxsize=4096)
def analyse(words: tuple[str, ...], skipped: tuple[str, ...] = SKIPPED_PIPES) -> Doc:
    """spaCy's pipeline minus `skipped` over the given tokens (memoised by the token tuple)."""
    nlp = _nlp()
    doc = Doc(nlp.vocab, words=list(words))
    for name, proc in nlp.pipeline:
        if name not in skipped:
            doc = proc(doc)
    return doc


def labels_of(sent: Sentence, k: int) -> list[str]:
    """Gold labels of sentence `sent` for its k-th negation: C, or side (L/R) + in scope (I/O)."""
    neg = sent.negations[k]
    cue, scope, c0 = set(neg.cue), set(neg.scope), min(neg.cue)
    return ["C" if i in cue else ("L" if i < c0 else "R") + ("I" if i in scope else "O") for i in range(len(sent.words))]


def is_affixal_cue(words: Sequence[str], cue: Sequence[int], detector: CueDetector) -> bool:
    """Whether a one-token cue is an affix of its word: not a syntactic cue word, and shaped like an
    affixal negation (un-, in-, -less, ...). The cue is known to be one, so the detector's stem test is
    not asked: it misses given cues with unknown stems ("inadmissable", "irreproachable"). On CD-SCO
    training and development this flag equals the gold one for every instance."""
    if len(cue) != 1:
        return False
    word = words[cue[0]].lower()
    return word not in detector.words and affix_shape(word) is not None


def train_model(sentences: Sequence[Sentence], detector: CueDetector, out: Path) -> None:
    """Train the scope CRF on every negation instance of `sentences` and write it to `out`."""
    import pycrfsuite
    trainer = pycrfsuite.Trainer(verbose=False)
    for s in sentences:
        if not s.negations:
            continue
        doc = analyse(s.words)
        for k, neg in enumerate(s.negations):
            affixal = len(neg.cue) == 1 and neg.cue_parts[0].lower() != s.words[neg.cue[0]].lower()
            trainer.append(token_features(doc, neg.cue, affixal), labels_of(s, k))
    trainer.set_params(TRAIN_PARAMS)
    out.parent.mkdir(parents=True, exist_ok=True)
    trainer.train(str(out))


@lru_cache(maxsize=2)
def _tagger(path: str):
    import pycrfsuite
    tagger = pycrfsuite.Tagger()
    tagger.open(path)
    return tagger


#: Relations that `complete_constituents` leaves out at the edges of a completed constituent.
EDGE_DEPS = frozenset({"punct", "mark", "cc"})


def _nonpunct_prefix(s: Parsed, tokens: set[int] | None) -> list[int]:
    """Prefix counts of the non-punctuation tokens (of `tokens`, or of all when None)."""
    out = [0]
    for k in range(s.n):
        out.append(out[-1] + (not s.punct[k] and (tokens is None or k in tokens)))
    return out


def complete_constituents(s: Parsed, cue: Sequence[int], scope: set[int]) -> set[int]:
    """Post-CRF constituent completion: a parse subtree that does not hold the cue and whose
    non-punctuation tokens are at least half in `scope` joins it whole, less the punctuation, markers
    ("if", "that") and conjunctions at its edges that the CRF left out; repeated until nothing changes.
    The CRF cuts long constituents short (a relative clause after a comma, the rest of a complement):
    5- and 10-fold CV on CD-SCO training, gold cues, F1 0.9116 -> 0.9132 and 0.9129 -> 0.9146
    (benchmarks/RESULTS.md, issue 15)."""
    pred = set(scope)
    if not pred:
        return pred
    core, have = _nonpunct_prefix(s, None), _nonpunct_prefix(s, pred)
    spans = [(lo, hi) for lo, hi in zip(s.left, s.right) if hi > lo]  # every subtree of two tokens or more
    changed = True
    while changed:
        changed = False
        for lo, hi in spans:
            size, inside = core[hi + 1] - core[lo], have[hi + 1] - have[lo]
            if inside == size or 2 * inside < size or any(lo <= c <= hi for c in cue):
                continue
            while lo <= hi and (s.punct[lo] or s.deps[lo] in EDGE_DEPS) and lo not in pred:
                lo += 1
            while hi >= lo and (s.punct[hi] or s.deps[hi] in EDGE_DEPS) and hi not in pred:
                hi -= 1
            new = set(range(lo, hi + 1)) - pred - set(cue)
            if new:
                pred |= new
                have = _nonpunct_prefix(s, pred)
                changed = True
    return pred


def predict_scope(words: Sequence[str], cue: Sequence[int], detector: CueDetector, threshold: float | None = None,
                  path: Path | None = None) -> tuple[int, ...]:
    """Scope token indices of one cue (cue tokens excluded): the Viterbi path's LI/RI tokens, or with a
    threshold the tokens whose marginal P(LI) + P(RI) reaches it; then `complete_constituents`."""
    parsed = Parsed(analyse(tuple(words)))
    feats = token_features(parsed, cue, is_affixal_cue(words, cue, detector))
    tagger = _tagger(str(path or model_path()))
    if threshold is None:
        scope = {i for i, t in enumerate(tagger.tag(feats)) if t[-1] == "I"}
    else:
        tagger.set(feats)
        scope = {i for i in range(len(words)) if tagger.marginal("LI", i) + tagger.marginal("RI", i) >= threshold}
    return tuple(sorted(complete_constituents(parsed, cue, scope) - set(cue)))


def model_artifacts() -> dict[str, str]:
    """{file name: SHA-1} of the shipped cue lists and scope CRF (for manifests and cache keys)."""
    from emodata.core.hashing import sha1_file
    from emodata.text.negation_cues import lists_path
    return {p.name: sha1_file(p) for p in (lists_path(), model_path())}


def train_all(training_files: Sequence[Path], out_dir: Path | None = None) -> dict[str, str]:
    """Rebuild the cue lists and the scope CRF from CD-SCO training files; returns {artifact: SHA-1}."""
    from emodata.text.cdsco import read_many
    from emodata.core.hashing import sha1_file
    from emodata.text.negation_cues import CueLists, learn_cues
    out_dir = out_dir or model_path().parent
    sentences = read_many(training_files)
    lists = learn_cues(sentences)
    cue_path = out_dir / "negation_cues.json"
    out_dir.mkdir(parents=True, exist_ok=True)
    cue_path.write_text(lists.to_json(), encoding="utf-8")
    crf_path = out_dir / model_path().name
    train_model(sentences, CueDetector(CueLists.from_json(lists.to_json())), crf_path)
    return {str(p): sha1_file(p) for p in (cue_path, crf_path)}


#: Which CRF scope tokens the VAD mirrors and the `neg` column marks: "all" of the CD-SCO scope, the
#: part "right" of the cue (subjects unmirrored), or "near": right of the cue and at most NEAR tokens
#: after it. Chosen by EmoBank train+dev r(V), NRC-VAD v1: near 0.5526, all 0.5515, right 0.5496
#: (benchmarks/RESULTS.md, issue 15).
MIRROR = "near"


def _mirrored(i: int, cue: Sequence[int], mirror: str) -> bool:
    if mirror == "all":
        return True
    if mirror == "right":
        return i > max(cue)
    return max(cue) < i <= max(cue) + NEAR


#: "near": scope tokens at most this many tokens after the cue.
NEAR = 6


def sentence_spans(words: Sequence[str]) -> list[tuple[int, int]]:
    """[start, end) spans of the sentences of a token list: a run of `SENTENCE_END` tokens (and the
    closing quotes/brackets after it) ends a sentence."""
    spans, start, n = [], 0, len(words)
    i = 0
    while i < n:
        if words[i] in SENTENCE_END:
            while i + 1 < n and (words[i + 1] in SENTENCE_END or words[i + 1] in ("'", '"', "''", ")", "”", "’")):
                i += 1
            if i + 1 < n:
                spans.append((start, i + 1))
                start = i + 1
        i += 1
    spans.append((start, n))
    return spans


def _cue_sentences(words: Sequence[str], cues: list[tuple[int, ...]]) -> list[tuple[int, tuple[str, ...], list]]:
    """(offset, sentence tokens, cues shifted into it) for each sentence of `words` that holds a cue."""
    out = []
    for a, b in sentence_spans(words):
        inside = [tuple(i - a for i in c) for c in cues if a <= c[0] < b]
        if inside:
            # a cue spanning two sentences ("neither ... nor" across a full stop) keeps only this sentence's part
            inside = [tuple(i for i in c if i < b - a) for c in inside]
            out.append((a, tuple(words[a:b]), inside))
    return out


def batch_depths(nlp, words_list: Sequence[Sequence[str]], detector: CueDetector, mirror: str | None = None,
                 batch_size: int = 256) -> list[list[int]]:
    """Negation depth per token for token lists (utterances): cues detected, each utterance split into
    sentences (`sentence_spans`), only the sentences with a cue tagged and parsed (batches of
    pre-tokenized Docs through tok2vec, tagger and parser only, on `scope_pipeline(nlp)`), each cue's
    scope by the CRF."""
    mirror = mirror or MIRROR
    out = [[0] * len(w) for w in words_list]
    todo = []
    for row, words in enumerate(words_list):
        cues = detector.detect(words)
        if cues:
            todo += [(row, a, sent, sc) for a, sent, sc in _cue_sentences(words, cues)]
    if not todo:
        return out
    tagger = _tagger(str(model_path()))
    nlp = scope_pipeline(nlp)
    procs = [proc for name, proc in nlp.pipeline if name not in SKIPPED_PIPES]
    docs = []
    for start in range(0, len(todo), batch_size):
        batch = [Doc(nlp.vocab, words=list(sent)) for _, _, sent, _ in todo[start:start + batch_size]]
        for proc in procs:  # the components' batch calls, without Language.pipe's per-doc generator chain
            proc.set_annotations(batch, proc.predict(batch))
        docs += batch
    for (row, offset, sent, cues), doc in zip(todo, docs):
        parsed = Parsed(doc)
        for cue in cues:
            tags = tagger.tag(token_features(parsed, cue, is_affixal_cue(sent, cue, detector)))
            scope = complete_constituents(parsed, cue, {i for i, t in enumerate(tags) if t[-1] == "I"})
            for i in scope:
                if i not in cue and _mirrored(i, cue, mirror):
                    out[row][offset + i] += 1
    return out
