"""Parse-free drafts: which polar rows are worth a spaCy parse, and for which flip kind.

The parse (tagger, dependency parser, lemmatizer) is the flip stage's cost: about 20 times the
annotate stage's tokenisation per row. Before any parse, each polar row gets drafts of the edits the
generators could make, built from the annotate stage's stored tokens by string edits at the tokens'
character offsets (no spaCy call):
- antonym: the listed word forms of the utterance's side (ADJ/ADV surface forms, every inflection of a
  listed VERB/NOUN lemma), the DRAFTS strongest by word valence, each swapped for its antonym in the
  same form;
- negation: per sentence (tokens up to . ! ?; questions skipped; the first SENTENCES): remove a handled
  negation ("not", "n't", "never", with a "do" it hangs on), else each of: "not" after the first
  auxiliary or copula form, "don't" before the first word after a subject pronoun (adverbs skipped)
  when that comes first, "Don't" before the first word (where the verb is, a parse would tell: the
  drafts try the likely places); none when the utterance has a negation cue the generator cannot remove;
- outcome: each form of a swap verb (in every verb form) or of a passive participle swapped for its
  counterpart in the same form ("won" → "lost", "hired" → "fired"); a row with a form of an attainment
  verb and one of its object nouns (emodata/flips/outcome.py negates that clause) is worth the outcome
  parse when one of its negation drafts passes.
`make_pairs` judges the drafts exactly as candidates (the annotate-stage VAD and both judges) and parses
a row for a kind only when one of its drafts passes. A draft is never emitted: the generator makes the
edit on the parse, and that candidate is judged again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from catalog.flips import FlipLexicon

from emodata.flips.morph import inflect_verb, match_case, plural
from emodata.flips.negation import HANDLED, SENTENCES, unhandled_negation

#: Antonym drafts per row (its strongest listed words of the utterance's side).
DRAFTS = 2
#: Verb tags whose forms a listed verb lemma is matched in.
VERB_TAGS = ("VB", "VBZ", "VBD", "VBN", "VBG")
SENTENCE_END = frozenset({".", "!", "?"})
AUX_FORMS = frozenset("am is are was were 'm 're 's ’m ’re ’s im can could will would should must have has had "
                      "do does did may might".split())
DO_FORMS = frozenset({"do", "does", "did"})
PRONOUNS = frozenset("i you we they he she it that this there who people everyone".split())
#: Adverbs between a subject and its verb ("I just felt", "that really sounds").
ADVERBS = frozenset("just really still also always even actually definitely totally so usually often".split())


def offsets(text: str, words: Sequence[str]) -> list[int] | None:
    """Character offset of each stored token in `text` (tokens are substrings in order), or None."""
    out, pos = [], 0
    for word in words:
        at = text.find(word, pos)
        if at < 0:
            return None
        out.append(at)
        pos = at + len(word)
    return out


def surface_antonyms(lexicon: FlipLexicon) -> dict[str, tuple[str, ...]]:
    """Every listed word form → its antonym(s) in the same form (lower case; a form may be listed under
    several parts of speech: "upset", "win")."""
    table: dict[str, set[str]] = {}

    def add(form: str, anti: str) -> None:
        table.setdefault(form, set()).add(anti)

    for pos in ("ADJ", "ADV"):
        for word, anti in lexicon.antonyms.get(pos, {}).items():
            add(word, anti)
    for lemma, anti in lexicon.antonyms.get("VERB", {}).items():
        for tag in VERB_TAGS:
            add(inflect_verb(lemma, tag, lexicon.verb_forms), inflect_verb(anti, tag, lexicon.verb_forms))
    for lemma, anti in lexicon.antonyms.get("NOUN", {}).items():
        add(lemma, anti)
        add(plural(lemma, lexicon.plurals), plural(anti, lexicon.plurals))
    return {form: tuple(sorted(antis)) for form, antis in table.items()}


def outcome_forms(lexicon: FlipLexicon) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(forms of swap and passive verbs, forms of attainment verbs, their object and "into" nouns)."""
    def forms(lemmas) -> frozenset[str]:
        return frozenset(inflect_verb(v, tag, lexicon.verb_forms) for v in lemmas for tag in VERB_TAGS)

    nouns = {n for rule in lexicon.attain for n in rule.objects | rule.into}
    return (forms({r.verb for r in lexicon.swaps} | set(lexicon.passive)),
            forms({v for rule in lexicon.attain for v in rule.verbs}),
            frozenset(nouns | {plural(n, lexicon.plurals) for n in nouns}))


def outcome_swaps(lexicon: FlipLexicon) -> dict[str, tuple[str, ...]]:
    """Every form of a swap rule's verb → its counterpart in the same form, and every passive participle →
    the listed counterpart's participle (lower case; the outcome drafts' table)."""
    table: dict[str, set[str]] = {}
    for rule in lexicon.swaps:
        for tag in VERB_TAGS:
            table.setdefault(inflect_verb(rule.verb, tag, lexicon.verb_forms), set()).add(
                inflect_verb(rule.to, tag, lexicon.verb_forms))
    for verb, other in lexicon.passive.items():
        table.setdefault(inflect_verb(verb, "VBN", lexicon.verb_forms), set()).add(
            inflect_verb(other, "VBN", lexicon.verb_forms))
    return {form: tuple(sorted(others)) for form, others in table.items()}


def outcome_drafts(text: str, words: Sequence[str], lower: Sequence[str], offs: list[int],
                   table: dict[str, tuple[str, ...]]) -> list[str]:
    """Drafts swapping each outcome verb form for its counterpart (module docstring), in token order."""
    return [_edit(text, offs, words, i, match_case(words[i], other))
            for i, low in enumerate(lower) if low in table for other in table[low]]


