"""The Great Expectations QC gate on real builds: a clean build passes, each corruption fails naming
the expectation and an offending id, optional columns and pairs are checked when present, Data Docs
render. Every test runs real GX validations (no mocks) against a tiny build made here."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emodata.build import build
from emodata.core.config import BuildConfig
from emodata.core.schema import APPRAISAL_TYPE
from emodata.shards import write_parquet
from emodata.sources import SAMPLE_DIR
from expectations import GateResult, render_docs, run_gate

# A tiny GoEmotions (simplified TSV) and DailyDialog corpus, written for these tests. Emotion words
# keep the nrclex-proxy lexicon coverage above tau; labels are spread so no label dominates.
GOEMOTIONS = [
    ("I am so happy and grateful for this wonderful gift", "15,17"),
    ("I love my family and my beautiful home so much", "18"),
    ("This is a terrible and horrible day for everyone", "9,25"),
    ("I hate the way they lie and cheat all the time", "2,10"),
    ("What a great and amazing game that was tonight", "0,13"),
    ("I am afraid of the dark and the scary noises", "14"),
    ("The angry mob started to fight in the street", "2"),
    ("She felt sad and lonely after the funeral", "25,16"),
    ("Thank you so much for the kind and generous help", "15"),
    ("That joke was hilarious and I laughed a lot", "1"),
    ("I am worried and anxious about the exam tomorrow", "19"),
    ("The food was disgusting and rotten and awful", "11"),
    ("I am proud of my daughter for winning the award", "21"),
    ("What a relief that the surgery was a success", "23"),
    ("I feel guilty and sorry for what I did to him", "24"),
    ("Wow I did not expect such a surprise party", "26"),
    ("I hope the future brings peace and happiness", "20"),
    ("I really admire your courage and your honesty", "0"),
    ("That is a good idea and I agree with you", "4"),
    ("Please take care and stay safe my dear friend", "5"),
    ("I am confused about what the teacher said today", "6"),
    ("I wonder why the sky looks so beautiful tonight", "7"),
    ("I really want that delicious cake so badly", "8"),
    ("I am disappointed that the movie was so bad", "9"),
    ("I strongly disagree with this unfair and wrong decision", "10"),
    ("I was so embarrassed and ashamed in front of the class", "12"),
    ("I am so excited for the concert and the music", "13"),
    ("The death of my grandmother filled me with grief", "16"),
    ("We had so much fun and joy at the happy wedding", "17"),
    ("I finally realized the truth about the murder", "22"),
    ("The weather is fine and the meeting starts at noon", "27"),
    ("I am furious that they stole my money again", "2,3"),
    ("This annoying noise makes me angry every morning", "3"),
    ("I love this song it makes me feel so good", "18,17"),
    ("The terrible accident left everyone in shock and pain", "25"),
    ("I am terrified of spiders and snakes in the garden", "14"),
    ("Such a beautiful sunset fills my heart with love", "0,18"),
    ("I am grateful for my wonderful and loyal friends", "15"),
    ("The cruel villain laughed at the poor victim", "11"),
    ("I feel hopeful and optimistic about the new job", "20"),
    ("It is a shame that the good team lost the game", "9"),
    ("The nasty smell of garbage made me sick", "11"),
    ("I am nervous about the surgery and the hospital", "19"),
    ("I miss my mother and feel sad every day", "25"),
    ("Congratulations on your wonderful success and victory", "0,13"),
    ("He was happy to receive the money and the prize", "17"),
    ("I love the smile of my baby and her laughter", "18"),
    ("That horrible crime makes me angry and disgusted", "2,11"),
    ("I appreciate the beautiful and thoughtful present", "15"),
    ("The hostile enemy attacked the peaceful village", "14"),
    ("I am sorry for your loss and your pain", "5,25"),
    ("This bad news about the war is depressing", "25"),
    ("I trust my friend and I believe in her honesty", "4"),
    ("I am bored and tired of this stupid waiting", "3"),
    ("The party was great and the music was good", "17"),
    ("I feel lonely and abandoned in this cold house", "25"),
    ("Our team will win the championship with pride", "21"),
    ("The storm destroyed the house and we lost everything", "16"),
    ("I am amazed by the wonderful beauty of nature", "0,26"),
    ("We celebrate the holiday with love and joy", "17,18"),
    ("The evil witch cursed the innocent princess", "14"),
    ("He felt ashamed of his bad and shameful behavior", "12"),
]
# (utterances, DailyDialog emotion ids: 0 none, 1 anger, 2 disgust, 3 fear, 4 happiness, 5 sadness, 6 surprise)
DIALOGUES = [
    (["I am so happy to see you again my friend !", "I missed you too , it is wonderful to be back .",
      "Let us celebrate with a good dinner tonight ."], [4, 4, 4]),
    (["I hate this terrible traffic every morning .", "It makes me angry too , it is awful .",
      "Maybe we should leave the house earlier ."], [1, 1, 0]),
    (["I am afraid of the exam tomorrow .", "Do not worry , you studied hard and you will pass ."], [3, 0]),
    (["My dog died last night and I feel so sad .", "I am so sorry for your loss , that is terrible ."], [5, 5]),
    (["Wow , what a beautiful surprise party !", "We wanted to show our love for you ."], [6, 4]),
    (["The food in this restaurant is disgusting .", "I agree , the meat smells rotten and awful ."], [2, 2]),
    (["The meeting starts at noon in the office .", "Good , I will bring the report and the money ."], [0, 0]),
    (["I won the lottery and I am so excited !", "Congratulations , that is great news !"], [4, 4]),
]


def write_tiny_corpus(folder: Path) -> Path:
    """GoEmotions train/dev TSVs and a DailyDialog single-file release under `folder`."""
    ge = folder / "goemotions"
    ge.mkdir(parents=True)
    rows = [f"{text}\t{labels}\tt{i:06d}" for i, (text, labels) in enumerate(GOEMOTIONS)]
    (ge / "train.tsv").write_text("\n".join(rows[:50]) + "\n", encoding="utf-8")
    (ge / "dev.tsv").write_text("\n".join(rows[50:]) + "\n", encoding="utf-8")
    dd = folder / "dailydialog"
    dd.mkdir()
    (dd / "dialogues_text.txt").write_text(
        "".join(" __eou__ ".join(u) + " __eou__\n" for u, _ in DIALOGUES), encoding="utf-8")
    (dd / "dialogues_emotion.txt").write_text(
        "".join(" ".join(map(str, e)) + " \n" for _, e in DIALOGUES), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory):
    """A 100:0 build of the tiny corpus (GoEmotions train/dev + DailyDialog probe)."""
    base = tmp_path_factory.mktemp("gx-tiny")
    data = write_tiny_corpus(base / "data")
    (result,) = build(BuildConfig(mix=["100:0"], data_dir=str(data), out=str(base / "out"), quiet=True,
                                  cache_dir=str(base / "cache")))
    return result


@pytest.fixture(scope="session")
def clean_result(tiny_build) -> GateResult:
    return run_gate(tiny_build.root, tiny_build.manifest)


@pytest.fixture
def tiny_copy(tiny_build, tmp_path):
    """(root, manifest) of a private copy of the tiny build that a test may corrupt."""
    root = tmp_path / tiny_build.root.name
    shutil.copytree(tiny_build.root, root)
    return root, json.loads((root / "manifests" / f"{tiny_build.name}.json").read_text())


def rewrite(root: Path, rel: str, change) -> list[dict]:
    """Apply `change(rows)` to the records of one shard and write it back (same Arrow schema)."""
    path = root / rel
    table = pq.read_table(path)
    rows = table.to_pylist()
    change(rows)
    write_parquet(pa.Table.from_pylist(rows, schema=table.schema), path)
    return rows


def failed(result: GateResult, check: str):
    """The failing outcome of one check (asserts it failed)."""
    matches = [o for o in result.outcomes if o.check == check]
    assert matches, f"{check} was not evaluated"
    assert not matches[0].success, f"{check} passed"
    return matches[0]


def example_ids(outcome) -> set:
    return {e.get("id") for e in outcome.unexpected_examples}


# ---- the clean build ------------------------------------------------------------------------------

def test_clean_build_passes(clean_result, tiny_build):
    assert clean_result.success
    assert clean_result.failed(severity="critical") == []
    assert clean_result.failed() == [], clean_result.failures_text()
    # gate rows are records: the build's Valence-Flip pairs shard is checked by the pairs suite instead
    record_shards = [s for s in tiny_build.manifest["shards"] if s["role"] != "pairs"]
    assert len(record_shards) == len(tiny_build.manifest["shards"]) - 1
    assert clean_result.rows == sum(s["rows"] for s in record_shards)
    summary = clean_result.summary()
    assert summary["success"] is True
    assert {"record", "mix", "distribution", "pairs"} <= set(summary["suites"])
    for name in ("record", "mix", "distribution", "pairs"):
        suite = summary["suites"][name]
        assert suite["evaluated"] > 0 and suite["failed_critical"] == 0 and suite["failed_warning"] == 0
    assert summary["suites"]["mix"]["skipped"] == ["mix.share_a"]          # 100:0 has no A share to check
    assert summary["suites"]["pairs"] == {"evaluated": len(PAIR_CHECKS), "failed_critical": 0, "failed_warning": 0}
    assert {o.check for o in clean_result.outcomes if o.suite == "pairs"} == PAIR_CHECKS
    assert clean_result.failures_text() == "QC gate: all expectations met."
    checks = {o.check for o in clean_result.outcomes}
    for name in ("record.required_columns", "record.no_nulls", "record.id_unique", "record.text_non_empty",
                 "record.qc_len_range", "record.vad_v_range", "record.vad_a_range", "record.vad_d_range",
                 "record.vad_conf_min", "record.labels_in_label_space", "record.split_known",
                 "record.source_known", "record.qc_lang_en", "mix.dev_frac.goemotions",
                 "mix.no_id_across_roles", "mix.no_text_across_roles", "mix.shard_rows", "mix.mix_rows",
                 "distribution.top_label_share", "distribution.vad_v_mean", "distribution.vad_v_std"):
        assert name in checks, name
    assert {o.severity for o in clean_result.outcomes if o.suite == "distribution"} == {"warning"}


def test_build_without_pairs_skips_the_pairs_suite(tiny_build):
    manifest = json.loads(tiny_build.manifest_path.read_text())
    manifest["shards"] = [s for s in manifest["shards"] if s["role"] != "pairs"]
    del manifest["counts"]["pairs"]
    result = run_gate(tiny_build.root, manifest)
    assert result.success, result.failures_text()
    assert result.summary()["suites"]["pairs"] == {"evaluated": 0, "failed_critical": 0, "failed_warning": 0,
                                                   "skipped": ["pairs"]}


def test_thresholds_come_from_the_manifest(clean_result, tiny_build):
    th = tiny_build.manifest["thresholds"]
    by_check = {o.check: o for o in clean_result.outcomes}
    assert by_check["record.vad_conf_min"].expected["min_value"] == th["vad_conf_min"]
    assert by_check["record.qc_len_range"].expected == {"min_value": th["min_tokens"], "max_value": th["max_tokens"]}
    assert by_check["record.vad_v_range"].expectation == "expect_column_values_to_be_between"


def test_results_are_json_and_deterministic(clean_result, tiny_build):
    data = clean_result.to_json()
    text = json.dumps(data, sort_keys=True)
    assert "seconds" not in data and "seconds" not in json.dumps(clean_result.summary())
    again = run_gate(tiny_build.root, tiny_build.manifest)
    assert json.dumps(again.to_json(), sort_keys=True) == text
    assert clean_result.to_json(timing=True)["seconds"] >= 0
    assert {o["check"] for o in data["outcomes"]} == {o.check for o in clean_result.outcomes}


def test_import_is_cheap():
    code = "import sys, expectations; assert 'great_expectations' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


# ---- corruptions ----------------------------------------------------------------------------------

def test_vad_out_of_range_fails(tiny_copy):
    root, manifest = tiny_copy
    rows = rewrite(root, "data/goemotions/train.parquet", lambda rs: rs[4]["vad"].update(v=1.5))
    result = run_gate(root, manifest)
    assert not result.success
    outcome = failed(result, "record.vad_v_range")
    assert outcome.severity == "critical" and outcome.column == "vad_v"
    assert outcome.expectation == "expect_column_values_to_be_between"
    assert outcome.observed["unexpected_count"] == 1
    assert outcome.unexpected_examples[0]["id"] == rows[4]["id"]
    assert outcome.unexpected_examples[0]["vad_v"] == 1.5
    text = result.failures_text()
    assert "record.vad_v_range" in text and "expect_column_values_to_be_between" in text and rows[4]["id"] in text


def test_duplicated_id_fails(tiny_copy):
    root, manifest = tiny_copy
    rows = rewrite(root, "data/goemotions/train.parquet", lambda rs: rs[7].update(id=rs[2]["id"]))
    result = run_gate(root, manifest)
    assert not result.success
    outcome = failed(result, "record.id_unique")
    assert outcome.expectation == "expect_column_values_to_be_unique"
    assert example_ids(outcome) == {rows[2]["id"]}
    assert "record.id_unique" in result.failures_text() and rows[2]["id"] in result.failures_text()


def test_id_shared_across_roles_fails(tiny_copy):
    root, manifest = tiny_copy
    dev = pq.read_table(root / "data/goemotions/dev.parquet").to_pylist()
    rewrite(root, "data/goemotions/train.parquet", lambda rs: rs[0].update(id=dev[0]["id"]))
    result = run_gate(root, manifest)
    assert not result.success
    assert dev[0]["id"] in example_ids(failed(result, "mix.no_id_across_roles"))


def test_dev_text_leaked_into_train_fails(tiny_copy):
    root, manifest = tiny_copy
    dev = pq.read_table(root / "data/goemotions/dev.parquet").to_pylist()
    leaked = "  " + dev[1]["text"].upper().replace(" ", "   ") + " "   # same text up to case and spaces
    rows = rewrite(root, "data/goemotions/train.parquet", lambda rs: rs[10].update(text=leaked))
    result = run_gate(root, manifest)
    assert not result.success
    outcome = failed(result, "mix.no_text_across_roles")
    assert outcome.severity == "critical"
    assert example_ids(outcome) == {rows[10]["id"], dev[1]["id"]}
    assert {e["shard"] for e in outcome.unexpected_examples} == {"goemotions/train", "goemotions/dev"}
    text = result.failures_text()
    assert "mix.no_text_across_roles" in text and rows[10]["id"] in text and dev[1]["id"] in text


def test_unknown_label_fails(tiny_copy):
    root, manifest = tiny_copy
    rows = rewrite(root, "data/dailydialog/dev_dailydialog_weak.parquet",
                   lambda rs: rs[3].update(labels=["joy", "bogus_label"]))
    result = run_gate(root, manifest)
    assert not result.success
    outcome = failed(result, "record.labels_in_label_space")
    assert outcome.expectation == "expect_column_values_to_be_null"
    assert outcome.unexpected_examples == [{"labels_unknown": "bogus_label", "id": rows[3]["id"],
                                            "shard": "dailydialog/dev_dailydialog_weak"}]
    assert "bogus_label" in result.failures_text() and rows[3]["id"] in result.failures_text()


def test_empty_text_fails(tiny_copy):
    root, manifest = tiny_copy
    rows = rewrite(root, "data/goemotions/dev.parquet", lambda rs: rs[0].update(text="   "))
    result = run_gate(root, manifest)
    assert not result.success
    outcome = failed(result, "record.text_non_empty")
    assert example_ids(outcome) == {rows[0]["id"]}
    assert "record.text_non_empty" in result.failures_text() and rows[0]["id"] in result.failures_text()


def test_more_record_corruptions(tiny_copy):
    root, manifest = tiny_copy

    def change(rs):
        rs[0]["vad_conf"] = 0.01                        # below tau
        rs[1]["split"] = "validation"                   # unknown split (and not its shard's)
        rs[2]["source"] = "twitter"                     # not a catalog source
        rs[3]["qc_flags"]["lang"] = "de"
        rs[4]["qc_flags"]["len"] = 500                  # beyond max_tokens
        rs[5]["vad"] = None                             # null VAD
    rows = rewrite(root, "data/goemotions/train.parquet", change)
    result = run_gate(root, manifest)
    assert not result.success
    for check, i in (("record.vad_conf_min", 0), ("record.split_known", 1), ("record.split_matches_shard", 1),
                     ("record.source_known", 2), ("record.source_matches_shard", 2), ("record.qc_lang_en", 3),
                     ("record.qc_len_range", 4), ("record.no_nulls", 5)):
        assert rows[i]["id"] in example_ids(failed(result, check)), check
    nulls = failed(result, "record.no_nulls").unexpected_examples[0]
    assert nulls["null_fields"] == "vad_v|vad_a|vad_d"


def test_missing_column_and_row_counts_fail(tiny_copy):
    root, manifest = tiny_copy
    path = root / "data/goemotions/dev.parquet"
    table = pq.read_table(path)
    write_parquet(table.drop_columns(["rationale"]).slice(0, table.num_rows - 1), path)
    result = run_gate(root, manifest)
    assert not result.success
    columns = failed(result, "record.required_columns")
    assert columns.unexpected_examples == [{"present": False, "shard": "goemotions/dev", "column": "rationale"}]
    assert [o.success for o in result.outcomes if o.check == "record.column_types"] == [True]
    shard_rows = failed(result, "mix.shard_rows")
    assert shard_rows.unexpected_examples[0]["item"] == "shard goemotions/dev"
    mix_rows = failed(result, "mix.mix_rows")
    assert {e["item"] for e in mix_rows.unexpected_examples} >= {"counts.dev", "mix.rows (train+dev)"}


def test_wrong_column_type_fails(tiny_copy):
    root, manifest = tiny_copy
    path = root / "data/goemotions/train.parquet"
    table = pq.read_table(path)
    turn = table.schema.get_field_index("turn")
    write_parquet(table.set_column(turn, "turn", table["turn"].cast(pa.int64())), path)
    result = run_gate(root, manifest)
    assert not result.success
    outcome = failed(result, "record.column_types")
    assert outcome.unexpected_examples == [{"type_ok": False, "shard": "goemotions/train", "column": "turn"}]


def test_missing_shard_file_fails(tiny_copy):
    root, manifest = tiny_copy
    (root / "data/goemotions/dev.parquet").unlink()
    result = run_gate(root, manifest)
    assert not result.success
    assert failed(result, "mix.shard_rows").unexpected_examples[0]["actual"] == -1


def test_dev_fraction_off_fails(tiny_copy):
    root, manifest = tiny_copy
    manifest["dev_frac"] = 0.3               # the build used 0.05: its dev share is now far off
    result = run_gate(root, manifest)
    assert not result.success
    outcome = failed(result, "mix.dev_frac.goemotions")
    assert outcome.expectation == "expect_column_mean_to_be_between" and 0.04 < outcome.observed < 0.06
    assert failed(result, "mix.dev_frac_close.goemotions").severity == "warning"


def test_label_collapse_is_a_warning(tiny_copy):
    root, manifest = tiny_copy
    rewrite(root, "data/goemotions/train.parquet", lambda rs: [r.update(labels=["joy"]) for r in rs])
    result = run_gate(root, manifest)
    assert result.success                                   # warnings do not fail the gate
    outcome = failed(result, "distribution.top_label_share")
    assert outcome.severity == "warning"
    assert {"group": "goemotions", "top_label": "joy"}.items() <= outcome.unexpected_examples[0].items()
    assert result.summary()["suites"]["distribution"]["failed_warning"] >= 1
    assert "[warning] distribution.top_label_share" in result.failures_text()


def test_vad_collapse_is_a_warning(tiny_copy):
    root, manifest = tiny_copy
    for shard in ("train", "dev"):
        rewrite(root, f"data/goemotions/{shard}.parquet",
                lambda rs: [r.update(vad={"v": 0.95, "a": 0.5, "d": 0.5}) for r in rs])
    # the pairs shard quotes its train records' valence (pairs.v_matches_train): keep it consistent so
    # that only the distribution checks see the collapse
    (pairs,) = [s for s in manifest["shards"] if s["role"] == "pairs"]
    rewrite(root, pairs["path"], lambda rs: [r.update(v=0.95, v_flip=0.05) for r in rs])
    result = run_gate(root, manifest)
    assert result.success, result.failures_text()
    assert [o for o in result.outcomes if o.suite == "pairs" and not o.success] == []
    assert failed(result, "distribution.vad_v_mean").unexpected_examples[0]["source"] == "goemotions"
    assert failed(result, "distribution.vad_a_std").severity == "warning"


# ---- optional columns and pairs -----------------------------------------------------------------

def _set_optional_columns(root: Path, manifest: dict, weak, appraisal) -> None:
    """Replace every record shard's `weak_probs` with weak(i), and set the atoms appraisal(i) gives in
    its `appraisal` struct (other atoms keep the build's values)."""
    for shard in manifest["shards"]:
        if shard["role"] == "pairs":
            continue
        path = root / shard["path"]
        table = pq.read_table(path)
        n = table.num_rows
        assert {"weak_probs", "appraisal"} <= set(table.column_names)    # every build writes them
        table = table.set_column(table.schema.get_field_index("weak_probs"), "weak_probs",
                                 pa.array([weak(i) for i in range(n)], pa.list_(pa.float64())))
        atoms = dict.fromkeys(APPRAISAL_TYPE.names)
        built = table.column("appraisal").to_pylist()
        table = table.set_column(table.schema.get_field_index("appraisal"), "appraisal", pa.array(
            [atoms | (built[i] or {}) | appraisal(i) for i in range(n)], APPRAISAL_TYPE))
        write_parquet(table, path)


def test_weak_probs_and_appraisal_checked_when_present(tiny_copy):
    root, manifest = tiny_copy
    _set_optional_columns(root, manifest, lambda i: [0.2, 0.8], lambda i: {"goal_attainment": 0.3, "certainty": 1.0})
    result = run_gate(root, manifest)
    assert result.success, result.failures_text()
    checks = {o.check for o in result.outcomes}
    assert {"record.weak_probs_min_range", "record.weak_probs_max_range", "record.weak_probs_nulls_zero",
            "record.appraisal_goal_attainment_range", "record.appraisal_certainty_range"} <= checks


def test_null_weak_probs_mean_abstain_and_pass(tiny_copy):
    # appraisal atoms are never null (the classifier scores every row): tests/test_appraisal_gate.py
    root, manifest = tiny_copy
    _set_optional_columns(root, manifest, lambda i: None if i % 2 else [0.3, 0.7],
                          lambda i: {"goal_attainment": 0.4, "certainty": 0.5})
    result = run_gate(root, manifest)
    assert result.success, result.failures_text()


def test_weak_probs_and_appraisal_out_of_range_fail(tiny_copy):
    root, manifest = tiny_copy
    _set_optional_columns(root, manifest,
                          lambda i: [0.5, 1.7] if i == 1 else ([0.5, None] if i == 2 else [0.1]),
                          lambda i: {"goal_attainment": -0.2 if i == 3 else 0.5, "certainty": 1.5 if i == 4 else 0.5})
    train = pq.read_table(root / "data/goemotions/train.parquet").column("id").to_pylist()
    result = run_gate(root, manifest)
    assert not result.success
    assert train[1] in example_ids(failed(result, "record.weak_probs_max_range"))
    assert train[2] in example_ids(failed(result, "record.weak_probs_nulls_zero"))
    assert train[3] in example_ids(failed(result, "record.appraisal_goal_attainment_range"))
    assert train[4] in example_ids(failed(result, "record.appraisal_certainty_range"))


def _add_pairs(root: Path, manifest: dict, table: pa.Table) -> None:
    path = root / "data" / "goemotions" / "pairs.parquet"
    write_parquet(table, path)
    shards = [s for s in manifest["shards"] if s.get("role") != "pairs"]
    manifest["shards"] = shards + [{"name": "goemotions/pairs", "source": "goemotions", "split": "train",
                                    "role": "pairs", "path": "data/goemotions/pairs.parquet",
                                    "rows": table.num_rows}]
    manifest["counts"]["pairs"] = table.num_rows          # replaces the build's own pairs shard


def _pair(record: dict, **change) -> dict:
    """A well-formed pairs row (emodata.flips.PAIRS_SCHEMA) for a train record, with `change` applied."""
    v = record["vad"]["v"]
    row = {"pair_id": f"p-{record['id']}", "id": record["id"], "id_flip": record["id"] + "#flip",
           "text": record["text"], "text_flip": "a different text", "kind": "negation",
           "targets": {"labels": None, "vad": {"v": 1 - v, "a": 0.5, "d": 0.5}},
           "v": v, "v_flip": 1 - v, "v_lex_flip": 1 - v, "s_flip": 0.0}
    return row | change


PAIR_CHECKS = {"pairs.columns_present", "pairs.pair_id_unique", "pairs.id_in_train", "pairs.text_matches_train",
               "pairs.v_matches_train", "pairs.id_flip_new", "pairs.id_flip_unique", "pairs.texts_differ",
               "pairs.v_sum_one", "pairs.v_not_null", "pairs.kind_known"}


def test_pairs_suite_passes_on_generated_pairs(tiny_copy):
    """make_pairs on the build's own train shard gives a pairs shard the gate accepts."""
    from emodata.annotate import make_annotator
    from emodata.flips import PAIRS_SCHEMA, make_pairs
    from emodata.text.lexicon import load_lexicon
    from emodata.text.nlp import load_pipeline

    root, manifest = tiny_copy
    train = pq.read_table(root / "data/goemotions/train.parquet").to_pandas()
    frame = train.assign(vad_v=[x["v"] for x in train["vad"]], vad_a=[x["a"] for x in train["vad"]],
                         vad_d=[x["d"] for x in train["vad"]])
    pipeline = load_pipeline()
    table, _ = make_pairs(frame, make_annotator(pipeline, load_lexicon(None)), pipeline, flip_frac=1.0, seed=3)
    assert table.num_rows >= 5 and table.schema.equals(PAIRS_SCHEMA)
    _add_pairs(root, manifest, table)
    result = run_gate(root, manifest)
    assert result.success, result.failures_text()
    assert {o.check for o in result.outcomes if o.suite == "pairs"} == PAIR_CHECKS


def test_pairs_suite_fails_on_corrupted_pairs(tiny_copy):
    from emodata.flips import PAIRS_SCHEMA

    root, manifest = tiny_copy
    train = pq.read_table(root / "data/goemotions/train.parquet").to_pylist()
    dev = pq.read_table(root / "data/goemotions/dev.parquet").to_pylist()
    good = [_pair(r) for r in train[:3]]
    bad = {
        "pairs.id_in_train": _pair(dev[0]),                                      # x is a dev record
        "pairs.text_matches_train": _pair(train[3], text="not the record's text"),
        "pairs.v_matches_train": _pair(train[4], v=train[4]["vad"]["v"] + 0.2, v_flip=0.8 - train[4]["vad"]["v"]),
        "pairs.id_flip_new": _pair(train[5], id_flip=train[6]["id"]),             # x' reuses a record id
        "pairs.texts_differ": _pair(train[7], text_flip="  " + train[7]["text"].upper()),
        "pairs.v_sum_one": _pair(train[8], v_flip=1.1 - train[8]["vad"]["v"]),
        "pairs.kind_known": _pair(train[9], kind="sarcasm"),
        "pairs.pair_id_unique": _pair(train[10], pair_id=good[0]["pair_id"]),
        "pairs.id_flip_unique": _pair(train[11], id_flip=good[1]["id_flip"]),
    }
    _add_pairs(root, manifest, pa.Table.from_pylist(good + list(bad.values()), schema=PAIRS_SCHEMA))
    result = run_gate(root, manifest)
    assert not result.success
    for check, row in bad.items():
        outcome = failed(result, check)
        assert row["pair_id"] in {e["pair"] for e in outcome.unexpected_examples}, check
        assert outcome.severity == "critical"
    assert failed(result, "pairs.v_sum_one").unexpected_examples[0]["v_sum_error"] == pytest.approx(0.1)
    passing = {o.check for o in result.outcomes if o.suite == "pairs" and o.success}
    assert passing == PAIR_CHECKS - set(bad)


def test_pairs_suite_names_missing_columns(tiny_copy):
    from emodata.flips import PAIRS_SCHEMA

    root, manifest = tiny_copy
    train = pq.read_table(root / "data/goemotions/train.parquet").to_pylist()
    table = pa.Table.from_pylist([_pair(r) for r in train[:2]], schema=PAIRS_SCHEMA)
    _add_pairs(root, manifest, table.drop_columns(["text_flip", "kind"]))
    result = run_gate(root, manifest)
    outcome = failed(result, "pairs.columns_present")
    assert outcome.unexpected_examples[0]["missing_columns"] == "text_flip|kind"
    assert failed(result, "pairs.texts_differ")    # no text_flip: nothing to differ from


# ---- two-source mix and Data Docs -------------------------------------------------------------------

@pytest.mark.skipif(not (SAMPLE_DIR / "empatheticdialogues").is_dir(), reason="no sample corpus")
def test_two_source_mix_share(tmp_path):
    (result,) = build(BuildConfig(mix=["20:80"], sample=True, out=str(tmp_path / "out"), quiet=True,
                                  cache_dir=str(tmp_path / "cache")))
    gate = run_gate(result.root, result.manifest)
    assert gate.success, gate.failures_text()
    share = [o for o in gate.outcomes if o.check == "mix.share_a"]
    assert share and share[0].success
    assert share[0].observed == pytest.approx(result.manifest["mix"]["share_a_actual"], abs=1e-6)
    manifest = json.loads(result.manifest_path.read_text())
    manifest["mix"].update(a=50, b=50)                    # the build is 20:80, not 50:50
    assert failed(run_gate(result.root, manifest), "mix.share_a").severity == "critical"


def test_render_docs(tiny_build, tmp_path):
    index = render_docs(tiny_build.root, tiny_build.manifest, tmp_path / "docs")
    assert index == (tmp_path / "docs" / "index.html").resolve() and index.is_file()
    html = index.read_text(encoding="utf-8")
    for suite in ("record", "mix", "distribution"):
        assert f'<section id="{suite}">' in html
    assert "record.required_columns" in html and "PASSED" in html
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", html)   # offline: nothing fetched
    assert "{&#34;" not in html and '{"' not in html                 # no raw JSON in the tables
