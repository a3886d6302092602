"""Token features of the negation-scope CRF (emodata/text/negation_scope.py), one list of strings per token.

For one (parsed sentence, cue) pair every token gets: its word, PTB tag and dependency relation, the
cue's words, kind (syntactic / affixal) and tag; for non-cue tokens also its side and binned distance
from the cue, the punctuation marks between them, whether it lies between the punctuation marks around
the cue, its tree distance to the cue, whether it governs the cue, lies under the cue's head, the head's
head or the cue's clause, belongs to that clause's subject, the dependency labels of its path up to
the cue's chain, its neighbours' words and tags, and (feature set v2, chosen by 5-fold cross-validation
on CD-SCO training, benchmarks/bench_negation_scope.py --cv) the *constituent* it shares with the cue:
the lowest common ancestor (LCA) of token and cue in the parse, how many steps the cue is below it, the
relation of the LCA's child that dominates the token (the "top" constituent: nsubj, advcl, prep, ...),
that constituent's first word, tag and length, and whether a punctuation mark opens it.

Only tags, heads and relations of spaCy's tagger and parser are read (no coarse POS, so the
attribute ruler need not run). Per-sentence arrays are computed once and shared by all its cues.
"""
from __future__ import annotations

from typing import Sequence

from spacy.attrs import HEAD
from spacy.tokens import Doc

PUNCT = frozenset(",.;:!?()\"'`-")
SUBJECTS = frozenset({"nsubj", "nsubjpass", "expl", "csubj"})
CLAUSE_DEPS = frozenset({"ROOT", "ccomp", "advcl", "relcl", "conj", "xcomp", "acl", "pcomp", "parataxis"})
#: Version of the feature set; part of the model version (emodata.text.negation_scope.MODEL_VERSION).
FEATURES_VERSION = "v2"


def _bin(d: int) -> str:
    a = abs(d)
    b = str(a) if a <= 4 else ("5-7" if a <= 7 else ("8-12" if a <= 12 else "13+"))
    return ("-" if d < 0 else "+") + b


class Sentence:
    """The per-sentence arrays the features read: words, tags, relations, heads, ancestor chains."""

    def __init__(self, doc: Doc):
        n = self.n = len(doc)
        self.low, self.tags, self.deps, self.punct = [], [], [], []
        for t in doc:
            self.low.append(t.lower_)
            self.tags.append(t.tag_)
            self.deps.append(t.dep_)
            self.punct.append(t.is_punct or t.text in PUNCT)
        self.heads = [j + int(h) for j, h in enumerate(doc.to_array([HEAD]).astype("int64"))]
        self.cum = [0]
        for p in self.punct:
            self.cum.append(self.cum[-1] + p)
        self.chains = [self._chain(j) for j in range(n)]
        # subtree edges from the chains: token j lies in the subtree of every node on its chain
        self.left, self.right = list(range(n)), list(range(n))
        for j in range(n):
            for a in self.chains[j]:
                if j < self.left[a]:
                    self.left[a] = j
                if j > self.right[a]:
                    self.right[a] = j

    def _chain(self, j: int) -> list[int]:
        out = [j]
        while self.heads[out[-1]] != out[-1] and len(out) <= self.n:
            out.append(self.heads[out[-1]])
        return out

    def under(self, i: int) -> range:
        """Token indices from i's subtree's first to its last token (the subtree, for a projective parse)."""
        return range(self.left[i], self.right[i] + 1)

    def clause_head(self, i: int) -> int:
        """The lowest verb (VB*/MD) at or above token i heading a clause, or the root."""
        for t in self.chains[i]:
            if self.deps[t] == "ROOT" or (self.tags[t][:2] == "VB" or self.tags[t] == "MD") and self.deps[t] in CLAUSE_DEPS:
                return t
        return i


