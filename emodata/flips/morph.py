"""English morphology for flips: verb and noun inflection, capitalisation, and "a"/"an".

Rules cover regular English spelling (e-drop, y→ie, doubling a final consonant after one short
vowel in one syllable, -es after sibilants); irregular forms come from the catalog
(`verb_forms`, `plurals`), so a new irregular word is a data change.
"""
from __future__ import annotations

import re

_VOWELS = "aeiou"
_SIBILANT = ("s", "sh", "ch", "x", "z", "o")
# One syllable ending consonant-vowel-consonant (not w/x/y): the final consonant doubles (win → winning).
_CVC = re.compile(r"^[^aeiou]*[aeiou][^aeiouwxy]$")
# Words whose initial letter does not predict the article (the sound does).
_AN_EXCEPTIONS = ("hour", "honest", "honor", "honour", "heir")
_A_EXCEPTIONS = ("uni", "use", "usu", "usa", "ute", "one", "once", "eu", "ewe", "ubi", "uti", "ura")


def _double(word: str) -> bool:
    return bool(_CVC.match(word))


def third_person(lemma: str) -> str:
    """'like' → 'likes', 'cry' → 'cries', 'pass' → 'passes'."""
    if lemma.endswith("y") and len(lemma) > 1 and lemma[-2] not in _VOWELS:
        return lemma[:-1] + "ies"
    if lemma.endswith(_SIBILANT):
        return lemma + "es"
    return lemma + "s"


def past(lemma: str) -> str:
    """Regular past tense: 'love' → 'loved', 'cry' → 'cried', 'shun' → 'shunned'."""
    if lemma.endswith("e"):
        return lemma + "d"
    if lemma.endswith("y") and len(lemma) > 1 and lemma[-2] not in _VOWELS:
        return lemma[:-1] + "ied"
    if _double(lemma):
        return lemma + lemma[-1] + "ed"
    return lemma + "ed"


def gerund(lemma: str) -> str:
    """'love' → 'loving', 'agree' → 'agreeing', 'die' → 'dying', 'win' → 'winning'."""
    if lemma.endswith("ie"):
        return lemma[:-2] + "ying"
    if lemma.endswith("e") and not lemma.endswith(("ee", "ye", "oe")) and len(lemma) > 2:
        return lemma[:-1] + "ing"
    if _double(lemma):
        return lemma + lemma[-1] + "ing"
    return lemma + "ing"


def inflect_verb(lemma: str, tag: str, irregular: dict[str, dict[str, str]] | None = None) -> str:
    """The form of `lemma` for a Penn tag (VB, VBP, VBZ, VBD, VBN, VBG); other tags give the lemma."""
    forms = (irregular or {}).get(lemma, {})
    if tag == "VBZ":
        return forms.get("third") or third_person(lemma)
    if tag == "VBD":
        return forms.get("past") or past(lemma)
    if tag == "VBN":
        return forms.get("participle") or forms.get("past") or past(lemma)
    if tag == "VBG":
        return forms.get("gerund") or gerund(lemma)
    return lemma


def plural(noun: str, irregular: dict[str, str] | None = None) -> str:
    """'enemy' → 'enemies', 'loss' → 'losses', 'friend' → 'friends' (catalog irregulars first)."""
    if irregular and noun in irregular:
        return irregular[noun]
    if noun.endswith("y") and len(noun) > 1 and noun[-2] not in _VOWELS:
        return noun[:-1] + "ies"
    if noun.endswith(("s", "sh", "ch", "x", "z")):
        return noun + "es"
    return noun + "s"


def match_case(source: str, word: str) -> str:
    """`word` capitalised like `source`: 'LOVED' → 'HATED', 'Loved' → 'Hated', 'loved' → 'hated'."""
    letters = [c for c in source if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return word.upper()
    if letters and source[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def article_for(word: str) -> str:
    """'a' or 'an' before `word`, by its (approximate) first sound."""
    low = word.lower()
    if low.startswith(_AN_EXCEPTIONS):
        return "an"
    if low.startswith(_A_EXCEPTIONS):
        return "a"
    return "an" if low[:1] in _VOWELS else "a"
