"""Negation flips on the dependency parse: remove the negation an utterance has, or insert one.

One edit, at the main predicate (never a "not" in every clause): the root verb/aux of a sentence's
main clause (`main_predicate`, from the dependency parse). `negation_flips` gives one candidate per
sentence (up to SENTENCES, each editing that sentence only: "We went out. It was fun." → "We didn't go
out. It was fun." or "We went out. It was not fun."); the pair's judges keep the first that reverses
the whole utterance. `negation_flip` is the first candidate.
Removal (the utterance has "not", "n't"/"nt" or "never"): the negation of a main predicate is removed
(an utterance whose negations all sit in subordinate clauses is left alone).
- "n't"/"not" after an auxiliary "do" drops the "do" too and re-inflects the verb to the auxiliary's
  tense and person: "I don't like it" → "I like it", "He doesn't care" → "He cares", "We didn't
  win" → "We won" (irregular forms from catalog/flips/morphology.yaml).
- after any other auxiliary only the negation goes: "I am not happy" → "I am happy", "isn't" →
  "is", "can't" → "can", "won't" → "will".
- "never" becomes "always" before a finite verb with no auxiliary ("She never smiles" → "She
  always smiles") and is dropped otherwise ("I have never been there" → "I have been there").
- negative-polarity items after it are made positive: "isn't bad at all" → "is bad", "don't have
  any" → "have some", "not yet" → "already", "anymore" is dropped.
Insertion (no negation): the main predicate of the first statement sentence that has one (a
sentence's verbal root; a verbless root falls back to the sentence's first verb with a subject):
- after its first auxiliary: "I have been waiting" → "I have not been waiting" ("can" → "cannot");
- after a copula: "I am happy" → "I am not happy";
- with do-support in the head's tense and person: "He likes it" → "He doesn't like it", "I liked
  it" → "I didn't like it", before adverbs between subject and verb ("They always praise him" →
  "They don't always praise him"), also for the get-passive ("I got fired" → "I didn't get fired");
  a sentence-initial imperative gets "Don't": "Love it" → "Don't love it".
Questions and inverted clauses (subject after the verb: "so are you") are left as they are.

Deliberately not handled (the generator returns None): utterances with other negation cues of
`emodata.text.negation` ("no", "nothing", "nobody", "without", "hardly", "fail(ed) to", ...), whose
removal needs a rewrite rather than a deletion; pseudo-negations ("not only", "no doubt"); "ain't";
and utterances with no negatable clause (fragments such as "Great job!").
"""
from __future__ import annotations

import re
from typing import Sequence

from spacy.tokens import Doc, Span, Token

from catalog.flips import FlipLexicon, load_flips

from emodata.text.negation import CUES, FAIL_FORMS, PSEUDO
from emodata.flips.morph import inflect_verb
from emodata.flips.rewrite import Rewrite

#: Negations this generator can remove.
HANDLED = frozenset({"not", "n't", "n’t", "nt", "never"})
#: Clitic halves spaCy splits off contracted negations ("ca|n't", "wo|n't", "sha|n't").
CLITIC_HOSTS = {"ca": "can", "wo": "will", "sha": "shall"}
#: Negative-polarity items after a removed negation, and what they become ("" = dropped):
#: "isn't bad at all" -> "is bad", "don't have any" -> "have some".
NPI = {"any": "some", "anything": "something", "anyone": "someone", "anybody": "somebody",
       "anymore": "", "either": "too", "yet": "already", "ever": ""}
#: Contracted forms of "be" (spaCy does not always lemmatise the curly-apostrophe ones).
BE_CLITICS = frozenset({"'s", "'m", "'re"})
#: Forms of the get-passive auxiliary (spaCy sometimes leaves "Got" unlemmatised).
GET_FORMS = frozenset({"get", "gets", "got"})
#: do-support for a finite verb tag.
DO_SUPPORT = {"VBZ": "doesn't", "VBP": "don't", "VBD": "didn't"}
FINITE = frozenset(DO_SUPPORT)
VERBAL = frozenset({"VERB", "AUX"})
#: Verbs whose negation nobody says ("I don't hope", "I am not hoping she wins").
NOT_NEGATED = frozenset({"hope", "wish", "guess", "bet", "reckon", "wonder"})
#: Their inflected forms (spaCy lemmatises "hoping" as "hop").
NOT_NEGATED_FORMS = frozenset(inflect_verb(v, tag) for v in NOT_NEGATED for tag in ("VB", "VBZ", "VBD", "VBG"))
#: Positive-polarity items after an inserted negation and their negative forms ("too" -> "either";
#: "some" as a determiner -> "any").
PPI = {"too": "either", "some": "any"}
#: Sentence adverbs an inserted "not" goes after ("is probably not", "still doesn't sound").
SENTENCE_ADVERBS = frozenset({"probably", "definitely", "certainly", "surely", "obviously", "clearly", "apparently",
                              "actually", "still", "already", "honestly", "seriously", "literally", "basically"})
