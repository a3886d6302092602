"""The catalog: source cards and label taxonomies (YAML data) and a small loader.

Everything here is data. `load_catalog()` reads it once, checks that every label map lands in the
unified label space, and hashes the files so manifests can record exactly which catalog built them.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml

CATALOG_DIR = Path(__file__).resolve().parent
UNIFIED = "unified"
#: Folders of YAML data hashed into `Catalog.sha1` (appraisal prototypes and flip lexica are read by
#: their own loaders, `catalog.appraisal` and `catalog.flips`, but enter the hash like the rest).
DATA_FOLDERS = ("sources", "taxonomies", "appraisal", "flips")
OTHER = "other"


@dataclass(frozen=True)
class SourceCard:
    """What a source is: citation, license, homepage, Hub id, raw formats and its taxonomy."""

    name: str
    version: str
    title: str
    description: str
    citation: str
    license: str
    license_url: str
    homepage: str
    hub_id: str
    hub_config: str | None
    taxonomy: str
    role: str
    raw_formats: tuple[dict, ...]
    splits: dict[str, str]


@dataclass(frozen=True)
class Taxonomy:
    """A label set in its source's id order, with its map into the unified label space."""

    name: str
    version: str
    labels: tuple[str, ...]
    to_unified: dict[str, str] = field(default_factory=dict)
    from_unified: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def label_of(self, label_id: int) -> str:
        """The label name of a source label id."""
        return self.labels[label_id]


@dataclass(frozen=True)
class Catalog:
    """All cards and taxonomies, plus the version and hash recorded in manifests."""

    sources: dict[str, SourceCard]
    taxonomies: dict[str, Taxonomy]
    sha1: str
    files: tuple[str, ...]

    @property
    def unified_labels(self) -> tuple[str, ...]:
        """The unified label space (GoEmotions-28 + `other`), in a fixed order."""
        return self.taxonomies[UNIFIED].labels

    def to_unified(self, taxonomy: str, labels: Iterable[str]) -> list[str]:
        """Map source labels into the unified space (sorted, de-duplicated)."""
        table = self.taxonomies[taxonomy].to_unified
        return sorted({table[label] for label in labels}, key=self.unified_labels.index)

    def group(self, taxonomy: str, unified: Iterable[str]) -> list[str]:
        """Group unified labels into a coarser taxonomy (e.g. Ekman-7); ungrouped labels vanish."""
        inverse = {member: name for name, members in self.taxonomies[taxonomy].from_unified.items()
                   for member in members}
        order = self.taxonomies[taxonomy].labels
        return sorted({inverse[label] for label in unified if label in inverse}, key=order.index)


def _read_yaml(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _taxonomy(data: dict) -> Taxonomy:
    return Taxonomy(
        name=data["name"],
        version=str(data["version"]),
        labels=tuple(data["labels"]),
        to_unified=dict(data.get("to_unified") or {}),
        from_unified={k: tuple(v) for k, v in (data.get("from_unified") or {}).items()},
    )


def _card(data: dict) -> SourceCard:
    return SourceCard(
        name=data["name"], version=str(data["version"]), title=data["title"],
        description=data.get("description", ""), citation=data["citation"],
        license=data["license"], license_url=data.get("license_url", ""),
        homepage=data["homepage"], hub_id=data["hub_id"], hub_config=data.get("hub_config"),
        taxonomy=data["taxonomy"], role=data["role"],
        raw_formats=tuple(data.get("raw_formats") or ()), splits=dict(data.get("splits") or {}),
    )


def _check(catalog: Catalog) -> None:
    unified = set(catalog.unified_labels)
    for tax in catalog.taxonomies.values():
        for label in tax.labels:
            if tax.to_unified and label not in tax.to_unified:
                raise ValueError(f"catalog: taxonomy {tax.name!r} does not map label {label!r}")
        bad = {v for v in tax.to_unified.values() if v not in unified}
        bad |= {m for members in tax.from_unified.values() for m in members if m not in unified}
        if bad:
            raise ValueError(f"catalog: taxonomy {tax.name!r} maps to unknown labels {sorted(bad)}")
    for card in catalog.sources.values():
        if card.taxonomy not in catalog.taxonomies:
            raise ValueError(f"catalog: source {card.name!r} names unknown taxonomy {card.taxonomy!r}")


@functools.lru_cache(maxsize=4)
def load_catalog(root: str | None = None) -> Catalog:
    """Load and check the catalog at `root` (default: the packaged one)."""
    base = Path(root) if root else CATALOG_DIR
    files = [p for folder in DATA_FOLDERS for p in sorted(base.glob(f"{folder}/*.yaml"))]
    digest = hashlib.sha1()
    for path in files:
        digest.update(path.relative_to(base).as_posix().encode() + b"\0" + path.read_bytes())
    sources = {c.name: c for c in (_card(_read_yaml(p)) for p in files if p.parent.name == "sources")}
    taxonomies = {t.name: t for t in (_taxonomy(_read_yaml(p)) for p in files
                                      if p.parent.name == "taxonomies")}
    catalog = Catalog(sources=sources, taxonomies=taxonomies, sha1=digest.hexdigest(),
                      files=tuple(p.relative_to(base).as_posix() for p in files))
    _check(catalog)
    return catalog
