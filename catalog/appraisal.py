"""The emotion → appraisal prototype table (catalog/appraisal/prototypes.yaml) and s̃(y).

`load_prototypes()` reads the table once, checks it against the unified label space (every label
but `other` has a prototype, every atom is given for every label, values lie in [0, 1] or are null,
every reference is defined) and hashes it. `prototype(labels)` is the prototype target s̃(y) of a
gold label set; the aggregation is stated in the YAML (`aggregation`) and in `AppraisalTable.prototype`.
"""
from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import yaml

from catalog import CATALOG_DIR, OTHER, load_catalog

PROTOTYPES_FILE = CATALOG_DIR / "appraisal" / "prototypes.yaml"
NEUTRAL = "neutral"


@dataclass(frozen=True)
class AppraisalTable:
    """Atoms (fixed order), per-label prototype values (None = no prediction) and their sources."""

    atoms: tuple[str, ...]
    labels: tuple[str, ...]
    values: dict[str, dict[str, float | None]]
    refs: dict[str, dict[str, tuple[str, ...]]]
    references: dict[str, str]
    version: str
    sha1: str
    path: str

    def prototype(self, labels: Iterable[str]) -> dict[str, float | None]:
        """s̃(y): per atom, the mean of the non-null values of the labels in `labels`.

        `other` is skipped (no prototype); `neutral` is skipped when an emotion label is present too.
        Atoms no label gives a value are None; labels outside the unified space raise ValueError.
        """
        given = list(dict.fromkeys(labels))
        unknown = [x for x in given if x not in self.values and x != OTHER]
        if unknown:
            raise ValueError(f"appraisal prototype: labels {unknown} are not in the unified label space "
                             f"({self.path})")
        known = [x for x in given if x in self.values]
        if len(known) > 1 and NEUTRAL in known:
            known.remove(NEUTRAL)
        out: dict[str, float | None] = {}
        for atom in self.atoms:
            found = [self.values[x][atom] for x in known if self.values[x][atom] is not None]
            out[atom] = float(sum(found) / len(found)) if found else None
        return out

    def prototype_matrix(self, label_sets: Sequence[Iterable[str]]) -> np.ndarray:
        """s̃(y) of many label sets as an n × M float array (NaN where unknown), atoms in `self.atoms` order."""
        out = np.full((len(label_sets), len(self.atoms)), np.nan)
        cache: dict[tuple[str, ...], list[float]] = {}
        for i, labels in enumerate(label_sets):
            key = tuple(labels) if labels is not None else ()
            if key not in cache:
                proto = self.prototype(key)
                cache[key] = [math.nan if proto[a] is None else proto[a] for a in self.atoms]
            out[i] = cache[key]
        return out

    def describe(self) -> dict:
        """The manifest entry of the table."""
        return {"name": "appraisal-prototypes", "version": self.version, "sha1": self.sha1,
                "atoms": list(self.atoms), "file": Path(self.path).name}


def _fail(path: Path, where: str, problem: str) -> ValueError:
    return ValueError(f"catalog: {path}: {where}: {problem}")


def _parse(path: Path, data: dict, unified: Sequence[str]) -> AppraisalTable:
    if not isinstance(data, dict):
        raise _fail(path, "top level", "expected a mapping")
    atoms = tuple(data.get("atoms") or ())
    if not atoms or len(set(atoms)) != len(atoms):
        raise _fail(path, "atoms", "expected a non-empty mapping of unique atom names")
    references = {str(k): str(v) for k, v in (data.get("references") or {}).items()}
    table = data.get("prototypes") or {}
    wanted = [x for x in unified if x != OTHER]
    missing = [x for x in wanted if x not in table]
    extra = [x for x in table if x not in wanted]
    if missing:
        raise _fail(path, "prototypes", f"no prototype for unified labels {missing}")
    if extra:
        raise _fail(path, "prototypes", f"labels {extra} are not unified labels with a prototype "
                                        f"(`{OTHER}` has none by design)")
    values: dict[str, dict[str, float | None]] = {}
    refs: dict[str, dict[str, tuple[str, ...]]] = {}
    for label in wanted:
        row = table[label] or {}
        if set(row) != set(atoms):
            raise _fail(path, f"prototypes.{label}",
                        f"atoms must be exactly {list(atoms)} (missing {sorted(set(atoms) - set(row))}, "
                        f"unknown {sorted(set(row) - set(atoms))})")
        values[label], refs[label] = {}, {}
        for atom in atoms:
            cell = row[atom]
            where = f"prototypes.{label}.{atom}"
            if not isinstance(cell, dict) or "value" not in cell:
                raise _fail(path, where, "expected {value: ..., ref: [...], note: ...}")
            value = cell["value"]
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not 0.0 <= float(value) <= 1.0):
                raise _fail(path, where, f"value {value!r} is neither null nor a number in [0, 1]")
            cited = tuple(cell.get("ref") or ())
            if not cited or any(r not in references for r in cited):
                raise _fail(path, where, f"ref {list(cited)} must name entries of `references`")
            if not str(cell.get("note") or "").strip():
                raise _fail(path, where, "a note saying what the source states is required")
            values[label][atom] = None if value is None else float(value)
            refs[label][atom] = cited
    return AppraisalTable(atoms=atoms, labels=tuple(wanted), values=values, refs=refs,
                          references=references, version=str(data.get("version", "")),
                          sha1=hashlib.sha1(path.read_bytes()).hexdigest(), path=str(path))


@functools.lru_cache(maxsize=4)
def load_prototypes(path: str | None = None) -> AppraisalTable:
    """Load and validate the prototype table (default: the packaged one)."""
    file = Path(path) if path else PROTOTYPES_FILE
    with open(file, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return _parse(file, data, load_catalog().unified_labels)


def appraisal_atoms() -> tuple[str, ...]:
    """The atoms of the packaged table, in their fixed order."""
    return load_prototypes().atoms


def prototype(labels: Iterable[str]) -> dict[str, float | None]:
    """s̃(y) of a gold label set from the packaged table (see `AppraisalTable.prototype`)."""
    return load_prototypes().prototype(labels)
