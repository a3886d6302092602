"""Lemma fallback for lexicon lookups: a word missing from the lexicon is tried as its lemmas.

With a spaCy model installed, candidates come from its English rule-lemmatizer tables (the same
exceptions, suffix rules and index spaCy uses), tried as noun, verb and adjective. Without one, a
small set of English suffix rules is used. Either way lookups are memoised per word type.
"""
from __future__ import annotations

from typing import Callable

from emodata.text.lexicon import VAD, Lexicon
from emodata.text.nlp import Pipeline

_POS = ("noun", "verb", "adj")
_SUFFIX_RULES = (("ies", "y"), ("ves", "f"), ("es", ""), ("s", ""), ("ied", "y"), ("ed", ""), ("ed", "e"),
                 ("ing", ""), ("ing", "e"), ("ier", "y"), ("iest", "y"), ("er", ""), ("est", ""), ("ly", ""),
                 ("ily", "y"))


def _table_candidates(tables: dict) -> Callable[[str], list[str]]:
    exc, rules = tables["lemma_exc"], tables["lemma_rules"]
    index = {pos: set(words) for pos, words in tables["lemma_index"].items()}

    def candidates(word: str) -> list[str]:
        found: list[str] = []
        for pos in _POS:
            found.extend(exc.get(pos, {}).get(word, ()))
            pos_index = index.get(pos, set())
            for old, new in rules.get(pos, ()):
                if word.endswith(old) and len(word) > len(old):
                    form = word[: len(word) - len(old)] + new
                    if form in pos_index:
                        found.append(form)
        return found

    return candidates


def suffix_candidates(word: str) -> list[str]:
    found = []
    for old, new in _SUFFIX_RULES:
        if word.endswith(old) and len(word) > len(old) + 1:
            stem = word[: len(word) - len(old)] + new
            found.append(stem)
            if len(stem) > 2 and stem[-1] == stem[-2]:  # stopped -> stopp -> stop
                found.append(stem[:-1])
    return found


def candidate_function(pipeline: Pipeline) -> Callable[[str], list[str]]:
    """The lemma-candidate generator for a pipeline: spaCy's rule tables, or suffix rules."""
    if "lemmatizer" in pipeline.nlp.pipe_names:
        lookups = pipeline.nlp.get_pipe("lemmatizer").lookups
        if all(lookups.has_table(t) for t in ("lemma_exc", "lemma_rules", "lemma_index")):
            tables = {t: lookups.get_table(t) for t in ("lemma_exc", "lemma_rules", "lemma_index")}
            # spaCy tables key by string hash; copy the three POS entries into plain dicts once.
            plain = {name: {pos: table.get(pos) or {} for pos in _POS} for name, table in tables.items()}
            return _table_candidates(plain)
    return suffix_candidates


class LexiconLookup:
    """`lookup(word)` → VAD of the word or of its first lemma in the lexicon; memoised."""

    def __init__(self, lexicon: Lexicon, candidates: Callable[[str], list[str]]):
        self.lexicon = lexicon
        self.candidates = candidates
        self._memo: dict[str, VAD | None] = {}

    def __call__(self, word: str) -> VAD | None:
        try:
            return self._memo[word]
        except KeyError:
            pass
        found = self.lexicon.get(word)
        if found is None:
            found = next((self.lexicon.get(c) for c in self.candidates(word) if c in self.lexicon), None)
        self._memo[word] = found
        return found
