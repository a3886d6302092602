"""Source readers, registered by name, and where each source's data is found.

`locate()` decides where a source comes from (an explicit path or `hf:ID`, the embedded sample,
or `DATA_DIR/<name>/`) and `read_source()` reads it. The readers live in the `sources` registry
(`emodata.core.registry`); users add a source with `register_source` or the `emodata_sources`
entry-point group.
"""
from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from catalog import load_catalog

from emodata.core import registry
from emodata.core.errors import DataNotFoundError
from emodata.sources.base import (CHUNK_ROWS, READER_COLUMNS, OnBadRow, ReadReport, SourceData, SourceStream,
                                  record_parts)
from emodata.sources.dailydialog import dailydialog_from_hub, read_dailydialog, stream_dailydialog
from emodata.sources.empathetic import empathetic_from_hub, read_empathetic, stream_empathetic
from emodata.sources.goemotions import goemotions_from_hub, read_goemotions, stream_goemotions
from emodata.core.validate import DEFAULT_MAX_CHARS, check_records

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"

Reader = Callable[..., SourceData]
HubConverter = Callable[[Mapping[str, Iterable[Mapping]], str], SourceData]
Streamer = Callable[..., SourceStream]


@dataclass(frozen=True)
class SourceEntry:
    """A registered source: its local reader, its Hub row converter and, when it can read a chunk at a
    time, its streaming reader (`stream(directory, on_bad_row=..., max_chars=..., chunk_rows=...)`)."""

    reader: Reader
    from_hub: HubConverter | None = None
    stream: Streamer | None = None


def register_source(name: str, reader: Reader, from_hub: HubConverter | None = None,
                    stream: Streamer | None = None) -> None:
    """Register a reader `reader(directory, on_bad_row=..., [max_chars=...]) -> SourceData` under `name`
    (a reader without `max_chars` has the length cap applied to its records by `read_source`); `stream`,
    when given, reads the same records a chunk at a time (`stream_source`)."""
    registry.sources.register(name, func=SourceEntry(reader, from_hub, stream))


register_source("goemotions", read_goemotions, goemotions_from_hub, stream_goemotions)
register_source("empatheticdialogues", read_empathetic, empathetic_from_hub, stream_empathetic)
register_source("dailydialog", read_dailydialog, dailydialog_from_hub, stream_dailydialog)


def source_entry(name: str) -> SourceEntry:
    """The registered entry of source `name`; `DataNotFoundError` listing the known sources otherwise."""
    if name not in registry.sources:
        raise DataNotFoundError(f"unknown source {name!r}; known: {', '.join(registry.names(registry.sources))}")
    return registry.sources.get(name)


@dataclass(frozen=True)
class SourceLocation:
    """Where one source is read from: a local folder (`local`/`sample`) or a Hub id (`hub`)."""

    name: str
    kind: str
    where: str

    def fingerprint(self) -> str:
        """A content hash of the inputs (every file under a local folder), used as a cache key."""
        if self.kind == "hub":
            return hashlib.sha1(f"hub:{self.where}".encode()).hexdigest()
        digest = hashlib.sha1()
        root = Path(self.where)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha1(path.read_bytes()).digest())
        return digest.hexdigest()


def how_to_supply(name: str) -> str:
    """The message that tells a user how to give emodata a missing source."""
    card = load_catalog().sources.get(name)
    files = "; ".join(", ".join(f["files"]) for f in card.raw_formats) if card else "its original files"
    hub = f" or, when online, --source {name}=hf:{card.hub_id}" if card else ""
    return (f"source {name!r} not found. Put its original files ({files}) in DATA_DIR/{name}/ and pass "
            f"--data-dir DATA_DIR, or pass --source {name}=PATH{hub}; "
            f"--sample uses the small sample corpus shipped with emodata.")


def locate(name: str, data_dir: str | Path | None = None, sample: bool = False,
           override: str | None = None) -> SourceLocation:
    """Resolve where `name` is read from; raise `DataNotFoundError` saying how to supply it."""
    source_entry(name)
    if override:
        if override.startswith("hf:"):
            return SourceLocation(name, "hub", override[3:])
        if not Path(override).is_dir():
            raise DataNotFoundError(f"--source {name}={override}: no such folder. " + how_to_supply(name))
        return SourceLocation(name, "local", str(Path(override).resolve()))
    if sample:
        return SourceLocation(name, "sample", str(SAMPLE_DIR / name))
    if data_dir is not None and (Path(data_dir) / name).is_dir():
        return SourceLocation(name, "local", str((Path(data_dir) / name).resolve()))
    raise DataNotFoundError(how_to_supply(name))


def _load_hub(location: SourceLocation) -> SourceData:
    entry = source_entry(location.name)
    if entry.from_hub is None:
        raise DataNotFoundError(f"source {location.name!r} has no Hub converter")
    hub_id, _, config = location.where.partition(":")
    config = config or load_catalog().sources[location.name].hub_config
    try:
        import datasets

        dataset = datasets.load_dataset(hub_id, config) if config else datasets.load_dataset(hub_id)
    except Exception as exc:  # offline, missing id, script-only repos: all end the same way
        raise DataNotFoundError(f"could not load {hub_id!r} from the Hugging Face Hub ({exc}). "
                                + how_to_supply(location.name)) from exc
    return entry.from_hub({split: dataset[split] for split in dataset}, hub_id)


def _accepts(reader: Reader, option: str) -> bool:
    try:
        params = inspect.signature(reader).parameters
    except (TypeError, ValueError):
        return False
    return option in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def read_source(location: SourceLocation, on_bad_row: OnBadRow = "error", max_chars: int = DEFAULT_MAX_CHARS,
                **options) -> SourceData:
    """Read one located source into reader records (`options` go to the reader, e.g. `fmt="raw"`).

    Texts longer than `max_chars` never leave here: the built-in readers refuse them naming file and
    line; Hub rows and registered readers that take no `max_chars` are checked on their records
    (`check_records`: length cap and unique ids).
    """
    if location.kind == "hub":
        return check_records(_load_hub(location), max_chars, on_bad_row)
    reader = source_entry(location.name).reader
    if _accepts(reader, "max_chars"):
        data = reader(location.where, on_bad_row=on_bad_row, max_chars=max_chars, **options)
    else:
        data = check_records(reader(location.where, on_bad_row=on_bad_row, **options), max_chars, on_bad_row)
    if location.kind == "sample":
        data.origin = f"sample:{location.name}"
    return data


def stream_source(location: SourceLocation, on_bad_row: OnBadRow = "error", max_chars: int = DEFAULT_MAX_CHARS,
                  chunk_rows: int = CHUNK_ROWS, **options) -> SourceStream:
    """`read_source` a chunk at a time: the same records, order, bad-row errors and read report, held
    about `chunk_rows` records at a time when the source's reader streams (the built-in local readers);
    Hub sources and registered readers without a streaming reader come as one whole frame."""
    stream = source_entry(location.name).stream
    if location.kind == "hub" or stream is None:
        return SourceStream.whole(read_source(location, on_bad_row, max_chars, **options))
    out = stream(location.where, on_bad_row=on_bad_row, max_chars=max_chars, chunk_rows=chunk_rows, **options)
    if location.kind == "sample":
        out.origin = f"sample:{location.name}"
    return out


__all__ = ["READER_COLUMNS", "ReadReport", "SAMPLE_DIR", "SourceData", "SourceLocation",
           "SourceStream", "locate", "read_source", "record_parts", "register_source", "source_entry",
           "stream_source", "how_to_supply"]
