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


def cross_validate(files: Sequence[str | Path], folds: int = 5) -> Evaluation:
    """The shared-task figures of the CRF method by `folds`-fold cross-validation over CD-SCO files.

    The sentences that carry a negation are cut into `folds` contiguous blocks (in file order, so a
    story's neighbouring sentences stay together; sentences without negation join the block they fall
    in); each block is scored with cue lists and a scope CRF learned from the other blocks.
    """
    import tempfile

    from emodata.text.negation import Negation
    from emodata.text.negation_cues import CueDetector, learn_cues
    from emodata.text.negation_scope import predict_scope, train_model
    sentences = read_many(files)
    negated = [i for i, s in enumerate(sentences) if s.negations]
    if folds < 2 or len(negated) < folds:
        raise EmodataError(f"cross-validation needs 2 <= folds <= {len(negated)} negated sentences, not {folds}")
    cuts = [0] + [negated[len(negated) * f // folds] for f in range(1, folds)] + [len(sentences)]
    total = Evaluation()
    with tempfile.TemporaryDirectory() as tmp:
        for f in range(folds):
            held = sentences[cuts[f]:cuts[f + 1]]
            rest = sentences[:cuts[f]] + sentences[cuts[f + 1]:]
            detector = CueDetector(learn_cues(rest))
            path = Path(tmp) / f"fold{f}.crfsuite"
            train_model(rest, detector, path)

            def resolver(words, cues=None, detector=detector, path=path):
                """`resolve` with this fold's cue lists and CRF."""
                found = detector.detect(words) if cues is None else [tuple(sorted(c)) for c in cues]
                return [Negation(cue=c, scope=predict_scope(words, c, detector, path=path)) for c in found]
            _add(total, evaluate(held, resolver))
    return total


def _add(total: Evaluation, part: Evaluation) -> None:
    """Add `part`'s counts into `total`."""
    for name in ("scope_gold_cues", "scope_own_cues", "cue_tokens", "cue_instances"):
        a, b = getattr(total, name), getattr(part, name)
        a.tp, a.fp, a.fn = a.tp + b.tp, a.fp + b.fp, a.fn + b.fn
    total.exact_scope += part.exact_scope
    total.instances += part.instances
