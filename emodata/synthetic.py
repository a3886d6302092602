"""Synthetic scale-test corpora: real sentences recombined, `factor` times the rows, original file formats.

For measuring build cost at 10x, 100x the real corpora, not for training or evaluation. Each
synthetic utterance joins the first clause of a real utterance with the last clause of another
utterance of the same split (partners drawn with the seed), so lengths, vocabulary and lexicon
coverage stay close to the real corpus while no row is a copy of a real row. Files are written in
the source's original format so the normal readers read them; every output folder has a SOURCE.md
saying what it is. Same inputs, factor and seed give byte-identical files.

    python -m emodata.synthetic --data-dir ../shared/data --out /tmp/syn10 --factor 10
    emodata build --data-dir /tmp/syn10 --mix 100:0 ...

`--ed-standin` also writes an EmpatheticDialogues *stand-in* when the real corpus is absent: DailyDialog
sentences recombined into ED's CSV format at ED's published size (conversations per split), with
emotion contexts drawn at random. It exists only to time the 3-corpus build (`--mix 20:80`); its
labels mean nothing.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from catalog import load_catalog

from emodata import __version__
from emodata.core.errors import DataNotFoundError, EmodataError
from emodata.sources.dailydialog import EOU, SPLITS as DAILYDIALOG_SPLITS
from emodata.sources.dailydialog import TAXONOMY as DAILYDIALOG_TAXONOMY
from emodata.sources.dailydialog import read_dailydialog
from emodata.sources.empathetic import FILES as ED_FILES
from emodata.sources.empathetic import HEADER as ED_HEADER
from emodata.sources.empathetic import TAXONOMY as ED_TAXONOMY
from emodata.sources.goemotions import SIMPLIFIED_FILES
from emodata.sources.goemotions import TAXONOMY as GOEMOTIONS_TAXONOMY
from emodata.sources.goemotions import read_goemotions

#: Prefix of every synthetic GoEmotions comment id (the reader makes it `goemotions:syn-COPY-ID`).
ID_PREFIX = "syn-"
NEUTRAL = "neutral"
# A clause ends after punctuation followed by a space, or before a conjunction.
_BOUNDARY = re.compile(r"[,;:.!?]+\s+|\s+(?=(?:but|and|because|so|though|although|when|while|if|or)\s)", re.I)


def split_clause(text: str) -> tuple[str, str]:
    """Cut `text` at the clause boundary nearest its middle (without one, at the middle space)."""
    text = " ".join(text.split())
    cuts = [m.end() for m in _BOUNDARY.finditer(text) if 0 < m.end() < len(text)]
    if not cuts:
        cuts = [m.end() for m in re.finditer(" ", text)]
    if not cuts:
        return text, ""
    cut = min(cuts, key=lambda c: (abs(2 * c - len(text)), c))
    return text[:cut].rstrip(), text[cut:].lstrip()


def recombine(head_of: tuple[str, str], tail_of: tuple[str, str]) -> str:
    """The first clause of one utterance followed by the last clause of another."""
    text = f"{head_of[0]} {tail_of[1]}".strip()
    return text or " ".join(head_of).strip()


def _check_out(out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        raise EmodataError(f"{out_dir} is not empty; synthetic data is written into a new or empty folder")
    out_dir.mkdir(parents=True, exist_ok=True)


def _source_md(name: str, factor: int, seed: int, files: Sequence[dict], how: str) -> str:
    inputs = "\n".join(f"  - {Path(f['path']).name} (SHA-1 {f['sha1']}, {f['rows']:,} rows)" for f in files)
    return (f"# SYNTHETIC scale-test data ({name} x{factor}) - not a corpus\n\n"
            f"Written by `python -m emodata.synthetic` (emodata {__version__}), factor {factor}, seed {seed}, "
            f"from the real {name} files:\n{inputs}\n\n"
            f"{how}\n\nUse it only to measure build cost at scale; never train, evaluate or publish on it. "
            f"The sentences are pieces of the real corpus, so its license applies.\n")


def _dialogue_bounds(conv_ids: Sequence) -> list[tuple[int, int]]:
    """[start, stop) row ranges of the dialogues of reader records in row order (by `conv_id`)."""
    starts = [k for k in range(len(conv_ids)) if k == 0 or conv_ids[k] != conv_ids[k - 1]] + [len(conv_ids)]
    return list(zip(starts[:-1], starts[1:]))


def _partners(rng: np.random.Generator, n: int) -> Iterator[int]:
    return iter(rng.integers(0, n, size=n).tolist())


def write_synthetic_goemotions(src_dir: str | Path, out_dir: str | Path, factor: int, seed: int = 0) -> dict[str, int]:
    """Write `factor` x the rows of GoEmotions' simplified TSVs in `src_dir` to `out_dir`; rows per file.

    Row i of copy c joins the first clause of real row i with the last clause of a seeded partner
    row of the same split; its labels are the union of both rows' labels (neutral dropped when an
    emotion is present) and its id is `syn-c-ID`. emotions.txt is copied as is.
    """
    if factor < 1:
        raise EmodataError(f"factor must be at least 1, not {factor}")
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    data = read_goemotions(src_dir, fmt="simplified")
    labels = load_catalog().taxonomies[GOEMOTIONS_TAXONOMY].labels
    neutral = labels.index(NEUTRAL)
    _check_out(out_dir)
    rng = np.random.default_rng(seed)
    written: dict[str, int] = {}
    for split, filename in SIMPLIFIED_FILES.items():
        rows = data.records[data.records["source_split"] == split]
        if rows.empty:
            continue
        parts = [split_clause(t) for t in rows["text"]]
        ids = [i.split(":", 1)[1] for i in rows["id"]]
        label_ids = [{labels.index(name) for name in names} for names in rows["source_labels"]]
        with open(out_dir / filename, "w", encoding="utf-8", newline="\n") as handle:
            for copy in range(factor):
                for i, j in enumerate(_partners(rng, len(parts))):
                    merged = label_ids[i] | (label_ids[j] if parts[j][1] else set())
                    if len(merged) > 1:
                        merged.discard(neutral)
                    handle.write(f"{recombine(parts[i], parts[j])}\t{','.join(map(str, sorted(merged)))}\t"
                                 f"{ID_PREFIX}{copy}-{ids[i]}\n")
        written[filename] = factor * len(parts)
    if (src_dir / "emotions.txt").is_file():
        (out_dir / "emotions.txt").write_bytes((src_dir / "emotions.txt").read_bytes())
    how = ("Each row of copy c joins the first clause of real row i with the last clause of a partner row of the "
           "same split drawn with the seed; labels are the union of both rows' labels (neutral dropped when an "
           f"emotion is present); ids are `{ID_PREFIX}c-ORIGINAL_ID`. Same format as the simplified TSVs.")
    (out_dir / "SOURCE.md").write_text(_source_md("GoEmotions", factor, seed, data.report.files, how), "utf-8")
    return written


def write_synthetic_dailydialog(src_dir: str | Path, out_dir: str | Path, factor: int, seed: int = 0) -> dict[str, int]:
    """Write `factor` x the dialogues of DailyDialog in `src_dir` to `out_dir` (split-folder layout).

    Dialogue d of copy c keeps d's turn count and emotions; each of its utterances joins the first
    clause of the real utterance with the last clause of a seeded partner utterance of the same split.
    Returns utterances written per split.
    """
    if factor < 1:
        raise EmodataError(f"factor must be at least 1, not {factor}")
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    data = read_dailydialog(src_dir)
    labels = load_catalog().taxonomies[DAILYDIALOG_TAXONOMY].labels
    _check_out(out_dir)
    rng = np.random.default_rng(seed)
    written: dict[str, int] = {}
    for split in DAILYDIALOG_SPLITS:
        rows = data.records[data.records["source_split"] == split]
        if rows.empty:
            continue
        parts = [split_clause(t) for t in rows["text"]]
        emotions = [str(labels.index(names[0])) for names in rows["source_labels"]]
        dialogues = _dialogue_bounds(rows["conv_id"].tolist())
        folder = out_dir / split
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"dialogues_{split}.txt", "w", encoding="utf-8", newline="\n") as text_file, \
                open(folder / f"dialogues_emotion_{split}.txt", "w", encoding="utf-8", newline="\n") as emo_file:
            for _ in range(factor):
                partners = list(_partners(rng, len(parts)))
                for start, stop in dialogues:
                    turns = [recombine(parts[u], parts[partners[u]]) for u in range(start, stop)]
                    text_file.write(f" {EOU} ".join(turns) + f" {EOU}\n")
                    emo_file.write(" ".join(emotions[start:stop]) + "\n")
        written[split] = factor * len(parts)
    how = ("Each dialogue of copy c keeps the real dialogue's turn count and emotion ids; each utterance joins the "
           "first clause of the real utterance with the last clause of a partner utterance of the same split drawn "
           "with the seed. Ids come from the reader (split and line number), as for the real files. Same layout "
           "as the split folders of the original release (no act files).")
    (out_dir / "SOURCE.md").write_text(_source_md("DailyDialog", factor, seed, data.report.files, how), "utf-8")
    return written


#: Conversations per split of the EmpatheticDialogues release (Rashkin et al., 2019), and its mean
#: utterances per conversation (84,169 train utterances over 19,533 conversations).
ED_CONVERSATIONS = {"train": 19_533, "validation": 2_770, "test": 2_547}
ED_MEAN_TURNS = 4.31


def write_standin_empatheticdialogues(dailydialog_dir: str | Path, out_dir: str | Path, factor: int = 1,
                                      seed: int = 0, conversations: dict[str, int] | None = None) -> dict[str, int]:
    """Write an EmpatheticDialogues-format stand-in (`factor` x ED's size, or `factor` x `conversations`
    per split) built from real DailyDialog.

    Conversation k of a split is cut from DailyDialog dialogue k (cycling) to 4 or 5 turns (mean
    ED_MEAN_TURNS), each utterance recombined as in `write_synthetic_dailydialog`; its context is an
    ED label drawn with the seed, its prompt its first utterance, speakers alternate. Commas are
    written as `_comma_`, as in the release. Returns utterances written per split.
    """
    if factor < 1:
        raise EmodataError(f"factor must be at least 1, not {factor}")
    out_dir = Path(out_dir)
    data = read_dailydialog(Path(dailydialog_dir))
    parts = [split_clause(t) for t in data.records["text"]]
    dialogues = _dialogue_bounds(data.records["conv_id"].tolist())
    labels = load_catalog().taxonomies[ED_TAXONOMY].labels
    _check_out(out_dir)
    rng = np.random.default_rng(seed)
    written: dict[str, int] = {}
    hit = 0
    for split, file_name in ED_FILES.items():
        lines, n_conv = [ED_HEADER], factor * (conversations or ED_CONVERSATIONS)[split]
        partners = list(_partners(rng, len(parts)))
        emotions = rng.integers(0, len(labels), size=n_conv).tolist()
        turns = np.where(rng.random(n_conv) < ED_MEAN_TURNS - 4, 5, 4).tolist()
        for k in range(n_conv):
            start, stop = dialogues[k % len(dialogues)]
            utterances = [recombine(parts[u], parts[partners[u]]).replace(",", "_comma_")
                          for u in range(start, min(stop, start + turns[k]))]
            for i, utterance in enumerate(utterances):
                lines.append(f"hit:{hit}_conv:{k},{i + 1},{labels[emotions[k]]},{utterances[0]},{i % 2},"
                             f"{utterance},5|5|5_2|2|5,")
            hit += 1
        (out_dir / file_name).write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
        written[split] = len(lines) - 1
    how = ("STAND-IN, not EmpatheticDialogues: DailyDialog sentences recombined into ED's CSV format at ED's "
           f"published size x{factor} (conversations per split {ED_CONVERSATIONS}), contexts (emotion labels) "
           "drawn at random with the seed. For timing the 3-corpus build only; its labels mean nothing.")
    (out_dir / "SOURCE.md").write_text(_source_md("EmpatheticDialogues stand-in", factor, seed, data.report.files,
                                                  how), "utf-8")
    return written


def write_synthetic_data_dir(data_dir: str | Path, out_dir: str | Path, factor: int,
                             seed: int = 0, ed_standin: bool = False) -> dict[str, dict[str, int]]:
    """A `--data-dir` for `emodata build`: synthetic goemotions/ (and dailydialog/ when present) in `out_dir`,
    and with `ed_standin` an EmpatheticDialogues stand-in (see `write_standin_empatheticdialogues`).

    `lexicons/` is linked, not copied, so the build finds the same lexicon (lexica may not be redistributed).
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    if not (data_dir / "goemotions").is_dir():
        raise DataNotFoundError(f"{data_dir / 'goemotions'}: no such folder (expected the real GoEmotions TSVs)")
    _check_out(out_dir)
    written = {"goemotions": write_synthetic_goemotions(data_dir / "goemotions", out_dir / "goemotions", factor, seed)}
    if (data_dir / "dailydialog").is_dir():
        written["dailydialog"] = write_synthetic_dailydialog(data_dir / "dailydialog", out_dir / "dailydialog",
                                                             factor, seed)
    if ed_standin:
        if not (data_dir / "dailydialog").is_dir():
            raise DataNotFoundError(f"{data_dir / 'dailydialog'}: the EmpatheticDialogues stand-in is built from it")
        written["empatheticdialogues"] = write_standin_empatheticdialogues(
            data_dir / "dailydialog", out_dir / "empatheticdialogues", factor, seed)
    if (data_dir / "lexicons").is_dir():
        (out_dir / "lexicons").symlink_to((data_dir / "lexicons").resolve(), target_is_directory=True)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m emodata.synthetic`: write a synthetic scale-test data folder."""
    parser = argparse.ArgumentParser(prog="python -m emodata.synthetic", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="real data folder with goemotions/ (and dailydialog/, "
                                                          "lexicons/)")
    parser.add_argument("--out", required=True, help="new or empty output folder (a --data-dir for emodata build)")
    parser.add_argument("--factor", type=int, required=True, help="how many times the real rows to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the partner draws (default: 0)")
    parser.add_argument("--ed-standin", action="store_true",
                        help="also write an EmpatheticDialogues-format stand-in from DailyDialog sentences at ED's "
                             "size x factor (for timing the 3-corpus build when ED is absent; labels are random)")
    args = parser.parse_args(argv)
    try:
        written = write_synthetic_data_dir(args.data_dir, args.out, args.factor, args.seed, args.ed_standin)
    except EmodataError as exc:
        parser.exit(2, f"error: {exc}\n")
    for source, files in written.items():
        print(f"{source}: " + ", ".join(f"{name} {rows:,} rows" for name, rows in files.items()))
    print(f"synthetic scale-test data in {args.out} (see SOURCE.md in each folder)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
