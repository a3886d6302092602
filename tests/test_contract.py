"""The one-line JSON contract: target serialisation, prompt, tail-scan parser (fuzzed)."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from emodata.core.contract import PROMPT_ID, build_prompt, parse_output, serialize_target, sft_example

LABELS = ["anger", "joy", "neutral", "sadness"]


def test_serialize_target_is_one_sorted_rounded_line():
    line = serialize_target(["sadness", "anger", "anger"], {"v": 0.12345, "a": 0.5, "d": 0.999}, "sad  words here")
    assert "\n" not in line
    assert json.loads(line) == {"labels": ["anger", "sadness"], "vad": {"v": 0.12, "a": 0.5, "d": 1.0},
                                "rationale": "sad words here"}


def test_prompt_names_labels_context_and_text():
    prompt = build_prompt("I lost my keys", ["Where are you?"], LABELS)
    assert "anger, joy, neutral, sadness" in prompt and "- Where are you?" in prompt
    assert prompt.rstrip().endswith("short rationale.") and "Utterance: I lost my keys" in prompt
    assert "(none)" in build_prompt("x", [], LABELS)


def test_parser_takes_the_last_valid_object():
    first = serialize_target(["joy"], {"v": 0.9, "a": 0.5, "d": 0.5}, "a")
    last = serialize_target(["anger"], {"v": 0.1, "a": 0.8, "d": 0.6}, "b")
    parsed = parse_output(f"draft {first} final {last} trailing }}", LABELS)
    assert parsed.ok and parsed.answer["labels"] == ["anger"]


def test_parser_reasons():
    assert parse_output("no json here").reason == "no_json_object"
    assert parse_output('{"labels": [').reason == "invalid_json"
    assert parse_output('{"labels": "joy", "vad": {"v": 1, "a": 1, "d": 1}}').reason == "labels_not_a_list_of_strings"
    assert parse_output('{"labels": ["fun"], "vad": {"v": 1, "a": 1, "d": 1}}', LABELS).reason == "unknown_label"
    assert parse_output('{"labels": [], "vad": {"v": 1, "a": 1}}').reason == "vad_missing"
    assert parse_output('{"labels": [], "vad": {"v": 1.5, "a": 1, "d": 1}}').reason == "vad_out_of_range"
    assert parse_output('{"labels": [], "vad": {"v": true, "a": 1, "d": 1}}').reason == "vad_out_of_range"
    ok = parse_output('{"labels": [], "vad": {"v": 0, "a": 1, "d": 0.5}}')
    assert ok.ok and ok.reason is None


def test_sft_example_holds_the_one_line_answer():
    record = {"id": "x:1", "text": "I love it", "context": [], "labels": ["joy"],
              "vad": {"v": 0.91, "a": 0.6, "d": 0.55}, "rationale": "positive tone from 'love'"}
    example = sft_example(record, LABELS)
    assert example["prompt_id"] == PROMPT_ID
    assert [m["role"] for m in example["messages"]] == ["system", "user", "assistant"]
    answer = parse_output(example["messages"][-1]["content"], LABELS)
    assert answer.ok and answer.answer["vad"] == {"v": 0.91, "a": 0.6, "d": 0.55}


valid_answers = st.fixed_dictionaries({
    "labels": st.lists(st.sampled_from(LABELS), unique=True),
    "vad": st.fixed_dictionaries({k: st.floats(0, 1) for k in "vad"}),
    "rationale": st.text(max_size=20),
})


@settings(max_examples=300, deadline=None)
@given(prefix=st.text(max_size=60), answer=valid_answers, suffix=st.text(alphabet="abc }]\n", max_size=20))
def test_parser_finds_the_object_behind_any_noise(prefix, answer, suffix):
    text = prefix + json.dumps(answer) + suffix
    parsed = parse_output(text, LABELS)
    # Noise without "{" cannot open another object, so the answer must be found exactly.
    if "{" not in prefix:
        assert parsed.ok and parsed.answer == answer


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_parser_never_raises(text):
    result = parse_output(text, LABELS)
    assert result.ok == (result.reason is None)