#: Sentences a negation flip is tried on (one candidate each, one edit each).
SENTENCES = 3
WORD = re.compile(r"['’]?[A-Za-z]+")
SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj", "expl"})


def is_negation(tok: Token) -> bool:
    """Whether the token is a negation this module removes."""
    return tok.lower_ in HANDLED


def unhandled_negation(words: Sequence[str]) -> bool:
    """Whether an utterance (its lower-cased tokens) has a negation cue or pseudo-negation that this
    module cannot flip."""
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if (word, following) in PSEUDO or word == "ai" and following in ("n't", "n’t", "nt"):
            return True
        if word in FAIL_FORMS and following == "to":
            return True
        if word in CUES and word not in HANDLED:
            return True
    return False


def wordlike(tok: Token) -> bool:
    """A word or a clitic ("'m", "’s"), not punctuation or a symbol spaCy took for a verb."""
    return bool(WORD.fullmatch(tok.text))


def _has_subject(tok: Token) -> bool:
    return any(c.dep_ in SUBJECTS for c in tok.children)


def clause_heads(sent: Span) -> list[Token]:
    """The heads of a sentence's main clauses (see the module docstring)."""
    root = sent.root
    heads = []
    if root.pos_ in VERBAL:
        heads.append(root)
    else:
        first = next((t for t in sent if t.pos_ in VERBAL and _has_subject(t)), None)
        if first is not None:
            heads.append(first)
    for head in list(heads):
        heads += [c for c in head.conjuncts if c.i > head.i and c.pos_ in VERBAL and _has_subject(c)]
    return heads


def _auxiliaries(head: Token) -> list[Token]:
    return sorted((c for c in head.children if c.dep_ in ("aux", "auxpass") and c.i < head.i), key=lambda t: t.i)


def _not_after(edit: Rewrite, tok: Token) -> None:
    """Insert "not" after an auxiliary or copula, or after the sentence adverb that follows it."""
    nxt = tok.doc[tok.i + 1] if tok.i + 1 < len(tok.doc) else None
    if nxt is not None and nxt.lower_ in SENTENCE_ADVERBS and not edit.touched(nxt.i):
        edit.set(nxt.i, nxt.text + " not", keep_case=False)
    else:
        edit.set(tok.i, tok.text + ("not" if tok.lower_ == "can" else " not"), keep_case=False)


def negate_clause(edit: Rewrite, head: Token) -> bool:
    """Insert a negation into the clause headed by `head`; False when the clause is not negatable."""
    subjects = [c.i for c in head.children if c.dep_ in SUBJECTS]
    auxes = _auxiliaries(head)
    finite = auxes[0] if auxes else head
    if subjects and min(subjects) > finite.i:
        return False  # inverted clause ("so are you", "where are they"): not a plain statement
    if not wordlike(finite) or not wordlike(head) or head.lower_ in NOT_NEGATED_FORMS:
        return False
    if auxes:
        aux = auxes[0]
        if edit.touched(aux.i):
            return False
        if aux.lemma_ == "get" or aux.lower_ in GET_FORMS:
            # the get-passive takes do-support: "didn't get fired", "Don't get lost"
            if aux.tag_ in FINITE:
                edit.set(aux.i, f"{DO_SUPPORT[aux.tag_]} get", keep_case=False)
            elif aux.tag_ == "VB" and aux.is_sent_start:
                edit.set(aux.i, f"don't {aux.lower_}")
            else:
                return False
        else:
            _not_after(edit, aux)
        return True
    if edit.touched(head.i):
        return False
    if (head.lemma_ == "be" or head.lower_.replace("’", "'") in BE_CLITICS) and head.tag_ in FINITE:
        _not_after(edit, head)
        return True
    if any(c.dep_ == "conj" and c.tag_ == head.tag_ and not _has_subject(c) for c in head.children):
        return False  # "I didn't feel tired and watched TV": do-support would not reach the shared-subject verb
    if head.pos_ == "VERB" and head.tag_ in FINITE and _has_subject(head) and head.is_alpha and len(head) > 1 \
            and (head.i == 0 or head.doc[head.i - 1].whitespace_):  # not the "s" of "Thats"
        # "They always praise him" -> "They don't always praise him": do-support goes before the
        # adverbs between the subject and the verb.
        subject = max(subjects)
        between = [c for c in head.lefts if c.dep_ == "advmod" and c.i > subject and not edit.touched(c.i)]
        do = DO_SUPPORT[head.tag_]
        if between and between[0].lower_ not in SENTENCE_ADVERBS:
            edit.set(between[0].i, f"{do} {between[0].text}", keep_case=False)
            edit.set(head.i, head.lemma_.lower(), keep_case=False)
        else:
            edit.set(head.i, f"{do} {head.lemma_.lower()}", keep_case=False)
        return True
    if head.tag_ == "VB" and not _has_subject(head) and head.is_sent_start:
        edit.set(head.i, f"don't {head.text.lower()}")
        return True
    return False


