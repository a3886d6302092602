"""The Valence-Flip data in catalog/flips/: polarity antonyms, outcome rules, inflection data and the
label mirror map.

`load_flips()` reads the four YAML files once and checks them: antonym maps are symmetric within
each part of speech, the mirror map covers the unified label space exactly (every label mirrored or
listed with null) and is an involution, outcome rules name known noun lists, and irregular verb
forms give only known forms. The generators that use this data live in `emodata.flips`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from catalog import CATALOG_DIR, load_catalog

#: Flip kinds, in the order `emodata.flips.make_pairs` tries their generators.
FLIP_KINDS = ("outcome", "antonym", "negation")
#: Parts of speech (spaCy coarse tags) an antonym may have.
ANTONYM_POS = ("ADJ", "VERB", "NOUN", "ADV")
#: Forms an irregular verb entry may give.
VERB_FORM_KEYS = ("past", "participle", "gerund", "third")
#: Conditions a swap rule may carry (see outcomes.yaml).
SWAP_CONDITIONS = ("objects", "intransitive", "infinitive", "prep", "add_prep")


@dataclass(frozen=True)
class SwapRule:
    """An outcome verb swap: `verb` → `to` when the clause fits the rule's condition."""

    verb: str
    to: str
    objects: frozenset[str] = frozenset()
    intransitive: bool = False
    infinitive: bool = False
    prep: str | None = None
    add_prep: str | None = None


@dataclass(frozen=True)
class AttainRule:
    """An attainment clause: one of `verbs` with an object in `objects` (or "into" one of `into`)."""

    verbs: frozenset[str]
    objects: frozenset[str] = frozenset()
    into: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FlipLexicon:
    """Everything the flip generators and the label mirror read from the catalog."""

    antonyms: dict[str, dict[str, str]]
    verb_forms: dict[str, dict[str, str]]
    plurals: dict[str, str]
    verb_exceptions: dict[str, frozenset[str]]
    idioms: tuple[str, ...]
    swaps: tuple[SwapRule, ...]
    passive: dict[str, str]
    attain: tuple[AttainRule, ...]
    mirror: dict[str, str | None]
    versions: dict[str, str]

    def antonym(self, pos: str, word: str) -> str | None:
        """The antonym of `word` (lemma for VERB/NOUN, lower-cased surface form for ADJ/ADV)."""
        return self.antonyms.get(pos, {}).get(word)

    def n_pairs(self) -> int:
        """Number of antonym pairs (each pair is listed in both directions)."""
        return sum(len(m) for m in self.antonyms.values()) // 2


def _read(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"catalog: {path} is missing")
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"catalog: {path} must hold a YAML mapping")
    return data


def _word(path: Path, where: str, value) -> str:
    # YAML turns bare true/false/yes/no into booleans: demand real, lower-case strings.
    if not isinstance(value, str) or not value or value != value.strip().lower():
        raise ValueError(f"catalog: {path.name}: {where}: {value!r} is not a lower-case word (quote YAML "
                         "keywords such as true/false)")
    return value


def _antonyms(path: Path, data: dict) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for pos, table in (data.get("antonyms") or {}).items():
        if pos not in ANTONYM_POS:
            raise ValueError(f"catalog: {path.name}: unknown part of speech {pos!r} (known: {ANTONYM_POS})")
        table = {_word(path, f"{pos} key", k): _word(path, f"{pos}.{k}", v) for k, v in (table or {}).items()}
        for word, anti in table.items():
            if word == anti:
                raise ValueError(f"catalog: {path.name}: {pos}.{word} is its own antonym")
            if table.get(anti) != word:
                raise ValueError(f"catalog: {path.name}: {pos}.{word} -> {anti!r} is not symmetric "
                                 f"({pos}.{anti} -> {table.get(anti)!r}); list every pair in both directions")
        out[pos] = table
    return out


def _idioms(path: Path, data: dict) -> tuple[str, ...]:
    idioms = []
    for i, phrase in enumerate(data.get("idioms") or []):
        if not isinstance(phrase, str) or not phrase.strip() or phrase != " ".join(phrase.lower().split()):
            raise ValueError(f"catalog: {path.name}: idioms[{i}] = {phrase!r} is not a lower-case phrase")
        idioms.append(phrase)
    return tuple(idioms)


def _verb_forms(path: Path, data: dict) -> dict[str, dict[str, str]]:
    forms: dict[str, dict[str, str]] = {}
    for lemma, entry in (data.get("verb_forms") or {}).items():
        lemma = _word(path, "verb_forms key", lemma)
        if not isinstance(entry, dict) or not set(entry) <= set(VERB_FORM_KEYS) or not entry:
            raise ValueError(f"catalog: {path.name}: verb_forms.{lemma} must map some of {VERB_FORM_KEYS} "
                             f"to forms, not {entry!r}")
        forms[lemma] = {k: _word(path, f"verb_forms.{lemma}.{k}", v) for k, v in entry.items()}
    return forms


