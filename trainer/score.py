"""Model-free scoring: judge raw outputs of a model trained anywhere by the evaluator's protocol.

`emodata score --pred PRED.jsonl --gold GOLD [--split dev] [--out FILE]`
- PRED: JSONL, one `{"id": ..., "output": "<raw generated text>"}` per line (`output` may be null;
  blank lines are skipped). A line that is not a JSON object, lacks `id` or `output`, has a non-string
  output, or repeats an id is an error naming the file and line.
- GOLD: a JSONL of records (`id`, `labels`, `vad`), or an emodata manifest JSON (recognised by its
  `schema_version`), whose split `--split` is read with `emodata.core.reader.read_split` (verified). With a manifest
  the label space is the build's (an answer naming another label is invalid, `unknown_label`);
  with a JSONL gold any list of strings is structurally valid.
- Gold ids without a prediction count as invalid (reason `missing`); predictions whose id is not in
  the gold are ignored and counted (`pred_ids_not_in_gold`). Ids compare as strings.
Prints one JSON object (the `emodata.core.metrics.evaluate_outputs` result plus the composite score and
where the gold came from) and writes the same to `--out` when given.
"""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emodata.core.config import opt
from emodata.core.errors import EmodataError

from emodata.core.metrics import composite_score, evaluate_outputs


@dataclass
class ScoreConfig:
    """`emodata score`: score raw model outputs against gold records with the evaluator's metrics."""

    pred: str = opt("", "predictions JSONL, one {\"id\": ..., \"output\": \"<raw generated text>\"} per line")
    gold: str = opt("", "gold: a JSONL of records (id, labels, vad) or an emodata manifest JSON")
    split: str = opt("dev", "split of the manifest to score against (ignored for a JSONL gold)")
    out: str = opt("", "also write the JSON result to this file")


def jsonl_objects(path: Path, what: str):
    """(line number, object) for every non-blank line; the error names file and line."""
    if not path.is_file():
        raise EmodataError(f"{what} file not found: {path}")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EmodataError(f"{path}, line {number}: not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise EmodataError(f"{path}, line {number}: expected a JSON object, got {type(obj).__name__}")
            yield number, obj


def read_predictions(path: str | Path) -> dict[str, str | None]:
    """Prediction id (as a string) -> raw output text (None for null), checking every line."""
    path = Path(path)
    outputs: dict[str, str | None] = {}
    first_line: dict[str, int] = {}
    for number, obj in jsonl_objects(path, "predictions"):
        missing = [k for k in ("id", "output") if k not in obj]
        if missing:
            raise EmodataError(f"{path}, line {number}: missing {' and '.join(repr(k) for k in missing)}")
        key, output = str(obj["id"]), obj["output"]
        if output is not None and not isinstance(output, str):
            raise EmodataError(f"{path}, line {number}: 'output' must be a string or null, "
                               f"got {type(output).__name__}")
        if key in outputs:
            raise EmodataError(f"{path}, line {number}: duplicate id {key!r} (first on line {first_line[key]})")
        outputs[key], first_line[key] = output, number
    return outputs


def _is_manifest(path: Path) -> bool:
    if path.suffix.lower() == ".jsonl":
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and "schema_version" in data


def read_gold(path: str | Path, split: str = "dev") -> tuple[list[dict], list[str] | None, str]:
    """(records, label space or None, description) from a gold JSONL or a manifest's split."""
    path = Path(path)
    if not path.is_file():
        raise EmodataError(f"gold file not found: {path}")
    if _is_manifest(path):
        from emodata.core.manifest import Manifest
        from emodata.core.reader import read_split

        manifest = Manifest.load(path)
        records = read_split(manifest, split).to_pylist()
        return records, manifest.labels, f"manifest {manifest.data.get('name')} split {split}"
    records, seen = [], {}
    for number, obj in jsonl_objects(path, "gold"):
        if "id" not in obj or "labels" not in obj:
            raise EmodataError(f"{path}, line {number}: a gold record needs 'id' and 'labels'")
        labels = obj["labels"]
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise EmodataError(f"{path}, line {number}: 'labels' must be a list of strings")
        vad = obj.get("vad")
        if vad is not None and (not isinstance(vad, dict) or
                                any(isinstance(vad.get(k), bool) or not isinstance(vad.get(k), (int, float))
                                    or not math.isfinite(vad[k]) for k in "vad")):
            raise EmodataError(f"{path}, line {number}: 'vad' must be an object with finite numeric v, a, d")
        key = str(obj["id"])
        if key in seen:
            raise EmodataError(f"{path}, line {number}: duplicate id {key!r} (first on line {seen[key]})")
        seen[key] = number
        records.append(obj)
    return records, None, f"jsonl {path.name}"


def score(pred: str | Path, gold: str | Path, split: str = "dev") -> dict[str, Any]:
    """The metrics of a predictions JSONL against gold (see the module docstring)."""
    outputs = read_predictions(pred)
    records, label_space, source = read_gold(gold, split)
    gold_ids = {str(r["id"]) for r in records}
    metrics = evaluate_outputs([outputs.get(str(r["id"])) for r in records], records, label_space)
    metrics["composite"] = composite_score(metrics)
    metrics["gold"] = source
    metrics["label_space_checked"] = label_space is not None
    metrics["missing_ids"] = sum(str(r["id"]) not in outputs for r in records)
    metrics["pred_ids_not_in_gold"] = sum(k not in gold_ids for k in outputs)
    return metrics


def run_score(config: ScoreConfig) -> int:
    """`emodata score`: print the metrics as one JSON object (and write it to --out); returns 0."""
    if not config.pred or not config.gold:
        raise EmodataError("score needs --pred PRED.jsonl and --gold GOLD")
    result = score(config.pred, config.gold, config.split)
    text = json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False)
    if result["pred_ids_not_in_gold"]:
        print(f"note: {result['pred_ids_not_in_gold']} prediction id(s) are not in the gold and were ignored",
              file=sys.stderr)
    print(text)
    if config.out:
        out = Path(config.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    return 0
