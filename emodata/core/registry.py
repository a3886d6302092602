"""Everything a user chooses by name, in one place: `catalogue` registries (the library spaCy's own
registry is built on).

| registry        | what is registered                                   | chosen by                     |
|-----------------|------------------------------------------------------|-------------------------------|
| `sources`       | a `SourceEntry` (local reader + Hub converter)       | the corpora of `--mix`        |
| `engines`       | a factory `(config) -> Engine`                       | `--engine`                    |
| `aggregators`   | a factory of the weak-label aggregator               | `--label-model`               |
| `lf_sets`       | a function returning the labeling functions of a set | the emotion / appraisal LFs   |
| `scope_methods` | a negation scope resolver                            | `--negation-scope`            |

Register with the decorator (`@registry.engines.register("mine")`) or `register(name, func=...)`;
other packages may also register through the entry-point group `emodata_<registry>` (e.g.
`emodata_sources`), as spaCy's registries do. `choose()` looks a name up with a clear error, and
`describe()` gives the `{name, version}` recorded in a manifest.
"""
from __future__ import annotations

from typing import Any

import catalogue

from emodata.core.errors import EmodataError

sources = catalogue.create("emodata", "sources", entry_points=True)
engines = catalogue.create("emodata", "engines", entry_points=True)
aggregators = catalogue.create("emodata", "aggregators", entry_points=True)
lf_sets = catalogue.create("emodata", "lf_sets", entry_points=True)
scope_methods = catalogue.create("emodata", "scope_methods", entry_points=True)


def names(registry: catalogue.Registry) -> list[str]:
    """The registered names of `registry`, sorted."""
    return sorted(registry.get_all())


def choose(registry: catalogue.Registry, name: str, what: str) -> Any:
    """The entry registered as `name`; an `EmodataError` naming `what` and the known names otherwise."""
    if name not in registry:
        known = ", ".join(names(registry)) or "none"
        raise EmodataError(f"unknown {what} {name!r}; known: {known}")
    return registry.get(name)


def unregister(registry: catalogue.Registry, name: str) -> None:
    """Remove `name` from `registry` (for tests and plug-ins that replace an entry); no-op if absent."""
    if name in registry.get_all():
        catalogue._remove((*registry.namespace, name))


def describe(registry: catalogue.Registry, name: str) -> dict[str, str]:
    """`{"name", "version"}` of a chosen entry, for the manifest: the entry's `version` attribute when it
    declares one, else the emodata version that ships it."""
    from emodata import __version__

    entry = choose(registry, name, registry.namespace[-1].rstrip("s"))
    return {"name": name, "version": str(getattr(entry, "version", __version__))}
