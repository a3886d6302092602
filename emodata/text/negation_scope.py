"""Negation scope as sequence labelling: a linear-chain CRF (python-crfsuite) trained on CD-SCO training.

Each (sentence, cue) pair is one sequence; every token is labelled C (cue), I (in scope) or O. A token's
features are its word, lemma and PTB tag (spaCy's tagger/parser run on the given tokens, so training
and use see the same analyses), its neighbours' words and tags, its side and binned distance from the
cue, the punctuation between it and the cue, the cue's words and kind (syntactic / affixal), and
dependency features: its relation, its tree distance to the cue, whether it governs the cue and
whether it lies under the cue's head or the head's head (the constituent a cue negates). The model
file (`emodata/models/negation_scope.crfsuite`) is rebuilt byte-identically by `emodata negation
train` (fixed training order, L-BFGS, single thread); its SHA-1 goes in a build's manifest.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

from spacy.tokens import Doc

from emodata.text.cdsco import Sentence
from emodata.text.negation_cues import CueDetector

MODEL_VERSION = "cdsco-crf-v1"
TRAIN_PARAMS = {"c1": 0.05, "c2": 0.5, "max_iterations": 300, "feature.possible_transitions": True}
PUNCT = frozenset(",.;:!?()\"'`-")
#: spaCy components the features do not use (the rule lemmatizer alone costs a third of the time).
SKIPPED_PIPES = ("ner", "lemmatizer")


def model_path() -> Path:
    """Where the shipped CRF model lives."""
    return Path(__file__).parent / "models" / "negation_scope.crfsuite"


@lru_cache(maxsize=1)
def _nlp():
    from emodata.text.nlp import load_pipeline
    return load_pipeline().nlp


@lru_cache(maxsize=4096)
def analyse(words: tuple[str, ...]) -> Doc:
    """spaCy tagger + parser over the given tokens (memoised by the token tuple)."""
    nlp = _nlp()
    doc = Doc(nlp.vocab, words=list(words))
    for name, proc in nlp.pipeline:
        if name not in SKIPPED_PIPES:
            doc = proc(doc)
    return doc


def _bin(d: int) -> str:
    a = abs(d)
    b = str(a) if a <= 4 else ("5-7" if a <= 7 else ("8-12" if a <= 12 else "13+"))
    return ("-" if d < 0 else "+") + b


def _ancestors(tok) -> list[int]:
    return [a.i for a in tok.ancestors]


def _tree_dist(up_cue: dict[int, int], up_j: list[int]) -> int:
    """Tree distance between a token (its chain to the root, itself first) and the cue (chain as {i: depth})."""
    for k, a in enumerate(up_j):
        if a in up_cue:
            return k + up_cue[a]
    return 99


SUBJECTS = frozenset({"nsubj", "nsubjpass", "expl", "csubj"})
CLAUSE_DEPS = frozenset({"ROOT", "ccomp", "advcl", "relcl", "conj", "xcomp", "acl", "pcomp", "parataxis"})


def _clause_head(tok):
    """The lowest verb at or above `tok` heading a clause (or the root)."""
    for t in [tok] + list(tok.ancestors):
        if t.pos_ in ("VERB", "AUX") and t.dep_ in CLAUSE_DEPS or t.dep_ == "ROOT":
            return t
    return tok


def _path(doc: Doc, j: int, c: int) -> str:
    """Dependency labels from token j up to its lowest common ancestor with the cue (at most 3)."""
    up_c = {c} | set(_ancestors(doc[c]))
    labels = []
    t = doc[j]
    while t.i not in up_c and len(labels) < 3 and t.head.i != t.i:
        labels.append(t.dep_)
        t = t.head
    return "/".join(labels) + ("^" if t.i in up_c else "")


def _rule_scope(doc: Doc, cue: Sequence[int]) -> set[int]:
    """The dependency-rule scope (emodata.text.negation_parse) of the cue tokens: a feature, not the answer."""
    from emodata.text.negation_parse import _scope_of
    out: set[int] = set()
    for i in cue:
        out.update(_scope_of(doc[i]))
    return out


def token_features(doc: Doc, cue: Sequence[int], affixal: bool) -> list[list[str]]:
    """Feature strings of every token for one cue."""
    n = len(doc)
    cset = set(cue)
    c0, c1 = min(cue), max(cue)
    cue_words = "_".join(doc[i].lower_ for i in cue)
    head = doc[c0].head
    grand = head.head
    under_head = {t.i for t in head.subtree}
    under_grand = {t.i for t in grand.subtree}
    clause = _clause_head(doc[c0])
    under_clause = {t.i for t in clause.subtree}
    subj = {t.i for c in clause.children if c.dep_ in SUBJECTS for t in c.subtree}
    puncts = [i for i in range(n) if doc[i].text in PUNCT or doc[i].is_punct]
    nxt = next((k for k in puncts if k > c1), n)
    prv = max((k for k in puncts if k < c0), default=-1)
    rule = _rule_scope(doc, cue)
    chain = [c0] + _ancestors(doc[c0])
    up_cue = {a: k for k, a in enumerate(chain)}
    out = []
    for j in range(n):
        t = doc[j]
        f = [f"w={t.lower_}", f"p={t.tag_}", f"dep={t.dep_}", f"cw={cue_words}",
             f"kind={'aff' if affixal else 'syn'}", f"cp={doc[c0].tag_}"]
        if j in cset:
            f.append("iscue")
            out.append(f)
            continue
        d = j - c0 if j < c0 else j - c1
        between = [k for k in puncts if min(j, c0) < k < max(j, c1)]
        f += [f"d={_bin(d)}", f"side={'L' if d < 0 else 'R'}", f"npunct={min(len(between), 3)}",
              f"side_p={'L' if d < 0 else 'R'}|{t.tag_}", f"cw_side={cue_words}|{'L' if d < 0 else 'R'}",
              f"td={min(_tree_dist(up_cue, [j] + _ancestors(t)), 6)}", f"gov={int(j in up_cue and j != c0)}",
              f"uh={int(j in under_head)}", f"ug={int(j in under_grand)}", f"uh_dep={int(j in under_head)}|{t.dep_}",
              f"hd={int(j == head.i)}", f"uc={int(j in under_clause)}", f"subj={int(j in subj)}",
              f"uc_side={int(j in under_clause)}|{'L' if d < 0 else 'R'}|{int(j in subj)}",
              f"cw_d={cue_words}|{_bin(d)}", f"pw={int(prv < j < nxt)}|{'L' if d < 0 else 'R'}",
              f"rule={int(j in rule)}", f"rule_uc={int(j in rule)}|{int(j in under_clause)}|{int(j in subj)}", f"path={_path(doc, j, c0)}", f"w_side={t.lower_}|{'L' if d < 0 else 'R'}"]
        for k in (-1, 1):
            m = j + k
            f.append(f"w{k}={doc[m].lower_ if 0 <= m < n else '<s>'}")
            f.append(f"p{k}={doc[m].tag_ if 0 <= m < n else '<s>'}")
        out.append(f)
    return out


def labels_of(sent: Sentence, k: int) -> list[str]:
    """Gold C/I/O labels of sentence `sent` for its k-th negation."""
    neg = sent.negations[k]
    cue, scope = set(neg.cue), set(neg.scope)
    return ["C" if i in cue else ("I" if i in scope else "O") for i in range(len(sent.words))]


def is_affixal_cue(words: Sequence[str], cue: Sequence[int], detector: CueDetector) -> bool:
    """Whether a one-token cue is an affix of its word (not a syntactic cue word)."""
    return len(cue) == 1 and words[cue[0]].lower() not in detector.words and detector.is_affixal(words[cue[0]].lower())


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


def predict_scope(words: Sequence[str], cue: Sequence[int], detector: CueDetector, threshold: float | None = None,
                  path: Path | None = None) -> tuple[int, ...]:
    """Scope token indices of one cue (cue tokens excluded): the Viterbi path's I tokens, or with a
    threshold the tokens whose marginal P(I) reaches it."""
    doc = analyse(tuple(words))
    feats = token_features(doc, cue, is_affixal_cue(words, cue, detector))
    tagger = _tagger(str(path or model_path()))
    cset = set(cue)
    if threshold is None:
        return tuple(i for i, t in enumerate(tagger.tag(feats)) if t == "I" and i not in cset)
    tagger.set(feats)
    return tuple(i for i in range(len(words)) if i not in cset and tagger.marginal("I", i) >= threshold)


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


def batch_depths(nlp, words_list: Sequence[Sequence[str]], detector: CueDetector, mirror: str | None = None,
                 batch_size: int = 256) -> list[list[int]]:
    """Negation depth per token for token lists: cues detected, only texts with a cue tagged and parsed
    (one `nlp.pipe` over pre-tokenized Docs, NER off), each cue's scope by the CRF."""
    mirror = mirror or MIRROR
    out = [[0] * len(w) for w in words_list]
    todo = []
    for row, words in enumerate(words_list):
        cues = detector.detect(words)
        if cues:
            todo.append((row, cues))
    if not todo:
        return out
    tagger = _tagger(str(model_path()))
    disable = [p for p in nlp.pipe_names if p in SKIPPED_PIPES]
    docs = nlp.pipe((Doc(nlp.vocab, words=list(words_list[row])) for row, _ in todo), batch_size=batch_size,
                    disable=disable)
    for (row, cues), doc in zip(todo, docs):
        words = words_list[row]
        for cue in cues:
            tags = tagger.tag(token_features(doc, cue, is_affixal_cue(words, cue, detector)))
            for i, t in enumerate(tags):
                if t == "I" and i not in cue and _mirrored(i, cue, mirror):
                    out[row][i] += 1
    return out
