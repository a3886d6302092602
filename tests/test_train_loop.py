"""The trainer end to end on the sample build (CPU, tiny model, no downloads): ParseOK rises and the
loss falls; resume gives the same weights; OOM self-healing; SHA-1 refusal; tokenisation; LoRA; CLI config."""
from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from emodata.build import build  # noqa: E402
from emodata.core.config import BuildConfig  # noqa: E402
from emodata.core.errors import EmodataError, VerificationError  # noqa: E402
from trainer.config import TrainConfig  # noqa: E402
from trainer.train import TrainHooks, train  # noqa: E402


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    out, cache = tmp_path_factory.mktemp("build"), tmp_path_factory.mktemp("cache")
    # flip_frac 0.1: with a pair for most sample rows, 300 steps teach the tiny model the answer format only to
    # ParseOK ~0.8 (open, see RESULTS). 0.2 was enough until the flips of 2026-12-03 made more (negation)
    # pairs per drawn row: ParseOK 0.778 at 0.2, 0.911 at 0.1 (1.000 at 0.2 before). Open for the trainer.
    (result,) = build(BuildConfig(mix=["50:50"], sample=True, out=str(out), cache_dir=str(cache), quiet=True,
                                  flip_frac=0.1))
    return result.manifest_path


def quick(manifest: Path, out: Path, **kw) -> TrainConfig:
    """A few-step CPU config: no dev evaluation unless asked, no checkpoints unless asked."""
    values = dict(manifest=str(manifest), out=str(out), max_steps=4, micro_batch=2, grad_accum=1, lr=3e-3,
                  save_every=0, grad_ckpt=False, eval_split="", quiet=True, weight_decay=0.0)
    values.update(kw)
    return TrainConfig(**values)


def log_rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines() if line.strip()]


def test_end_to_end_parse_ok_rises_and_loss_falls(manifest, tmp_path):
    from emodata.core.manifest import Manifest
    from emodata.core.reader import read_split
    from trainer.checkpoint import load_model_dir
    from trainer.evaluate import evaluate_model
    from trainer.tiny import tiny_model

    started = time.perf_counter()
    # 400 steps: 300 sit at the edge of learning the format (the v2 appraisal classifier, same CV AUC, left
    # ParseOK at 0.78 after 300; 1.0 after 400; results_appraisal.md)
    cfg = TrainConfig(manifest=str(manifest), out=str(tmp_path / "run"), max_steps=400, micro_batch=4,
                      grad_accum=1, lr=5e-3, weight_decay=0.0, ema_decay=0.99, grad_ckpt=False,
                      pass_steps=400, save_every=0, quiet=True)
    result = train(cfg)
    train_s = time.perf_counter() - started
    loaded = Manifest.load(manifest)
    held_out = read_split(loaded, "dev").to_pylist() + read_split(loaded, "test").to_pylist()  # never trained on
    train_ids = set(read_split(loaded, "train", ["id"]).column("id").to_pylist())
    assert held_out and not train_ids & {r["id"] for r in held_out}

    trained, tokenizer, bundle = load_model_dir(tmp_path / "run" / "final")
    untrained = tiny_model(tokenizer, seed=cfg.seed)  # the same initial weights as the run's
    before = evaluate_model(untrained, tokenizer, held_out, loaded.labels, seeds=(11,), batch_size=16)["mean"]
    after = evaluate_model(trained, tokenizer, held_out, loaded.labels, seeds=(11,), batch_size=16)["mean"]
    print(f"\ne2e: train {train_s:.1f}s, total {time.perf_counter() - started:.1f}s, "
          f"{result.tokens_per_s:.0f} tokens/s, ParseOK {before['parse_ok']:.3f} -> {after['parse_ok']:.3f} "
          f"on {len(held_out)} held-out rows, loss {result.first_loss:.3f} -> {result.last_loss:.3f}")

    assert before["parse_ok"] <= 0.05
    assert after["parse_ok"] >= 0.9
    steps = [r for r in log_rows(tmp_path / "run") if "loss" in r]
    assert len(steps) == 400

    def mean(key, part):
        return sum(r[key] for r in part) / len(part)

    # the composite loss falls (L_app / L_vad keep a floor) and the SFT token loss falls much more
    assert mean("loss", steps[-20:]) < 0.5 * mean("loss", steps[:20])
    assert mean("loss_sft", steps[-20:]) < 0.25 * mean("loss_sft", steps[:20])
    # L_app (verifier trained on the enISEAR appraisal classifier's atoms, issue 17) falls too
    assert mean("loss_app", steps[-20:]) < mean("loss_app", steps[:20])
    # the run's own dev evaluation and provenance
    assert result.evals and result.evals[-1]["parse_ok"] >= 0.9
    from emodata.core.hashing import sha1_file

    assert bundle["manifest_sha1"] == sha1_file(manifest) and bundle["tokenizer_sha1"]
    assert bundle["prompt_id"] and "environment" in bundle and "config" in bundle


