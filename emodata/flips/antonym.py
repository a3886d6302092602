"""Lexical antonym flips: the polar word that carries the utterance's valence is swapped for its antonym.

One word is swapped (one coherent edit): among the words with a catalog antonym, those in a main
clause (no clausal-complement, adverbial-clause, relative-clause or parataxis arc between the word
and its sentence root: not "afford" in "It's sad that some people can't afford it") are preferred;
given a word-valence function and the utterance's side, the word on that side with the largest
|v − 0.5| is swapped ("sad" in "It's sad that ..."), else the first listed one.

Rules (data in catalog/flips/antonyms.yaml):
- A token is looked up by its spaCy coarse part of speech: VERB and NOUN by lemma, re-inflected to
  the token's tag ("Loved" → "Hated", "enemies" → "friends"); ADJ and ADV by lower-cased surface
  form, so comparatives and superlatives flip only when listed ("better" → "worse"). A participle
  tagged VBN whose surface form is a listed adjective ("thrilled", "pleased") is flipped as one.
- Capitalisation follows the token ("LOVE" → "HATE"); "a"/"an" before it is re-agreed.
- A noun modified by a flipping adjective keeps its sense ("a good friend" → "a bad friend", not
  "a bad enemy"), and "failed to" is a negation, not an outcome (left to the negation rules).
- Only one token flips, so a mixed utterance ("great food, awful service") gets its dominant side
  swapped and the judges decide whether the whole reverses.

Deliberately not handled: fixed phrases listed under `idioms` ("to be honest", "fair enough"),
phrasal verbs (a verb with a particle, "pass out", is skipped), verbs
whose object is listed in `verb_exceptions` ("lose weight"), named entities and "[NAME]"-style
placeholders, idioms ("not half bad"), and words outside the list (no WordNet guessing).
"""
from __future__ import annotations

import re
from typing import Callable

from spacy.tokens import Doc, Token

from catalog.flips import FlipLexicon, load_flips

from emodata.text.negation import FAIL_FORMS
from emodata.flips.morph import inflect_verb, plural
from emodata.flips.rewrite import Rewrite

#: Entity types whose words are names, not evaluations ("Good Will Hunting", "Best Buy").
NAME_ENTITIES = frozenset({"PERSON", "ORG", "WORK_OF_ART", "PRODUCT", "FAC", "GPE", "LOC", "NORP", "EVENT", "LAW"})


def in_placeholder(tok: Token) -> bool:
    """Whether the token is inside a bracketed placeholder such as GoEmotions' "[NAME]"."""
    doc = tok.doc
    return 0 < tok.i < len(doc) - 1 and doc[tok.i - 1].text == "[" and doc[tok.i + 1].text == "]"


def _objects(tok: Token) -> set[str]:
    return {c.lemma_.lower() for c in tok.children if c.dep_ in ("dobj", "obj", "attr", "nsubjpass")}


def antonym_of(tok: Token, lexicon: FlipLexicon) -> str | None:
    """The inflected antonym of one token, or None when it has none (see the module rules)."""
    if tok.ent_type_ in NAME_ENTITIES or in_placeholder(tok) or not tok.is_alpha:
        return None
    low = tok.lower_
    if tok.pos_ == "ADJ" or (tok.tag_ == "VBN" and lexicon.antonym("ADJ", low)):
        return lexicon.antonym("ADJ", low)
    if tok.pos_ == "VERB":
        lemma = tok.lemma_.lower()
        if low in FAIL_FORMS and tok.i + 1 < len(tok.doc) and tok.doc[tok.i + 1].lower_ == "to":
            return None  # "failed to X" is a negation of X, not an outcome ("passed to X")
        anti = lexicon.antonym("VERB", lemma)
        if anti is None or any(c.dep_ == "prt" for c in tok.children):
            return None
        if _objects(tok) & lexicon.verb_exceptions.get(lemma, frozenset()):
            return None
        return inflect_verb(anti, tok.tag_, lexicon.verb_forms)
    if tok.pos_ == "NOUN":
        anti = lexicon.antonym("NOUN", tok.lemma_.lower())
        if anti is None or any(c.dep_ == "amod" and antonym_of(c, lexicon) for c in tok.children):
            return None  # "a good friend" -> "a bad friend", not "a bad enemy"
        return plural(anti, lexicon.plurals) if tok.tag_ == "NNS" and low != tok.lemma_.lower() else anti
    if tok.pos_ == "ADV":
        return lexicon.antonym("ADV", low)
    return None


def idiom_tokens(doc: Doc, idioms: tuple[str, ...]) -> set[int]:
    """Indices of tokens inside a listed fixed phrase ("to be honest"), matched on the lower-cased
    text with single spaces, so contractions match however spaCy splits them ("you're welcome")."""
    text = doc.text.lower()
    inside: set[int] = set()
    for phrase in idioms:
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in phrase.split()) + r"(?!\w)"
        for match in re.finditer(pattern, text):
            span = doc.char_span(match.start(), match.end(), alignment_mode="expand")
            if span is not None:
                inside.update(range(span.start, span.end))
    return inside


#: Arcs that start a subordinate clause: a word below one is not in its sentence's main clause.
SUBORDINATE = frozenset({"ccomp", "advcl", "relcl", "acl", "csubj", "csubjpass", "parataxis", "pcomp"})


def in_main_clause(tok: Token) -> bool:
    """Whether no subordinate-clause arc (SUBORDINATE) lies between the token and its sentence root."""
    while tok.head.i != tok.i:
        if tok.dep_ in SUBORDINATE:
            return False
        tok = tok.head
    return True


def _strength(tok: Token, valence: Callable[[str], float | None] | None, positive: bool | None) -> float:
    """How strongly the token carries the utterance's side (−1 when it is on the other side or unknown)."""
    if valence is None or positive is None:
        return 0.0
    v = valence(tok.lower_)
    if v is None:
        v = valence(tok.lemma_.lower())
    if v is None or (v > 0.5) != positive or v == 0.5:
        return -1.0
    return abs(v - 0.5)


def antonym_flip(doc: Doc, lexicon: FlipLexicon | None = None, valence: Callable[[str], float | None] | None = None,
                 positive: bool | None = None) -> str | None:
    """Swap the polar word that carries the utterance's valence for its antonym (module docstring);
    `valence(word)` is the lexicon valence of a word, `positive` the utterance's side. None when no
    listed word qualifies (with `valence`, only words on the utterance's side do)."""
    lexicon = lexicon or load_flips()
    protected = idiom_tokens(doc, lexicon.idioms)
    found = []
    for tok in doc:
        anti = None if tok.i in protected else antonym_of(tok, lexicon)
        if anti is not None:
            found.append((in_main_clause(tok), _strength(tok, valence, positive), -tok.i, tok, anti))
    found = [f for f in found if f[1] >= 0]
    if not found:
        return None
    *_, tok, anti = max(found, key=lambda f: f[:3])
    edit = Rewrite(doc)
    edit.set(tok.i, anti)
    return edit.render()
