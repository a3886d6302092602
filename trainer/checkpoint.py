"""Checkpoints: resumable training state every N steps (keeping K), and model bundles for evaluation.

Layout of a run folder:
  checkpoints/step_00000800/  state.pt (trainable weights, heads, optimizer, EMA, sampler, RNGs, loop
                              counters; tensors and plain containers only, NumPy arrays as tagged
                              tensors, read with weights_only=True) + bundle.json; written to a temporary folder and renamed, so a
                              kill never leaves a half-written checkpoint that `latest` would pick.
  best/, final/               model/ (EMA weights, `save_pretrained`; LoRA merged), tokenizer/,
                              heads.pt, bundle.json — what `emodata eval` loads.
bundle.json: the exact config, tokenizer SHA-1, manifest path + SHA-1, prompt id, label space, git
commit and the environment stamp (`trainer.envstamp`).
"""
from __future__ import annotations

import json
import pickle
import re
import shutil
from pathlib import Path
from typing import Any, Mapping

import torch

from emodata.core.atomic import atomic_dir
from emodata.core.errors import EmodataError
from emodata.core.hashing import sha1_json, sha1_text
from emodata.core.manifest import git_commit

from emodata.core.contract import PROMPT_ID

STEP_DIR = re.compile(r"^step_(\d{8})$")


def tokenizer_sha1(tokenizer: Any) -> str:
    """SHA-1 of a tokenizer's full definition (fast: the backend JSON; else the vocabulary), chat template included."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    body = backend.to_str() if backend is not None else sha1_json(tokenizer.get_vocab())
    return sha1_text(body + "\0" + str(getattr(tokenizer, "chat_template", None) or ""))


def make_bundle(config: Mapping[str, Any], tokenizer: Any, manifest_path: str | Path, manifest_sha1: str,
                labels: list[str], extra: Mapping[str, Any] | None = None) -> dict:
    """The provenance saved with every checkpoint and model bundle."""
    from trainer.envstamp import environment_stamp

    return {"config": dict(config), "tokenizer_sha1": tokenizer_sha1(tokenizer),
            "manifest": str(manifest_path), "manifest_sha1": manifest_sha1, "prompt_id": PROMPT_ID,
            "label_space": list(labels), "git_commit": git_commit(), "environment": environment_stamp(),
            **(extra or {})}


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")


def save_checkpoint(run_dir: str | Path, step: int, state: dict, bundle: dict, keep: int) -> Path:
    """Write `checkpoints/step_{step:08d}` atomically and delete all but the newest `keep`."""
    root = Path(run_dir) / "checkpoints"
    final = root / f"step_{step:08d}"
    with atomic_dir(final) as tmp:
        torch.save(to_safe_state(state), tmp / "state.pt")
        _write_json(tmp / "bundle.json", {**bundle, "step": step})
    for old in list_checkpoints(run_dir)[:-max(1, keep)]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoint folders of a run, oldest first."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and STEP_DIR.match(p.name) and (p / "state.pt").is_file()]
    return sorted(found, key=lambda p: p.name)


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest complete checkpoint folder, or None."""
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


_NDARRAY = "__ndarray__"


def to_safe_state(obj: Any) -> Any:
    """`obj` with every NumPy array as a tagged tensor and every NumPy scalar as a Python number, so
    `torch.load(weights_only=True)` reads it back (tensors, dicts, lists, tuples, str, numbers, None)."""
    import numpy as np

    if isinstance(obj, np.ndarray):
        wide = obj.astype(np.int64) if obj.dtype.kind == "u" else obj  # torch lacks most unsigned types
        return {_NDARRAY: torch.from_numpy(np.ascontiguousarray(wide)), "dtype": obj.dtype.str}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: to_safe_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_safe_state(v) for v in obj)
    return obj


def from_safe_state(obj: Any) -> Any:
    """Inverse of `to_safe_state`: tagged tensors back to NumPy arrays of their dtype."""
    import numpy as np

    if isinstance(obj, dict):
        if set(obj) == {_NDARRAY, "dtype"}:
            return obj[_NDARRAY].numpy().astype(np.dtype(obj["dtype"]))
        return {k: from_safe_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(from_safe_state(v) for v in obj)
    return obj


def load_state(path: str | Path) -> dict:
    """The `state.pt` of a checkpoint folder (CPU tensors), read with `weights_only=True`: a crafted file
    cannot run code; one holding anything but tensors and plain containers is refused."""
    file = Path(path) / "state.pt"
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EmodataError(f"{file}: not a plain tensor checkpoint, refused (weights_only load: {first})") from None
    return from_safe_state(state)


def save_model_dir(path: str | Path, model: Any, tokenizer: Any, heads: torch.nn.Module, bundle: dict) -> Path:
    """An evaluation bundle (model/, tokenizer/, heads.pt, bundle.json), atomically; a peft model is
    saved merged so the folder loads with plain `from_pretrained`."""
    final = Path(path)
    with atomic_dir(final) as tmp:
        to_save = model
        if hasattr(model, "merge_and_unload"):
            import copy

            to_save = copy.deepcopy(model).merge_and_unload()
        to_save.save_pretrained(tmp / "model")
        tokenizer.save_pretrained(tmp / "tokenizer")
        torch.save(heads.state_dict(), tmp / "heads.pt")
        _write_json(tmp / "bundle.json", bundle)
    return final


def load_model_dir(path: str | Path, device: str | torch.device = "cpu") -> tuple[Any, Any, dict]:
    """(model, tokenizer, bundle) from `save_model_dir` output, or from a plain Hugging Face model folder
    (bundle {}); local files only. The bundle's tokenizer SHA-1 is checked."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"checkpoint folder not found: {path}")
    bundled = (path / "bundle.json").is_file() and (path / "model").is_dir()
    model_dir, tok_dir = (path / "model", path / "tokenizer") if bundled else (path, path)
    bundle = json.loads((path / "bundle.json").read_text(encoding="utf-8")) if bundled else {}
    tokenizer = AutoTokenizer.from_pretrained(tok_dir, local_files_only=True)
    if bundle and bundle.get("tokenizer_sha1") != tokenizer_sha1(tokenizer):
        raise ValueError(f"{tok_dir}: tokenizer SHA-1 {tokenizer_sha1(tokenizer)} != bundle "
                         f"{bundle.get('tokenizer_sha1')} (the tokenizer was changed)")
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True).to(device)
    model.eval()
    return model, tokenizer, bundle
