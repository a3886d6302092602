"""DailyDialog (Li et al., 2017): `__eou__`-separated dialogues with per-utterance emotion ids.

Two original layouts are read: the single-file release (dialogues_text.txt, dialogues_emotion.txt,
dialogues_act.txt) and the split folders (train/dialogues_train.txt, train/dialogues_emotion_train.txt,
…, validation/…, test/…). Act files are optional. The release's tokenised spacing
("Hey , how are you ?") is undone for punctuation so text reads like the other sources.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from catalog import load_catalog

from emodata.core.errors import DataNotFoundError
from emodata.sources.base import (CHUNK_ROWS, OnBadRow, ReadReport, RowGuard, SourceData, SourceStream,
                                  dialogue_rows, make_frame, sized_chunks)
from emodata.core.validate import DEFAULT_MAX_CHARS, EdgeChecks

NAME = "dailydialog"
TAXONOMY = "dailydialog7"
EOU = "__eou__"
SPLITS = ("train", "validation", "test")
_EMOTION_IDS = re.compile(r"[ \t]*(?:[0-9]+(?:[ \t]+[0-9]+)*[ \t]*)?", re.ASCII)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.!?;:%])")
_SPACED_APOSTROPHE = re.compile(r"\s*([’'])\s*(s|m|re|ve|ll|d|t)\b")


def detokenize(text: str) -> str:
    """Undo DailyDialog's spaces before punctuation and around apostrophes."""
    text = _SPACED_APOSTROPHE.sub(r"\1\2", text.strip())
    return re.sub(r"\s+", " ", _SPACE_BEFORE_PUNCT.sub(r"\1", text))


def split_dialogue(line: str) -> list[str]:
    """Utterances of one dialogue line (empty pieces after the last `__eou__` are dropped)."""
    pieces = [p.strip() for p in line.rstrip("\r\n").split(EOU)]
    if pieces and pieces[-1] == "":
        pieces.pop()
    return pieces


def _layouts(directory: Path) -> list[tuple[str, Path, Path]]:
    if (directory / "dialogues_text.txt").is_file():
        return [("train", directory / "dialogues_text.txt", directory / "dialogues_emotion.txt")]
    found = []
    for split in SPLITS:
        text = directory / split / f"dialogues_{split}.txt"
        if text.is_file():
            found.append((split, text, directory / split / f"dialogues_emotion_{split}.txt"))
    return found


def _dialogue(split: str, index: int, utterances: list[str], emotion_ids: list[int]) -> list[dict]:
    catalog = load_catalog()
    labels = catalog.taxonomies[TAXONOMY].labels
    conv_id = f"{split}-{index:05d}"
    turns = []
    for turn, (text, emotion) in enumerate(zip(utterances, emotion_ids)):
        name = labels[emotion]
        turns.append(("AB"[turn % 2], detokenize(text), [name], catalog.to_unified(TAXONOMY, [name])))
    return dialogue_rows(NAME, split, conv_id, turns)


def _emotion_ids(line: str, n_labels: int) -> list[int] | None:
    """The emotion ids of one emotion-file line, or None unless all are ASCII integers in 0..n_labels-1."""
    if not _EMOTION_IDS.fullmatch(line):
        return None
    ids = [int(p) for p in line.split()]
    return ids if all(i < n_labels for i in ids) else None


def _read_split(split: str, text_path: Path, emotion_path: Path, checks: EdgeChecks) -> Iterator[list[dict]]:
    """The records of one split, a dialogue at a time (the two files are read line by line, side by side)."""
    if not emotion_path.is_file():
        raise DataNotFoundError(f"{text_path} has no emotion file beside it (expected {emotion_path.name})")
    guard = checks.guard
    n_labels = len(load_catalog().taxonomies[TAXONOMY].labels)
    n_emotion_lines, emotion_lines = checks.open_lines(emotion_path)
    n_text_lines, text_lines = checks.open_lines(text_path)
    if n_text_lines != n_emotion_lines:
        raise DataNotFoundError(f"{emotion_path}: {n_emotion_lines} lines but {text_path.name} has "
                                f"{n_text_lines} dialogues")
    kept = 0
    for line_no, (text_line, emotion_line) in enumerate(zip(text_lines, emotion_lines), start=1):
        utterances = split_dialogue(checks.clean(text_line))
        guard.report.rows_read += len(utterances)
        emotions = _emotion_ids(emotion_line, n_labels)
        if emotions is None or len(emotions) != len(utterances):
            guard.bad(emotion_path, line_no, f"expected {len(utterances)} emotion ids in 0..{n_labels - 1} "
                                             f"(one per utterance of {text_path.name} line {line_no}), "
                                             f"found {emotion_line.strip()!r}", "emotion_count_mismatch")
            continue
        if any(not u for u in utterances):
            guard.bad(text_path, line_no, "empty utterance between __eou__ markers", "empty_field")
            continue
        if not all(checks.fits(text_path, line_no, u) for u in utterances):
            continue
        yield _dialogue(split, line_no, utterances, emotions)
        kept += 1
    checks.require_rows(text_path, kept)
    guard.report.add_file(text_path, kept)
    guard.report.add_file(emotion_path, kept)


def read_dailydialog(directory: str | Path, on_bad_row: OnBadRow = "error",
                     max_chars: int = DEFAULT_MAX_CHARS) -> SourceData:
    """Read DailyDialog in either original layout from `directory` into utterance records
    (utterances up to `max_chars` characters; see `emodata.core.validate`). Ids are made from the
    split and line number, so they are unique by construction; a dialogue with a bad utterance is a
    bad row (its line) as a whole."""
    return stream_dailydialog(directory, on_bad_row, max_chars).collect()


def stream_dailydialog(directory: str | Path, on_bad_row: OnBadRow = "error", max_chars: int = DEFAULT_MAX_CHARS,
                       chunk_rows: int = CHUNK_ROWS) -> SourceStream:
    """`read_dailydialog` a chunk of about `chunk_rows` records (whole dialogues) at a time."""
    directory = Path(directory)
    layouts = _layouts(directory)
    if not layouts:
        raise DataNotFoundError(
            f"no DailyDialog files in {directory}: expected dialogues_text.txt + dialogues_emotion.txt, or "
            "train/dialogues_train.txt + train/dialogues_emotion_train.txt (and validation/, test/), from "
            "http://yanran.li/dailydialog")
    report = ReadReport()
    checks = EdgeChecks(RowGuard(on_bad_row, report), max_chars)
    groups = (group for split, text, emotion in layouts for group in _read_split(split, text, emotion, checks))
    return SourceStream(NAME, f"local:{directory}", sized_chunks(groups, chunk_rows), report)


def dailydialog_from_hub(splits: Mapping[str, Iterable[Mapping]], hub_id: str) -> SourceData:
    """Convert the Hub's rows (`dialog`: list of utterances, `emotion`: list of ids) per split."""
    report = ReadReport()
    records = []
    for split, examples in splits.items():
        for index, example in enumerate(examples, start=1):
            dialog, emotions = list(example["dialog"]), list(example["emotion"])
            report.rows_read += len(dialog)
            if len(dialog) != len(emotions):
                report.skipped["emotion_count_mismatch"] += len(dialog)
                continue
            kept = [(u.strip(), e) for u, e in zip(dialog, emotions) if u.strip()]
            report.skipped["empty_utterance"] += len(dialog) - len(kept)
            records.extend(_dialogue(split, index, [u for u, _ in kept], [e for _, e in kept]))
    return SourceData(NAME, f"hub:{hub_id}", make_frame(records), report)
