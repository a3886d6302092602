"""The one-line JSON contract shared by SFT export, training and evaluation.

Target: `{"labels": [...], "vad": {"v": 0.42, "a": 0.21, "d": 0.49}, "rationale": "..."}` on one
line, labels sorted, VAD rounded to two decimals. The prompt template is frozen and has an id;
change the text only together with the id. `parse_output` tail-scans generated text for the last
valid JSON object and says why when there is none.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

PROMPT_ID = "emoloom-json-v1"
SYSTEM_PROMPT = ("You label the emotions of an utterance. Answer with one line of JSON and nothing else: "
                 '{"labels": [...], "vad": {"v": _, "a": _, "d": _}, "rationale": "..."}.')
PROMPT_TEMPLATE = ("Allowed labels: {labels}.\n"
                   "Context:\n{context}\n"
                   "Utterance: {text}\n"
                   "Give the emotion labels, valence/arousal/dominance in [0,1] with two decimals, "
                   "and a short rationale.")
MAX_RATIONALE_WORDS = 12
_DECODER = json.JSONDecoder()


def build_prompt(text: str, context: Sequence[str], labels: Sequence[str]) -> str:
    """The user prompt for one utterance (frozen template `PROMPT_ID`)."""
    ctx = "\n".join(f"- {c}" for c in context) if context else "(none)"
    return PROMPT_TEMPLATE.format(labels=", ".join(labels), context=ctx, text=text)


def serialize_target(labels: Iterable[str], vad: Mapping[str, float], rationale: str) -> str:
    """The one-line JSON answer: sorted unique labels, VAD rounded to 2 decimals, short rationale."""
    words = " ".join(rationale.split()).split(" ")
    obj = {"labels": sorted(set(labels)),
           "vad": {k: round(float(vad[k]), 2) for k in ("v", "a", "d")},
           "rationale": " ".join(words[:MAX_RATIONALE_WORDS])}
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


@dataclass(frozen=True)
class Parsed:
    """A parse result: the answer object when valid, else None and the failure reason."""

    answer: dict | None
    reason: str | None

    @property
    def ok(self) -> bool:
        """Whether a valid answer was found."""
        return self.answer is not None


def _last_object(text: str) -> dict | None:
    best, best_end = None, -1
    start = text.find("{")
    while start != -1:
        try:
            obj, end = _DECODER.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError):
            obj, end = None, -1
        if isinstance(obj, dict) and end >= best_end:
            best, best_end = obj, end
        start = text.find("{", start + 1)
    return best


def first_object_end(text: str) -> int | None:
    """Index just past the `}` that closes the first top-level `{...}` of `text` (JSON strings and
    escapes respected), or None while that object is still open: the decoder's stop rule."""
    depth, in_string, escaped = 0, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"' and depth:
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if not depth:
                return i + 1
    return None


def validate(answer: Any, label_space: Sequence[str] | None = None) -> str | None:
    """Why `answer` breaks the contract schema, or None when it is valid."""
    if not isinstance(answer, dict):
        return "not_an_object"
    labels = answer.get("labels")
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        return "labels_not_a_list_of_strings"
    if label_space is not None and any(x not in label_space for x in labels):
        return "unknown_label"
    vad = answer.get("vad")
    if not isinstance(vad, dict) or any(k not in vad for k in "vad"):
        return "vad_missing"
    for k in "vad":
        x = vad[k]
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or not 0 <= x <= 1:
            return "vad_out_of_range"
    if not isinstance(answer.get("rationale", ""), str):
        return "rationale_not_a_string"
    return None


def parse_output(text: str, label_space: Sequence[str] | None = None) -> Parsed:
    """Tail-scan generated text for the last JSON object and validate it; never raises."""
    if not isinstance(text, str) or "{" not in text:
        return Parsed(None, "no_json_object")
    obj = _last_object(text)
    if obj is None:
        return Parsed(None, "invalid_json")
    reason = validate(obj, label_space)
    return Parsed(None, reason) if reason else Parsed(obj, None)


def sft_example(record: Mapping[str, Any], label_space: Sequence[str]) -> dict:
    """A chat-messages SFT example (system, user prompt, assistant one-line JSON answer)."""
    return {
        "id": record["id"],
        "prompt_id": PROMPT_ID,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": build_prompt(record["text"], record.get("context") or [], label_space)},
            {"role": "assistant", "content": serialize_target(record["labels"], record["vad"], record["rationale"])},
        ],
    }
