"""The environment stamp saved with every run and checkpoint, and the drift check made at eval time.

`environment_stamp()` records python, platform, CPU, library versions (torch, transformers, tokenizers,
peft, emodata; None when not installed), whether CUDA is available, GPU name, NVIDIA driver (from
`nvidia-smi` when present), CUDA and cuDNN versions, and the git commit of the checkout.
`check_drift(saved, current)` returns one warning per difference that can change results: a different
major version of a library or of CUDA, a different python major.minor, or a different GPU model.
"""
from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from typing import Any

from emodata.core.manifest import git_commit

PACKAGES = ("torch", "transformers", "tokenizers", "peft", "emodata")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _nvidia_driver() -> str | None:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if lines else None


def _torch_info() -> dict[str, Any]:
    info: dict[str, Any] = {"cuda_available": False, "gpu": None, "gpu_count": 0, "cuda": None, "cudnn": None}
    try:
        import torch
    except ImportError:
        return info
    info["cuda"] = torch.version.cuda
    available = torch.cuda.is_available()
    info["cuda_available"] = available
    if available:
        info["gpu"] = torch.cuda.get_device_name(0)
        info["gpu_count"] = torch.cuda.device_count()
        cudnn = torch.backends.cudnn.version()
        info["cudnn"] = str(cudnn) if cudnn is not None else None
    return info


def environment_stamp() -> dict[str, Any]:
    """Python, platform, CPU, library versions, CUDA/GPU facts and the git commit, as a JSON-able dict."""
    stamp: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "versions": {p: _version(p) for p in PACKAGES},
        **_torch_info(),
        "git_commit": git_commit(),
    }
    stamp["driver"] = _nvidia_driver() if stamp["cuda_available"] else None
    return stamp


def _major(version: str | None) -> str | None:
    if not version:
        return None
    return version.split("+")[0].split(".")[0]


def check_drift(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Warnings for differences between a saved stamp and the current one that can change results."""
    warnings = []
    old_py, new_py = saved.get("python"), current.get("python")
    if old_py and new_py and old_py.split(".")[:2] != new_py.split(".")[:2]:
        warnings.append(f"python {old_py} -> {new_py}")
    old_versions, new_versions = saved.get("versions") or {}, current.get("versions") or {}
    for package in sorted(set(old_versions) | set(new_versions)):
        old, new = old_versions.get(package), new_versions.get(package)
        if old and not new:
            warnings.append(f"{package} {old} -> not installed")
        elif old and new and _major(old) != _major(new):
            warnings.append(f"{package} major version {old} -> {new}")
    if saved.get("cuda") and current.get("cuda") and _major(saved["cuda"]) != _major(current["cuda"]):
        warnings.append(f"CUDA major version {saved['cuda']} -> {current['cuda']}")
    if saved.get("gpu") != current.get("gpu") and (saved.get("gpu") or current.get("gpu")):
        warnings.append(f"GPU {saved.get('gpu') or 'none'} -> {current.get('gpu') or 'none'}")
    return warnings
