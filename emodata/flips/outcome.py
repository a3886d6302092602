"""Outcome flips: goal attainment rewritten as failure and back, conditioned on the verb's arguments.

Rules are data (catalog/flips/outcomes.yaml); each verb of the utterance is tried against them in
this order, and the first that applies rewrites it:
1. passive outcomes: a passive participle with a listed counterpart ("I got accepted" → "I got
   rejected", "He was fired" → "He was hired"), unless a directional preposition follows
   ("accepted into college");
2. swaps: "We won the game" ↔ "We lost the game", "I passed the exam" ↔ "I failed the exam",
   "I failed to finish" ↔ "I managed to finish", "We lost to them" ↔ "We beat them", "it
   succeeded" ↔ "it failed", "he survived" → "he died", each only for an active verb whose
   arguments fit the rule (a contest object, an exam object, a to-infinitive, no arguments at
   all, ...), so "Am I lost?" and "lost to history" are left alone;
3. attainment: getting a listed prize ("I got the job" ↔ "I didn't get the job", "She made the
   team" ↔ "She didn't make the team", "got into college"), negated or un-negated with the same
   do-support rules as `negation_flip`.
Verbs with a particle ("pass out", "win over") and clauses that contain a negation cue other than
"not"/"n't"/"never" ("got no offer") are left alone. Not handled: outcomes carried by nouns ("a
big win": the antonym flip covers them), hopes and plans ("hope to win"), and questions' intent.
"""
from __future__ import annotations

from spacy.tokens import Doc, Token

from catalog.flips import FlipLexicon, SwapRule, load_flips

from emodata.text.negation import CUES
from emodata.flips.morph import inflect_verb
from emodata.flips.negation import HANDLED, negate_clause, remove_negation
from emodata.flips.rewrite import Rewrite

#: Prepositions that tie a passive outcome to its direction ("accepted into", "promoted to").
DIRECTIONAL = frozenset({"into", "to", "onto"})
#: Outcomes a first-person subject cannot report ("I survived" has no "I died" counterpart).
SPEAKER_CANNOT = frozenset({"die"})
FIRST_PERSON = frozenset({"i", "we"})
#: Dependents that make a verb transitive or complemented (an "intransitive" rule needs none).
ARGUMENTS = frozenset({"dobj", "obj", "prt", "prep", "ccomp", "xcomp", "attr", "dative", "oprd", "acomp", "advcl"})


def _objects(verb: Token) -> set[str]:
    return {c.lemma_.lower() for c in verb.children if c.dep_ in ("dobj", "obj")}


def _prep(verb: Token, word: str) -> Token | None:
    return next((c for c in verb.children if c.dep_ == "prep" and c.lower_ == word
                 and any(g.dep_ == "pobj" for g in c.children)), None)


def _has_infinitive(verb: Token) -> bool:
    return any(c.dep_ == "xcomp" and any(g.tag_ == "TO" for g in c.children) for c in verb.children)


def fits(rule: SwapRule, verb: Token) -> bool:
    """Whether a swap rule's condition holds for this verb (see outcomes.yaml)."""
    deps = {c.dep_ for c in verb.children}
    if rule.objects and _objects(verb) & rule.objects:
        return True
    if rule.intransitive and not deps & ARGUMENTS:
        return True
    if rule.infinitive and _has_infinitive(verb):
        return True
    if rule.prep and _prep(verb, rule.prep) is not None:
        return True
    return bool(rule.add_prep and "dobj" in deps)


def active(verb: Token) -> bool:
    """Whether the verb is in the active voice: not passive, and a bare participle only after "have"
    ("we have won"; "Am I lost?" and "Get lost" are not outcomes)."""
    children = list(verb.children)
    if any(c.dep_ == "auxpass" for c in children):
        return False
    return verb.tag_ != "VBN" or any(c.dep_ == "aux" and c.lemma_ == "have" for c in children)


def _swap(edit: Rewrite, verb: Token, lexicon: FlipLexicon) -> bool:
    lemma = verb.lemma_.lower()
    if not active(verb):
        return False
    for rule in lexicon.swaps:
        if rule.verb != lemma or not fits(rule, verb):
            continue
        if rule.to in SPEAKER_CANNOT and any(c.dep_ == "nsubj" and c.lower_ in FIRST_PERSON for c in verb.children):
            return False  # "I survived" -> "I died" is not something the speaker can say
        form = inflect_verb(rule.to, verb.tag_, lexicon.verb_forms)
        prep = _prep(verb, rule.prep) if rule.prep else None
        if prep is not None:
            edit.drop(prep.i)
        if rule.add_prep:
            form = f"{form} {rule.add_prep}"
        edit.set(verb.i, form)
        return True
    return False


def _passive(edit: Rewrite, verb: Token, lexicon: FlipLexicon) -> bool:
    other = lexicon.passive.get(verb.lemma_.lower())
    if other is None or verb.tag_ != "VBN" or not any(c.dep_ == "auxpass" for c in verb.children):
        return False
    if any(c.dep_ == "prep" and c.lower_ in DIRECTIONAL for c in verb.children):
        return False  # "accepted into college" has no good "rejected ..." counterpart
    edit.set(verb.i, inflect_verb(other, "VBN", lexicon.verb_forms))
    return True


def _attain(edit: Rewrite, verb: Token, lexicon: FlipLexicon) -> bool:
    lemma = verb.lemma_.lower()
    for rule in lexicon.attain:
        if lemma not in rule.verbs:
            continue
        into = _prep(verb, "into")
        if not (_objects(verb) & rule.objects
                or into is not None and {g.lemma_.lower() for g in into.children if g.dep_ == "pobj"} & rule.into):
            continue
        negations = [c for c in verb.children if c.lower_ in HANDLED]
        if negations:
            for neg in negations:
                remove_negation(edit, neg, lexicon)
            return True
        return negate_clause(edit, verb)
    return False


def outcome_flip(doc: Doc, lexicon: FlipLexicon | None = None) -> str | None:
    """Rewrite every outcome event of the utterance into its opposite; None when there is none."""
    lexicon = lexicon or load_flips()
    edit = Rewrite(doc)
    for verb in doc:
        if verb.pos_ not in ("VERB", "AUX") or edit.touched(verb.i) or any(c.dep_ == "prt" for c in verb.children):
            continue
        if any(t.lower_ in CUES and t.lower_ not in HANDLED for t in verb.subtree):
            continue
        _passive(edit, verb, lexicon) or _swap(edit, verb, lexicon) or _attain(edit, verb, lexicon)
    return edit.render() if edit.changed else None
