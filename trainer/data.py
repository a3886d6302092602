"""Manifest-fed training data: verified shards → tokenised chat examples with the loss mask on the answer.

- Data is read ONLY through a manifest, by the one verified shard reader (`emodata.core.reader`): the
  whole build is verified first (`emodata.core.verify.require_verified`, what `emodata verify` runs), and
  the SHA-1 and row count of every shard are checked again right before it is read; a mismatch refuses
  to go on.
- Each record becomes the contract's chat example (`emodata.core.contract.sft_example`: frozen system
  prompt, `build_prompt` user turn, `serialize_target` answer). The prompt is tokenised exactly as the
  decoder does (`trainer.decode.encode_prompt`); the answer is what the model's chat template appends
  for the assistant turn, up to and including the EOS token. Only answer tokens carry the SFT loss.
- Over-long examples keep their answer and the LAST tokens of the prompt (the decoder's rule: the
  utterance and assistant cue sit at the end); `collate` counts every truncation.
- Per row we keep the source, multi-hot gold labels over the manifest's label space, gold VAD and,
  when the build has them, weak labels (`weak_labels`), the appraisal prototype of the gold labels
  (`appraisal_prototype`) and weak appraisal atoms (`appraisal`). Flip pairs come from a shard with
  role "pairs". Whatever is absent is reported in `TrainData.notes` and the dependent loss is skipped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from emodata.core.contract import build_prompt, sft_example
from emodata.core.errors import EmodataError
from emodata.core.hashing import sha1_file, sha1_text
from emodata.core.manifest import Manifest
from emodata.core.reader import read_role, read_split
from emodata.core.verify import require_verified

from trainer.decode import encode_prompt

IGNORE = -100


@dataclass
class Example:
    """One tokenised record: untruncated prompt/answer ids plus the targets of the auxiliary losses."""

    id: str
    source: str
    text: str
    prompt_ids: list[int]
    answer_ids: list[int]
    label_vec: list[float]
    vad: tuple[float, float, float]
    weak_vec: list[float] | None = None
    appraisal_prototype: dict | None = None
    appraisal_weak: dict | None = None


@dataclass
class FlipPair:
    """A Valence-Flip pair (x, x′) as two prompt-only token sequences."""

    pair_id: str
    prompt_ids: list[int]
    flip_prompt_ids: list[int]
    text: str
    flip_text: str


@dataclass
class TrainData:
    """Everything the loop reads from a manifest: examples by split, pairs, label space, notes."""

    manifest: Manifest
    manifest_sha1: str
    labels: list[str]
    train: list[Example]
    dev: list[Example]
    dev_records: list[dict]
    pairs: list[FlipPair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duplicates_dropped: int = 0

    def sources(self) -> list[str]:
        """Train sources in first-seen order."""
        return list(dict.fromkeys(e.source for e in self.train))


def dedup(records: Iterable[dict]) -> tuple[list[dict], int]:
    """Records de-duplicated by sha1(text ‖ id) (the paper's loader rule), and how many were dropped."""
    seen, kept, n = set(), [], 0
    for record in records:
        n += 1
        key = sha1_text(f"{record['text']}\u2016{record['id']}")
        if key not in seen:
            seen.add(key)
            kept.append(record)
    return kept, n - len(kept)


def multi_hot(names: Sequence[str], label_space: Sequence[str], where: str) -> list[float]:
    """A 0/1 vector over `label_space`; an unknown label is an error naming `where`."""
    index = {x: i for i, x in enumerate(label_space)}
    vec = [0.0] * len(label_space)
    for name in names:
        if name not in index:
            raise EmodataError(f"{where}: label {name!r} is not in the manifest's label space")
        vec[index[name]] = 1.0
    return vec


def weak_vector(value: Any, label_space: Sequence[str]) -> list[float] | None:
    """Weak labels as a vector over `label_space`: from a list of names (multi-hot), a {label: p}
    mapping, or K probabilities; None when absent or in another shape."""
    if value is None:
        return None
    if isinstance(value, dict):
        return [float(value.get(x) or 0.0) for x in label_space]
    value = list(value)
    if all(isinstance(x, str) for x in value):
        return [1.0 if x in value else 0.0 for x in label_space]
    if len(value) == len(label_space) and all(isinstance(x, (int, float)) for x in value):
        return [float(x) for x in value]
    return None


def answer_ids(tokenizer: Any, messages: list[dict]) -> list[int]:
    """Token ids the chat template appends for the assistant turn, cut just after the EOS token."""
    prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    eos = tokenizer.eos_token or ""
    completion = full[len(prompt):] if full.startswith(prompt) else messages[-1]["content"] + eos
    if eos and eos in completion:
        completion = completion[:completion.index(eos) + len(eos)]
    elif eos:
        completion += eos
    return list(tokenizer(completion, add_special_tokens=False)["input_ids"])


def encode_record(tokenizer: Any, record: dict, label_space: Sequence[str], where: str) -> Example:
    """Tokenise one record as a chat example and collect its auxiliary targets."""
    vad = record.get("vad")
    if not vad or any(vad.get(k) is None or not math.isfinite(vad[k]) for k in "vad"):
        raise EmodataError(f"{where}: record {record.get('id')!r} has no usable gold VAD ({vad!r})")
    record = {**record, "rationale": record.get("rationale") or ""}
    messages = sft_example(record, label_space)["messages"]
    return Example(
        id=record["id"], source=record["source"], text=record["text"],
        prompt_ids=encode_prompt(tokenizer, messages[1]["content"]),
        answer_ids=answer_ids(tokenizer, messages),
        label_vec=multi_hot(record["labels"], label_space, f"{where}, id {record['id']}"),
        vad=(float(vad["v"]), float(vad["a"]), float(vad["d"])),
        # weak_probs null means every labeling function abstained: no weak evidence, not "no label"
        weak_vec=None if "weak_probs" in record and record["weak_probs"] is None
        else weak_vector(record.get("weak_labels"), label_space),
        appraisal_prototype=record.get("appraisal_prototype"),
        appraisal_weak=record.get("appraisal"),
    )


def tokenizer_corpus(records: Iterable[dict], label_space: Sequence[str]) -> list[str]:
    """Texts to train the tiny tokenizer on: each record's prompt and serialised answer."""
    out = []
    for r in records:
        msgs = sft_example({**r, "rationale": r.get("rationale") or ""}, label_space)["messages"]
        out += [msgs[1]["content"], msgs[2]["content"]]
    return out


@dataclass
class Records:
    """The verified raw rows a run reads from a manifest (before tokenisation)."""

    manifest: Manifest
    manifest_sha1: str
    labels: list[str]
    train: list[dict]
    dev: list[dict]
    pairs: list[dict]
    duplicates_dropped: int


def load_records(manifest_path: str | Path, dev_split: str = "dev", dev_rows: int = 0) -> Records:
    """Verified train rows (de-duplicated), dev rows (first `dev_rows`, 0 = all) and flip-pair rows.

    The whole build is checked first, exactly as `emodata verify` does (`require_verified`)."""
    require_verified(manifest_path)
    manifest = Manifest.load(manifest_path)
    train, dropped = dedup(read_split(manifest, "train").to_pylist())
    if not train:
        raise EmodataError(f"{manifest.path}: the train split is empty")
    dev = read_split(manifest, dev_split).to_pylist() if dev_split and dev_split in manifest.split_names() else []
    if dev_rows:
        dev = dev[:dev_rows]
    pairs = read_role(manifest, "pairs").to_pylist()
    return Records(manifest, sha1_file(manifest.path), manifest.labels, train, dev, pairs, dropped)


def tokenize(records: Records, tokenizer: Any, dev_split: str = "dev") -> TrainData:
    """Tokenise verified records into `TrainData`, noting what the build lacks."""
    name, labels = records.manifest.path.name, records.labels
    train = [encode_record(tokenizer, r, labels, f"{name} train row {i}") for i, r in enumerate(records.train)]
    dev = [encode_record(tokenizer, r, labels, f"{name} {dev_split} row {i}") for i, r in enumerate(records.dev)]
    pairs = [FlipPair(str(row["pair_id"]), encode_prompt(tokenizer, build_prompt(row["text"], [], labels)),
                      encode_prompt(tokenizer, build_prompt(row["text_flip"], [], labels)),
                      row["text"], row["text_flip"]) for row in records.pairs]
    notes = []
    if not dev:
        notes.append(f"no {dev_split or 'eval'!r} rows: the outer loop does not evaluate, it only trains")
    if not pairs:
        notes.append("no flip pairs in the manifest (no shard with role 'pairs'): L_flip is skipped")
    if all(e.weak_vec is None for e in train):
        notes.append("no weak_labels column: L_cls uses the gold labels only")
    if all(e.appraisal_prototype is None and e.appraisal_weak is None for e in train):
        notes.append("no appraisal_prototype/appraisal columns: L_app has no targets and is skipped")
    if records.duplicates_dropped:
        notes.append(f"{records.duplicates_dropped} duplicate train row(s) dropped (sha1(text || id))")
    return TrainData(records.manifest, records.manifest_sha1, labels, train, dev, records.dev, pairs, notes,
                     records.duplicates_dropped)


def label_weights(examples: Sequence[Example], smoothing: float = 1.0) -> list[float]:
    """Per-class L_cls weights from inverse label frequency: w_k ∝ 1/(n_k + smoothing), mean 1."""
    if not examples:
        raise ValueError("label_weights: no examples")
    k = len(examples[0].label_vec)
    counts = [sum(e.label_vec[j] for e in examples) for j in range(k)]
    inv = [1.0 / (c + smoothing) for c in counts]
    mean = sum(inv) / k
    return [x / mean for x in inv]


@dataclass
class Batch:
    """A padded batch (lists of lists; `trainer.train` turns them into tensors) and its truncations."""

    input_ids: list[list[int]]
    attention_mask: list[list[int]]
    targets: list[list[int]]
    prompt_last: list[int]
    truncated: int


def fit(prompt: list[int], answer: list[int], max_len: int) -> tuple[list[int], list[int], bool]:
    """Prompt and answer ids cut to `max_len` in all: the prompt loses its first tokens, then the answer
    its last ones (only when the answer alone is longer than `max_len`)."""
    if len(prompt) + len(answer) <= max_len:
        return prompt, answer, False
    if len(answer) >= max_len:
        return prompt[-1:], answer[:max_len - 1], True
    return prompt[len(prompt) + len(answer) - max_len:], answer, True


def collate(sequences: Sequence[tuple[list[int], list[int]]], max_len: int, pad_id: int) -> Batch:
    """Right-padded batch of (prompt, answer) id pairs: loss targets on answer tokens only."""
    ids, masks, targets, last, truncated = [], [], [], [], 0
    fitted = [fit(p, a, max_len) for p, a in sequences]
    width = max(len(p) + len(a) for p, a, _ in fitted)
    for prompt, answer, cut in fitted:
        n, pad = len(prompt) + len(answer), width - len(prompt) - len(answer)
        ids.append(prompt + answer + [pad_id] * pad)
        masks.append([1] * n + [0] * pad)
        targets.append([IGNORE] * len(prompt) + answer + [IGNORE] * pad)
        last.append(len(prompt) - 1)
        truncated += cut
    return Batch(ids, masks, targets, last, truncated)
