"""`emodata negation eval|train`: score negation methods on CD-SCO files, or rebuild the shipped model."""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Sequence

from emodata.text.cdsco import Evaluation, evaluate, read_many
from emodata.core.errors import EmodataError

METHOD_NAMES = ("crf", "parse", "window", "punct")


def evaluate_method(files: Sequence[str | Path], method: str) -> Evaluation:
    """The shared-task figures of one `emodata.text.negation.resolve` method on CD-SCO files."""
    from emodata.text.negation import resolve
    return evaluate(read_many(files), partial(resolve, method=method))


def run_negation_command(action: str, files: Sequence[str], method: str, out_dir: str = "") -> int:
    """Run `emodata negation ACTION FILE...`; prints the figures (eval) or the artifacts' SHA-1 (train)."""
    if not files:
        raise EmodataError(f"emodata negation {action} needs at least one CD-SCO FILE")
    if action == "train":
        from emodata.text.negation_scope import train_all
        for path, sha in train_all([Path(f) for f in files], Path(out_dir) if out_dir else None).items():
            print(f"{sha}  {path}")
        return 0
    if action != "eval":
        raise EmodataError(f"emodata negation: unknown action {action!r} (eval or train)")
    from emodata.text.negation import resolve
    sentences = read_many(files)
    for name in METHOD_NAMES if method == "all" else (method,):
        print(f"== {name}")
        print(evaluate(sentences, partial(resolve, method=name)).format())
    return 0