def _cue_context(s: Sentence, cue: Sequence[int]) -> dict:
    c0, c1 = min(cue), max(cue)
    head = s.heads[c0]
    clause = s.clause_head(c0)
    subj = {k for c in range(s.n) if s.heads[c] == clause and c != clause and s.deps[c] in SUBJECTS
            for k in s.under(c)}
    nxt = next((k for k in range(c1 + 1, s.n) if s.punct[k]), s.n)
    prv = next((k for k in range(c0 - 1, -1, -1) if s.punct[k]), -1)
    return {"c0": c0, "c1": c1, "head": head, "under_head": set(s.under(head)),
            "under_grand": set(s.under(s.heads[head])), "under_clause": set(s.under(clause)), "subj": subj,
            "nxt": nxt, "prv": prv, "up": {a: k for k, a in enumerate(s.chains[c0])}}


def _token(s: Sentence, j: int, ctx: dict, cue_words: str, kind: str) -> list[str]:
    c0, c1, up = ctx["c0"], ctx["c1"], ctx["up"]
    d = j - c0 if j < c0 else j - c1
    side = "L" if d < 0 else "R"
    lo, hi = (j, c0) if j < c0 else (c1, j)
    chain = s.chains[j]
    kj = next(k for k, a in enumerate(chain) if a in up) if chain[-1] in up else -1
    lca = chain[kj] if kj >= 0 else -1
    labels = [s.deps[a] for a in chain[:min(kj if kj >= 0 else len(chain) - 1, 3)]]
    path = "/".join(labels) + ("^" if 0 <= kj <= 3 else "")
    ui, su = int(j in ctx["under_clause"]), int(j in ctx["subj"])
    tag, low = s.tags[j], s.low[j]
    f = [f"d={_bin(d)}", f"side={side}", f"npunct={min(s.cum[hi] - s.cum[lo + 1], 3)}", f"side_p={side}|{tag}",
         f"cw_side={cue_words}|{side}", f"td={min(kj + up[lca], 6) if kj >= 0 else 6}",
         f"gov={int(j in up and j != c0)}", f"uh={int(j in ctx['under_head'])}",
         f"ug={int(j in ctx['under_grand'])}", f"uh_dep={int(j in ctx['under_head'])}|{s.deps[j]}",
         f"hd={int(j == ctx['head'])}", f"uc={ui}", f"subj={su}", f"uc_side={ui}|{side}|{su}",
         f"cw_d={cue_words}|{_bin(d)}", f"pw={int(ctx['prv'] < j < ctx['nxt'])}|{side}", f"path={path}",
         f"w_side={low}|{side}"]
    if kj >= 0:
        kc = min(up[lca], 4)
        a = chain[kj - 1] if kj > 0 else j
        top = s.deps[a] if kj > 0 else "self"
        left = s.left[a] if kj > 0 else j
        comma = int(left > 0 and s.punct[left - 1])
        f += [f"lca_k={kc}|{top}", f"lca_top={top}|{side}", f"lca_kind={kind}|{kc}|{top}",
              f"lca_p={s.tags[lca][:2]}|{top}", f"ct_first={top}|{s.low[left]}", f"ct_comma={top}|{comma}|{side}",
              f"ct_tag={top}|{s.tags[a]}", f"ct_kind={kind}|{top}|{side}|{comma}", f"ct_cw={cue_words}|{top}|{side}",
              f"ct_len={top}|{min(s.right[a] - left + 1, 8) // 3}"]
    for k in (-1, 1):
        m = j + k
        f.append(f"w{k}={s.low[m] if 0 <= m < s.n else '<s>'}")
        f.append(f"p{k}={s.tags[m] if 0 <= m < s.n else '<s>'}")
    return f


def token_features(sent: Sentence | Doc, cue: Sequence[int], affixal: bool) -> list[list[str]]:
    """Feature strings of every token of a parsed sentence for one cue (see the module docstring)."""
    s = sent if isinstance(sent, Sentence) else Sentence(sent)
    cset = set(cue)
    cue_words = "_".join(s.low[i] for i in cue)
    kind = "aff" if affixal else "syn"
    ctx = _cue_context(s, cue)
    out = []
    for j in range(s.n):
        base = [f"w={s.low[j]}", f"p={s.tags[j]}", f"dep={s.deps[j]}", f"cw={cue_words}", f"kind={kind}",
                f"cp={s.tags[ctx['c0']]}"]
        out.append(base + (["iscue"] if j in cset else _token(s, j, ctx, cue_words, kind)))
    return out
