"""Markdown helpers and lexicon/source facts shared by the dataset card's sections (emodata/card.py)."""
from __future__ import annotations

import json
from typing import Any, Iterable

from catalog import load_catalog

from emodata.core.manifest import Manifest

#: Catalog license strings → Hugging Face license ids.
HF_LICENSES = {
    "cc by 4.0": "cc-by-4.0",
    "cc by-sa 4.0": "cc-by-sa-4.0",
    "cc by-nc 4.0": "cc-by-nc-4.0",
    "cc by-nc-sa 4.0": "cc-by-nc-sa-4.0",
    "cc by-nc-nd 4.0": "cc-by-nc-nd-4.0",
    "cc by-nd 4.0": "cc-by-nd-4.0",
    "cc by 3.0": "cc-by-3.0",
    "cc by-sa 3.0": "cc-by-sa-3.0",
    "cc by-nc 3.0": "cc-by-nc-3.0",
    "cc by-nc-sa 3.0": "cc-by-nc-sa-3.0",
    "cc by-nc-nd 3.0": "cc-by-nc-nd-3.0",
    "cc0 1.0": "cc0-1.0",
    "mit": "mit",
    "apache 2.0": "apache-2.0",
    "apache-2.0": "apache-2.0",
}

#: What we know about each lexicon family: citation and terms (matched on the manifest lexicon name).
LEXICON_NOTES = {
    "nrc-vad": {
        "title": "NRC Valence, Arousal, and Dominance Lexicon (NRC-VAD)",
        "citation": "Saif M. Mohammad. 2018. Obtaining Reliable Human Ratings of Valence, Arousal, and "
                    "Dominance for 20,000 English Words. In Proceedings of ACL 2018, pages 174-184. "
                    "https://aclanthology.org/P18-1017",
        "terms": "Free for research and non-commercial use under the author's terms "
                 "(https://saifmohammad.com/WebPages/nrc-vad.html); commercial use needs a licence from "
                 "the National Research Council Canada. The lexicon is not redistributed in this dataset; "
                 "only utterance-level scores derived from it are.",
    },
    "nrclex-proxy": {
        "title": "VAD proxy derived from the NRC Emotion Lexicon (EmoLex) shipped in the nrclex package",
        "citation": "Saif M. Mohammad and Peter D. Turney. 2013. Crowdsourcing a Word-Emotion Association "
                    "Lexicon. Computational Intelligence 29(3): 436-465. The proxy maps each word's ten "
                    "binary EmoLex associations to V, A and D with 33 linear coefficients fitted on NRC-VAD v1 "
                    "(emodata/lexicon.py).",
        "terms": "EmoLex is free for research and non-commercial use under the author's terms "
                 "(https://saifmohammad.com/WebPages/NRC-Emotion-Lexicon.htm); the nrclex package that "
                 "ships the word list is MIT-licensed. Only utterance-level scores derived from it are "
                 "included here.",
    },
    "warriner": {
        "title": "Warriner et al. (2013) norms of valence, arousal and dominance",
        "citation": "Amy Beth Warriner, Victor Kuperman and Marc Brysbaert. 2013. Norms of valence, arousal, "
                    "and dominance for 13,915 English lemmas. Behavior Research Methods 45: 1191-1207. "
                    "https://doi.org/10.3758/s13428-012-0314-x",
        "terms": "Released by the authors as supplementary material for research use; check the authors' "
                 "terms before any commercial use. Ratings (1-9) are rescaled to (v-1)/8; only "
                 "utterance-level scores derived from them are included here.",
    },
}


def hf_license_id(license_text: str | None) -> str:
    """The Hugging Face license id of a catalog license string ("CC BY-NC 4.0" → "cc-by-nc-4.0")."""
    if not license_text:
        return "unknown"
    key = " ".join(license_text.strip().lower().replace("_", " ").split())
    if key in HF_LICENSES:
        return HF_LICENSES[key]
    if key.startswith("cc"):
        return key.replace(" ", "-")
    return "other"


def lexicon_name(manifest: Manifest) -> str:
    """The build's lexicon name ("" when the manifest does not say)."""
    return str(manifest.lexicon.get("name", ""))


def lexicon_family(name: str) -> str | None:
    """The `LEXICON_NOTES` family of a lexicon name (nrc-vad, nrclex-proxy, warriner), or None."""
    for family in LEXICON_NOTES:
        if name.startswith(family):
            return family
    return None


def license_of(manifest: Manifest, name: str) -> str | None:
    """A source's license: the one its manifest entry records, else its catalog card's."""
    info = manifest.sources.get(name)
    if info is not None and info.card is not None and info.card.license:
        return info.card.license
    catalog_card = load_catalog().sources.get(name)
    return catalog_card.license if catalog_card else None


def title_of(name: str) -> str:
    """A source's title from its catalog card (its name when it has none)."""
    card = load_catalog().sources.get(name)
    return card.title if card else name


def fmt(value: Any) -> str:
    """A value for a card: yes/no, 4 significant digits, thousands separators, – for None, JSON for containers."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if value is None:
        return "–"
    if isinstance(value, (dict, list)):
        return "`" + json.dumps(value, sort_keys=True, ensure_ascii=False) + "`"
    return str(value)


def _cell(value: Any) -> str:
    return fmt(value).replace("|", "\\|").replace("\n", " ")


def md_table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """A Markdown table (cells formatted with thousands separators; pipes escaped)."""
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def kv_lines(data: dict, indent: str = "") -> list[str]:
    """A nested dict as a Markdown bullet list (lists of dicts are summarised by length)."""
    lines = []
    for key in sorted(data):
        value = data[key]
        if isinstance(value, dict) and value and len(json.dumps(value)) > 120:
            lines.append(f"{indent}- **{key}**:")
            lines += kv_lines(value, indent + "  ")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{indent}- **{key}**: {len(value)} entries")
        else:
            lines.append(f"{indent}- **{key}**: {fmt(value)}")
    return lines
