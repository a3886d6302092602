"""Lexical antonym flips: every polar word with a catalog antonym is swapped for it.

Rules (data in catalog/flips/antonyms.yaml):
- A token is looked up by its spaCy coarse part of speech: VERB and NOUN by lemma, re-inflected to
  the token's tag ("Loved" → "Hated", "enemies" → "friends"); ADJ and ADV by lower-cased surface
  form, so comparatives and superlatives flip only when listed ("better" → "worse"). A participle
  tagged VBN whose surface form is a listed adjective ("thrilled", "pleased") is flipped as one.
- Capitalisation follows the token ("LOVE" → "HATE"); "a"/"an" before it is re-agreed.
- A noun modified by a flipping adjective keeps its sense ("a good friend" → "a bad friend", not
  "a bad enemy"), and "failed to" is a negation, not an outcome (left to the negation rules).
- Every other matching token flips, so "great food, awful service" becomes "terrible food, amazing
  service": a mixed utterance stays mixed and is then rejected by the valence filter.

Deliberately not handled: fixed phrases listed under `idioms` ("to be honest", "fair enough"),
phrasal verbs (a verb with a particle, "pass out", is skipped), verbs
whose object is listed in `verb_exceptions` ("lose weight"), named entities and "[NAME]"-style
placeholders, idioms ("not half bad"), and words outside the list (no WordNet guessing).
"""
from __future__ import annotations

import re

from spacy.tokens import Doc, Token

from catalog.flips import FlipLexicon, load_flips

from ..negation import FAIL_FORMS
from .morph import inflect_verb, plural
from .rewrite import Rewrite

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


def antonym_flip(doc: Doc, lexicon: FlipLexicon | None = None) -> str | None:
    """Swap every listed polar word for its antonym; None when no word is listed."""
    lexicon = lexicon or load_flips()
    edit = Rewrite(doc)
    protected = idiom_tokens(doc, lexicon.idioms)
    for tok in doc:
        if tok.i in protected:
            continue
        anti = antonym_of(tok, lexicon)
        if anti is not None:
            edit.set(tok.i, anti)
    return edit.render() if edit.changed else None