def attainment_possible(lower: Sequence[str], forms: tuple[frozenset[str], frozenset[str], frozenset[str]]) -> bool:
    """Whether an attainment rule could apply: a form of one of its verbs and one of its nouns."""
    _, attain, nouns = forms
    words = set(lower)
    return bool(words & attain and words & nouns)


def outcome_possible(lower: Sequence[str], forms: tuple[frozenset[str], frozenset[str], frozenset[str]]) -> bool:
    """Whether an outcome rule could apply (see the module docstring)."""
    swap, attain, nouns = forms
    words = set(lower)
    return bool(words & swap) or bool(words & attain and words & nouns)


def _edit(text: str, offs: list[int], words: Sequence[str], i: int, new: str, how: str = "replace") -> str:
    start, end = offs[i], offs[i] + len(words[i])
    if how == "after":
        return f"{text[:end]} {new}{text[end:]}"
    if how == "before":
        return f"{text[:start]}{new} {text[start:]}"
    return text[:start] + new + text[end:]


def antonym_drafts(text: str, words: Sequence[str], lower: Sequence[str], offs: list[int],
                   table: dict[str, tuple[str, ...]], valence: Callable[[str], float | None],
                   positive: bool) -> list[str]:
    """Drafts swapping the DRAFTS strongest listed words of the utterance's side (module docstring)."""
    found = []
    for i, low in enumerate(lower):
        if low in table:
            v = valence(low)
            if v is not None and v != 0.5 and (v > 0.5) == positive:
                found.append((-abs(v - 0.5), i))
    drafts = []
    for _, i in sorted(found)[:DRAFTS]:
        drafts += [_edit(text, offs, words, i, match_case(words[i], anti)) for anti in table[lower[i]]]
    return drafts


def _sentences(lower: Sequence[str]) -> list[range]:
    out, start = [], 0
    for i, low in enumerate(lower):
        if low in SENTENCE_END and (i + 1 == len(lower) or lower[i + 1] not in SENTENCE_END):
            out.append(range(start, i + 1))
            start = i + 1
    if start < len(lower):
        out.append(range(start, len(lower)))
    return out


def _negation_draft(text: str, words: Sequence[str], lower: Sequence[str], offs: list[int], sent: range) -> list[str]:
    negs = [i for i in sent if lower[i] in HANDLED]
    if negs:  # drop the negation, with a "do" it hangs on ("I don't like it" -> "I like it")
        i = negs[0]
        start = offs[i - 1] if i > sent.start and lower[i - 1] in DO_FORMS and lower[i] != "never" else offs[i]
        end = offs[i] + len(words[i])
        return [(text[:start].rstrip() + " " + text[end:].lstrip()).strip()]
    words_in = [i for i in sent if any(ch.isalpha() for ch in words[i])]
    if not words_in:
        return []
    drafts = []
    aux = next((i for i in words_in if lower[i] in AUX_FORMS), None)
    if aux is not None:
        drafts.append(_edit(text, offs, words, aux, "not", "after"))
    subject = next((k for k, i in enumerate(words_in) if lower[i] in PRONOUNS), None)
    verb = next((i for i in words_in[(subject if subject is not None else 0) + 1:] if lower[i] not in ADVERBS
                 and not lower[i].endswith("ly")), None)
    if verb is not None and verb != aux and (aux is None or verb < aux):
        drafts.append(_edit(text, offs, words, verb, "don't", "before"))
    first = words_in[0]
    if lower[first] not in PRONOUNS and first not in (aux, verb):
        drafts.append(_edit(text, offs, words, first, "Don't " + words[first][:1].lower() + words[first][1:]))
    return drafts


def negation_drafts(text: str, words: Sequence[str], lower: Sequence[str], offs: list[int]) -> list[str]:
    """Drafts negating (or un-negating) the first SENTENCES statement sentences (module docstring)."""
    if unhandled_negation(lower):
        return []
    negated = any(low in HANDLED for low in lower)
    out: list[str] = []
    n_sentences = 0
    for sent in _sentences(lower):
        if n_sentences == SENTENCES:
            break
        if "?" in (lower[i] for i in sent) or negated and not any(lower[i] in HANDLED for i in sent):
            continue
        mine = _negation_draft(text, words, lower, offs, sent)
        n_sentences += bool(mine)
        out += mine
    return out


@dataclass(frozen=True)
class DraftTables:
    """The lexicon tables the drafts read (built once per flip partition)."""

    antonyms: dict[str, tuple[str, ...]]
    forms: tuple[frozenset[str], frozenset[str], frozenset[str]]
    swaps: dict[str, tuple[str, ...]]


def draft_tables(lexicon: FlipLexicon) -> DraftTables:
    """`surface_antonyms`, `outcome_forms` and `outcome_swaps` of a flip lexicon."""
    return DraftTables(surface_antonyms(lexicon), outcome_forms(lexicon), outcome_swaps(lexicon))


def row_drafts(text: str, words: Sequence[str], lower: Sequence[str], tables: DraftTables,
               valence: Callable[[str], float | None], positive: bool) -> dict[str, list[str]] | None:
    """kind → the drafts of one row, in the order they are judged; None when its stored tokens are not
    substrings of its text (no draft can be placed)."""
    offs = offsets(text, words)
    if offs is None:
        return None
    return {"outcome": outcome_drafts(text, words, lower, offs, tables.swaps),
            "antonym": antonym_drafts(text, words, lower, offs, tables.antonyms, valence, positive),
            "negation": negation_drafts(text, words, lower, offs)}