def remove_negation(edit: Rewrite, neg: Token, lexicon: FlipLexicon) -> None:
    """Remove one negation token (and a do-support "do" it hangs on); see the module docstring."""
    doc = neg.doc
    head = neg.head
    if neg.lower_ == "never":
        auxes = _auxiliaries(head)
        if not auxes and head.tag_ in FINITE and head.i > neg.i:
            edit.set(neg.i, "always")
        else:
            edit.drop(neg.i)
        return
    edit.drop(neg.i)
    host = doc[neg.i - 1] if neg.i > 0 else None
    if host is None or host.dep_ not in ("aux", "auxpass") or edit.touched(host.i):
        return
    if host.lemma_ == "do" and host.head.i != host.i and host.head.i > neg.i and not edit.touched(host.head.i):
        verb = host.head
        edit.drop(host.i)
        tag = host.tag_ if host.tag_ in FINITE else "VBP"
        edit.set(verb.i, inflect_verb(verb.lemma_.lower(), tag, lexicon.verb_forms))
    elif host.lower_ in CLITIC_HOSTS:
        edit.set(host.i, CLITIC_HOSTS[host.lower_])


def rewrite_npis(edit: Rewrite, neg: Token) -> None:
    """Rewrite the negative-polarity items that follow a removed negation in its sentence (NPI)."""
    sent = neg.sent
    for tok in sent[neg.i - sent.start + 1:]:
        if edit.touched(tok.i):
            continue
        if tok.lower_ == "at" and tok.i + 1 < sent.end and tok.doc[tok.i + 1].lower_ == "all":
            edit.drop(tok.i)
            edit.drop(tok.i + 1)
        elif tok.lower_ in NPI and tok.dep_ in ("det", "advmod", "dobj", "pobj", "nsubj", "npadvmod", "attr"):
            if NPI[tok.lower_]:
                edit.set(tok.i, NPI[tok.lower_])
            else:
                edit.drop(tok.i)


def main_predicate(sent: Span) -> Token | None:
    """The head of a sentence's main clause (its verbal root, see `clause_heads`), or None."""
    heads = clause_heads(sent)
    return heads[0] if heads else None


def _main_negations(doc: Doc) -> list[Token]:
    """The handled negations that negate their sentence's main predicate, in text order."""
    return [tok for tok in doc if is_negation(tok) and tok.head.i == getattr(main_predicate(tok.sent), "i", None)]


def negation_flips(doc: Doc, lexicon: FlipLexicon | None = None, limit: int = SENTENCES) -> list[str]:
    """Candidates of one edit each, at most `limit`, in text order: when the utterance has a handled
    negation, the removal of each main-predicate negation (up to one per sentence); else the negation
    of the main predicate of each statement sentence. Empty when neither applies. Each candidate edits
    one sentence only; the judges pick the one that reverses the whole utterance."""
    lexicon = lexicon or load_flips()
    if unhandled_negation([t.lower_ for t in doc]):
        return []
    out: list[str] = []
    if any(is_negation(t) for t in doc):
        seen: set[int] = set()
        for neg in _main_negations(doc):  # none: only subordinate clauses are negated, not the utterance
            if neg.sent.start in seen:
                continue
            seen.add(neg.sent.start)
            edit = Rewrite(doc)
            remove_negation(edit, neg, lexicon)
            rewrite_npis(edit, neg)
            out.append(edit.render())
    else:
        for sent in doc.sents:
            head = main_predicate(sent)
            if any(t.text == "?" for t in sent) or head is None:
                continue
            edit = Rewrite(doc)
            if negate_clause(edit, head):
                for tok in sent[head.i - sent.start + 1:]:  # "I love it too" -> "I don't love it either"
                    attached = (tok.head.i == head.i if tok.lower_ == "too"
                                else tok.dep_ == "det" and head in tok.ancestors)
                    if tok.lower_ in PPI and attached and not edit.touched(tok.i):
                        edit.set(tok.i, PPI[tok.lower_])
                out.append(edit.render())
    return out[:limit]


def negation_flip(doc: Doc, lexicon: FlipLexicon | None = None) -> str | None:
    """One edit of the main predicate: remove its negation when the utterance has one, else negate the
    main predicate of its first statement sentence; None when neither applies (`negation_flips`' first)."""
    found = negation_flips(doc, lexicon, limit=1)
    return found[0] if found else None