def _symmetric(path: Path, name: str, table: dict) -> dict[str, str]:
    table = {_word(path, f"{name} key", k): _word(path, f"{name}.{k}", v) for k, v in (table or {}).items()}
    for key, value in table.items():
        if table.get(value) != key:
            raise ValueError(f"catalog: {path.name}: {name}.{key} -> {value!r} is not symmetric")
    return table


def _outcomes(path: Path, data: dict) -> tuple[tuple[SwapRule, ...], dict[str, str], tuple[AttainRule, ...]]:
    nouns = {name: frozenset(_word(path, f"nouns.{name}", w) for w in words)
             for name, words in (data.get("nouns") or {}).items()}

    def noun_list(where: str, name) -> frozenset[str]:
        if name not in nouns:
            raise ValueError(f"catalog: {path.name}: {where} names unknown noun list {name!r} (known: {sorted(nouns)})")
        return nouns[name]

    swaps = []
    for i, rule in enumerate(data.get("swaps") or []):
        where = f"swaps[{i}]"
        extra = set(rule) - {"verb", "to", *SWAP_CONDITIONS}
        if extra or not any(rule.get(c) for c in SWAP_CONDITIONS):
            raise ValueError(f"catalog: {path.name}: {where} needs verb, to and one of {SWAP_CONDITIONS} "
                             f"(unknown keys: {sorted(extra)})")
        swaps.append(SwapRule(
            verb=_word(path, where, rule.get("verb")), to=_word(path, where, rule.get("to")),
            objects=noun_list(where, rule["objects"]) if rule.get("objects") else frozenset(),
            intransitive=bool(rule.get("intransitive")), infinitive=bool(rule.get("infinitive")),
            prep=_word(path, where, rule["prep"]) if rule.get("prep") else None,
            add_prep=_word(path, where, rule["add_prep"]) if rule.get("add_prep") else None))
    attain = []
    for i, rule in enumerate(data.get("attain") or []):
        where = f"attain[{i}]"
        verbs = frozenset(_word(path, where, v) for v in rule.get("verbs") or [])
        if not verbs or not (rule.get("objects") or rule.get("into")):
            raise ValueError(f"catalog: {path.name}: {where} needs verbs and objects or into")
        attain.append(AttainRule(verbs, noun_list(where, rule["objects"]) if rule.get("objects") else frozenset(),
                                 noun_list(where, rule["into"]) if rule.get("into") else frozenset()))
    return tuple(swaps), _symmetric(path, "passive", data.get("passive")), tuple(attain)


def _mirror(path: Path, data: dict, labels: tuple[str, ...]) -> dict[str, str | None]:
    table = data.get("mirror") or {}
    missing = [label for label in labels if label not in table]
    unknown = sorted(set(table) - set(labels))
    if missing or unknown:
        raise ValueError(f"catalog: {path.name}: the mirror map must list every unified label exactly "
                         f"(missing: {missing}; not in the unified space: {unknown})")
    for label, mirror in table.items():
        if mirror is None:
            continue
        if mirror not in labels:
            raise ValueError(f"catalog: {path.name}: mirror.{label} -> {mirror!r} is not a unified label")
        if mirror == label:
            raise ValueError(f"catalog: {path.name}: mirror.{label} is its own mirror; use null for no mirror")
        if table.get(mirror) != label:
            raise ValueError(f"catalog: {path.name}: mirror.{label} -> {mirror} but mirror.{mirror} -> "
                             f"{table.get(mirror)!r}; the map must be symmetric")
    return {label: table[label] for label in labels}


@functools.lru_cache(maxsize=4)
def load_flips(root: str | None = None) -> FlipLexicon:
    """Load and check catalog/flips/*.yaml at `root` (default: the packaged catalog)."""
    base = Path(root) if root else CATALOG_DIR
    paths = {name: base / "flips" / f"{name}.yaml" for name in ("antonyms", "outcomes", "morphology", "mirror")}
    data = {name: _read(path) for name, path in paths.items()}
    antonyms = _antonyms(paths["antonyms"], data["antonyms"])
    swaps, passive, attain = _outcomes(paths["outcomes"], data["outcomes"])
    a, m = paths["antonyms"], paths["morphology"]
    exceptions = {_word(a, "verb_exceptions key", verb): frozenset(_word(a, f"verb_exceptions.{verb}", o) for o in objs)
                  for verb, objs in (data["antonyms"].get("verb_exceptions") or {}).items()}
    return FlipLexicon(
        antonyms=antonyms,
        verb_forms=_verb_forms(m, data["morphology"]),
        plurals={_word(m, "plurals key", k): _word(m, f"plurals.{k}", v)
                 for k, v in (data["morphology"].get("plurals") or {}).items()},
        verb_exceptions=exceptions, idioms=_idioms(a, data["antonyms"]), swaps=swaps, passive=passive, attain=attain,
        mirror=_mirror(paths["mirror"], data["mirror"], load_catalog(root).unified_labels),
        versions={name: str(d.get("version", "")) for name, d in data.items()})