def _params(model) -> dict:
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def test_resume_after_kill_gives_identical_weights(manifest, tmp_path):
    kw = dict(max_steps=6, save_every=2, keep=2, pass_steps=3, eval_split="dev", eval_rows=2, grad_ckpt=True,
              ema_decay=0.9, lambda_vad=1.0)
    full = train(quick(manifest, tmp_path / "full", **kw))
    killed = train(quick(manifest, tmp_path / "killed", **kw), TrainHooks(stop_after_step=3))
    assert killed.stopped == "killed" and killed.steps == 3
    checkpoints = sorted(p.name for p in (tmp_path / "killed" / "checkpoints").iterdir())
    assert checkpoints == ["step_00000002"]  # step 3 is not a checkpoint: one step is lost and redone
    resumed = train(quick(manifest, tmp_path / "killed", **kw))
    assert resumed.steps == 6
    a, b = _params(full.model), _params(resumed.model)
    assert a.keys() == b.keys() and all(torch.equal(a[n], b[n]) for n in a)
    assert all(torch.equal(x, y) for x, y in zip(full.heads.state_dict().values(), resumed.heads.state_dict().values()))
    # EMA weights in final/ match too, and the log reads like one uninterrupted run
    from safetensors.torch import load_file
    fa = load_file(tmp_path / "full" / "final" / "model" / "model.safetensors")
    fb = load_file(tmp_path / "killed" / "final" / "model" / "model.safetensors")
    assert all(torch.equal(fa[k], fb[k]) for k in fa)
    def strip(rows):  # wall-clock fields differ between runs
        return [{k: v for k, v in r.items() if k not in ("time_s", "tokens_per_s")} for r in rows]

    assert strip(log_rows(tmp_path / "full")) == strip(log_rows(tmp_path / "killed"))
    assert [e["step"] for e in full.evals] == [3, 6]


def test_oom_self_healing(manifest, tmp_path):
    fired = []

    def oom_once(step, micro):
        if step == 1 and micro == 0 and not fired:
            fired.append(step)
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    result = train(quick(manifest, tmp_path / "run", max_len=1536, grad_accum=2, micro_batch=2),
                   TrainHooks(before_micro_step=oom_once))
    assert fired == [1] and result.steps == 4
    assert result.oom_events == [{"event": "oom", "step": 1, "max_len": [1536, 1408], "grad_accum": [2, 4],
                                   "micro_batch": [2, 1]}]
    rows = log_rows(tmp_path / "run")
    assert [r["event"] for r in rows if "event" in r] == ["oom"]
    steps = [r for r in rows if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2, 3, 4]
    assert [(r["grad_accum"], r["max_len"]) for r in steps] == [(2, 1536), (4, 1408), (4, 1408), (4, 1408)]


def test_oom_floor_and_giving_up(manifest, tmp_path):
    def always(step, micro):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    with pytest.raises(EmodataError, match="out of memory 3 times"):
        train(quick(manifest, tmp_path / "run", max_len=1100, oom_retries=3), TrainHooks(before_micro_step=always))
    events = [r for r in log_rows(tmp_path / "run") if r.get("event") == "oom"]
    assert [e["max_len"] for e in events] == [[1100, 1024], [1024, 1024], [1024, 1024]]
    assert [e["grad_accum"][1] for e in events] == [2, 4, 8]


def test_other_errors_are_not_swallowed(manifest, tmp_path):
    def boom(step, micro):
        raise RuntimeError("not an OOM")

    with pytest.raises(RuntimeError, match="not an OOM"):
        train(quick(manifest, tmp_path / "run"), TrainHooks(before_micro_step=boom))


def test_refuses_a_modified_shard(manifest, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(Path(manifest).parents[1], root)
    shard = root / "data" / "goemotions" / "train.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(VerificationError, match=r"goemotions/train\.parquet: SHA-1 .* != manifest"):
        train(quick(root / "manifests" / Path(manifest).name, tmp_path / "run"))


def test_tokenisation_masks_the_prompt_and_counts_truncation(manifest, tmp_path):
    from emodata.core.contract import build_prompt, serialize_target
    from trainer.data import IGNORE, collate, load_records, tokenize, tokenizer_corpus
    from trainer.decode import encode_prompt
    from trainer.tiny import tiny_tokenizer

    records = load_records(manifest)
    tok = tiny_tokenizer(tokenizer_corpus(records.train, records.labels), records.labels, vocab_size=1024)
    data = tokenize(records, tok)
    assert len(data.train) == len(records.train) and data.sources() == ["goemotions", "empatheticdialogues"]
    row, ex = records.train[0], data.train[0]
    assert ex.prompt_ids == encode_prompt(tok, build_prompt(row["text"], row["context"] or [], records.labels))
    assert tok.decode(ex.answer_ids) == serialize_target(row["labels"], row["vad"], row["rationale"]) + tok.eos_token
    assert sum(ex.label_vec) == len(row["labels"]) and ex.vad == (row["vad"]["v"], row["vad"]["a"], row["vad"]["d"])
    if records.manifest.shards(role="pairs"):  # builds with Valence-Flip pairs
        assert len(data.pairs) == sum(s["rows"] for s in records.manifest.shards(role="pairs"))
        assert data.pairs[0].prompt_ids != data.pairs[0].flip_prompt_ids
    else:
        assert data.pairs == [] and any("L_flip is skipped" in n for n in data.notes)

    batch = collate([(ex.prompt_ids, ex.answer_ids), (data.train[1].prompt_ids, data.train[1].answer_ids)],
                    max_len=10_000, pad_id=tok.pad_token_id)
    assert batch.truncated == 0
    answer = [t for t in batch.targets[0] if t != IGNORE]
    assert answer == ex.answer_ids and batch.targets[0][:len(ex.prompt_ids)] == [IGNORE] * len(ex.prompt_ids)
    assert batch.prompt_last[0] == len(ex.prompt_ids) - 1
    cut = len(ex.answer_ids) + 20
    batch = collate([(ex.prompt_ids, ex.answer_ids)], max_len=cut, pad_id=tok.pad_token_id)
    assert batch.truncated == 1 and len(batch.input_ids[0]) == cut
    assert batch.input_ids[0] == ex.prompt_ids[-20:] + ex.answer_ids  # the prompt's first tokens go

    result = train(quick(manifest, tmp_path / "run", max_steps=2, max_len=120))
    assert result.truncated == 4  # every sampled row is longer than 120 tokens


def test_lora_trains_only_adapters_and_heads(manifest, tmp_path):
    pytest.importorskip("peft")
    result = train(quick(manifest, tmp_path / "run", max_steps=2, lora_r=4, lora_alpha=8, ema_decay=0.0))
    trainable = [n for n, p in result.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    from transformers import AutoModelForCausalLM
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "run" / "final" / "model", local_files_only=True)
    assert not any("lora_" in n for n, _ in merged.named_parameters())


def test_yaml_config_and_cli_commands(tmp_path):
    from trainer.cli import trainer_commands
    from emodata.core.config import apply_config_file
    from trainer.config import EvalConfig, ScreenConfig

    TRAINER_COMMANDS = trainer_commands()
    assert {"train", "eval", "screen"} <= set(TRAINER_COMMANDS)
    assert TRAINER_COMMANDS["train"][0] is TrainConfig and TRAINER_COMMANDS["eval"][0] is EvalConfig
    assert TRAINER_COMMANDS["screen"][0] is ScreenConfig and callable(TRAINER_COMMANDS["screen"][2])
    path = tmp_path / "c.yaml"
    path.write_text("lr: 0.01\nmax-steps: 7\nmicro_batch: 3\n")
    cfg = apply_config_file(TrainConfig(config=str(path), micro_batch=5))
    assert (cfg.lr, cfg.max_steps, cfg.micro_batch) == (0.01, 7, 5)  # the command line wins
    path.write_text("lr: 0.01\nnot_an_option: 1\n")
    with pytest.raises(EmodataError, match="unknown option"):
        apply_config_file(TrainConfig(config=str(path)))
    import argparse

    from emodata.core.config import add_arguments, from_namespace
    parser = argparse.ArgumentParser()
    add_arguments(parser, TrainConfig)
    args = parser.parse_args(["--manifest", "m.json", "--lambda-vad", "0", "--no-grad-ckpt"])
    cfg = from_namespace(TrainConfig, args)
    assert cfg.lambda_vad == 0.0 and cfg.grad_ckpt is False and cfg.model == "tiny"


def _add_optional_signals(manifest: Path, root: Path) -> Path:
    """A copy of the build whose train shards carry weak labels and appraisal prototypes, with a flip-pairs
    shard and an appraisal verifier artifact (each added only when the build lacks it), SHA-1s updated."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from emodata.core.hashing import sha1_file
    from emodata.core.manifest import Manifest, dumps
    from emodata.verify import write_checksums
    from labeling_functions.appraisal.verifier import Verifier, default_config

    shutil.copytree(Path(manifest).parents[1], root)
    path = root / "manifests" / Path(manifest).name
    loaded = Manifest.load(path)
    data, atoms = loaded.data, ("goal_attainment", "certainty")
    for shard in (s for s in data["shards"] if s["role"] == "train"):  # the JSON entries, rewritten below
        table = pq.read_table(loaded.shard_path(shard))
        rows = table.num_rows
        if "weak_labels" not in table.column_names:  # newer builds have them already
            table = table.append_column("weak_labels", pa.array([["joy"]] * rows, pa.list_(pa.string())))
        if "appraisal_prototype" not in table.column_names:
            protos = [{"goal_attainment": 0.9, "certainty": None} for _ in range(rows)]
            table = table.append_column("appraisal_prototype", pa.array(protos))
        pq.write_table(table, loaded.shard_path(shard))
        shard["sha1"] = sha1_file(loaded.shard_path(shard))
    if not loaded.shards(role="pairs"):
        _add_pairs(root, data)
    if not any(a.get("name") == "appraisal_verifier" for a in data.get("artifacts", [])):
        rng = np.random.default_rng(0)
        verifier = Verifier(atoms, tuple(loaded.labels), rng.normal(size=(64, 2)),
                            rng.normal(size=(len(loaded.labels), 2)), np.zeros(2), default_config(n_features=64))
        verifier.save(root / "verifier.npz")
        data["artifacts"] = [{"name": "appraisal_verifier", "path": "verifier.npz",
                              "sha1": sha1_file(root / "verifier.npz")}]
    path.write_text(dumps(data), encoding="utf-8")
    write_checksums(root)  # the trainer verifies the whole build, as `emodata verify` does
    return path


def _add_pairs(root: Path, data: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from emodata.core.hashing import sha1_file

    pairs = pa.table({"pair_id": ["p1", "p2"], "id": ["a", "b"], "id_flip": ["a~", "b~"],
                      "text": ["I am happy today.", "This is not bad."],
                      "text_flip": ["I am sad today.", "This is bad."], "kind": ["antonym", "negation"]})
    pq.write_table(pairs, root / "test_pairs.parquet")
    data["shards"].append({"name": "pairs", "source": "mix", "split": "train", "role": "pairs",
                           "path": "test_pairs.parquet", "sha1": sha1_file(root / "test_pairs.parquet"), "rows": 2})


def test_weak_labels_appraisal_verifier_and_flip_pairs_are_used(manifest, tmp_path):
    pytest.importorskip("labeling_functions.appraisal.verifier")
    doctored = _add_optional_signals(manifest, tmp_path / "build")
    result = train(quick(doctored, tmp_path / "run", max_steps=2, weak_label_weight=0.5, lambda_app=0.5,
                         lambda_flip=0.4))
    assert any(n.startswith("L_app: verifier with") for n in result.notes)
    assert not any("skipped" in n for n in result.notes if "L_app" in n or "L_flip" in n)
    steps = [r for r in log_rows(tmp_path / "run") if "loss" in r]
    for row in steps:
        assert {"loss_sft", "loss_cls", "loss_reg", "loss_vad", "loss_app", "loss_flip"} <= set(row)
        assert row["loss_app"] > 0 and row["loss_flip"] >= 0
    # λ = 0 removes a term (one flag per ablation)
    result = train(quick(doctored, tmp_path / "ablate", max_steps=1, lambda_app=0, lambda_flip=0, lambda_vad=0))
    row = [r for r in log_rows(tmp_path / "ablate") if "loss" in r][0]
    assert not {"loss_app", "loss_flip", "loss_vad"} & set(row) and {"loss_sft", "loss_cls"} <= set(row)
    # the verifier is checked like a shard
    verifier = next(a for a in json.loads(doctored.read_text())["artifacts"] if a["name"] == "appraisal_verifier")
    (tmp_path / "build" / verifier["path"]).write_bytes(b"changed")
    with pytest.raises(VerificationError, match="verifier.npz: SHA-1"):
        train(quick(doctored, tmp_path / "bad", max_steps=1))


def test_budget_stops_the_outer_loop_and_checkpoints(manifest, tmp_path):
    result = train(quick(manifest, tmp_path / "run", max_steps=6, pass_steps=2, budget_s=1e-9, save_every=100))
    assert result.steps == 2 and result.stopped.startswith("budget")
    # the early stop leaves a checkpoint to resume from, and final/ holds the weights
    assert (tmp_path / "run" / "checkpoints" / "step_00000002" / "state.pt").is_file()
    assert (tmp_path / "run" / "final" / "bundle.json").is_file()


def test_learning_rate_warmup_then_cosine():
    from trainer.setup import lr_at

    cfg = TrainConfig(lr=1.0, warmup_frac=0.03, min_lr_frac=0.1)
    lrs = [lr_at(s, 200, cfg) for s in range(200)]
    assert lrs[:6] == pytest.approx([1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1.0])  # ceil(0.03 * 200) = 6 steps
    assert lrs[6 + 97] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 97 / 194)))
    assert all(a >= b for a, b in zip(lrs[5:], lrs[6:])) and lrs[-1] > 0.1


def test_eval_command_agrees_with_model_free_scoring(manifest, tmp_path, capsys):
    """`emodata eval` on a checkpoint writes predictions whose `emodata score` equals its own metrics."""
    from emodata.cli import main

    train(quick(manifest, tmp_path / "run"))
    out = tmp_path / "eval"
    assert main(["eval", "--manifest", str(manifest), "--checkpoint", str(tmp_path / "run" / "final"),
                 "--split", "dev", "--seeds", "11", "--out", str(out), "--device", "cpu"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    (pred,) = sorted(out.glob("predictions_seed11.jsonl"))
    capsys.readouterr()
    assert main(["score", "--pred", str(pred), "--gold", str(manifest), "--split", "dev",
                 "--out", str(tmp_path / "score.json")]) == 0
    printed = json.loads(capsys.readouterr().out)
    scored = json.loads((tmp_path / "score.json").read_text())
    assert printed == scored
    mean = metrics.get("mean", metrics)
    assert scored["n"] == mean["n"] > 0
    for key in ("parse_ok", "macro_f1", "vad_1mrmse"):
        assert scored[key] == pytest.approx(mean[key]) if mean[key] is not None else scored[key] is None


def test_screen_command_ranks_candidates_by_the_composite_z_score(manifest, tmp_path, capsys):
    """`emodata screen` on two checkpoints: both evaluated on the same stream, ranked as rank_candidates."""
    import csv

    from emodata.cli import main

    for name, steps in (("short", 2), ("longer", 30)):
        train(quick(manifest, tmp_path / name, max_steps=steps, lr=5e-3, micro_batch=4))
    candidates = [str(tmp_path / "short" / "final"), str(tmp_path / "longer" / "final")]
    capsys.readouterr()
    assert main(["screen", "--manifest", str(manifest), "--models", ",".join(candidates), "--device", "cpu",
                 "--budget-s", "600", "--out", str(tmp_path / "screen")]) == 0
    ranking = json.loads(capsys.readouterr().out)["ranking"]
    assert sorted(r["name"] for r in ranking) == sorted(candidates)
    assert [r["score"] for r in ranking] == sorted((r["score"] for r in ranking), reverse=True)
    assert [r["rank"] for r in ranking] == [1, 2]
    # two candidates: the z-scores of each metric are ±1 (or 0 when tied), weighted 0.4/0.4/0.2
    assert all(abs(r["z_macro_f1"]) in (0.0, 1.0) for r in ranking)
    assert ranking[0]["score"] == pytest.approx(-ranking[1]["score"])
    with open(tmp_path / "screen" / "screening.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["name"] for r in rows] == [r["name"] for r in ranking]
