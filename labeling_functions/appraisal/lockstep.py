"""Several scipy L-BFGS-B minimisations run side by side, their objectives evaluated in one batch.

The verifier fits one logistic regression per atom on the same rows (emodata's appraisal stage: every
atom has a score for every row). Alone, each fit multiplies the sparse feature matrix by its weight
vector twice per evaluation; most of the stage's time is spent reading that matrix. `minimize_together`
runs each fit as scipy's own `minimize(..., method="L-BFGS-B")` in a thread of its own and, whenever
every unfinished fit waits for an evaluation, evaluates all of them at once (`batch`: one sparse
matrix × dense matrix product reads the matrix once for every fit). Each fit sees exactly the values
it would have seen alone (the batch must compute each one as the single evaluation does), so each
result is the result of the fit run alone, bit for bit; the threads only wait, they never share values.
"""
from __future__ import annotations

import threading
from typing import Callable, Sequence

import numpy as np
from scipy.optimize import OptimizeResult, minimize

#: batch(indices, thetas) -> [(f, gradient)] of the objectives of fits `indices` at `thetas`, in order.
Batch = Callable[[list[int], list[np.ndarray]], list[tuple[float, np.ndarray]]]


class _Failed:
    """An evaluation that raised: re-raised in the fit's thread, which then ends."""

    def __init__(self, exc: BaseException):
        self.exc = exc


class _Rendezvous:
    """Where fits post their points and pick up their evaluations."""

    def __init__(self, n: int):
        self.cond = threading.Condition()
        self.waiting: dict[int, np.ndarray] = {}
        self.answers: dict[int, object] = {}
        self.running = set(range(n))

    def evaluate(self, index: int, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Called by fit `index`'s minimiser: wait for the batch that evaluates `theta`."""
        with self.cond:
            self.waiting[index] = np.array(theta, dtype=np.float64, copy=True)
            self.cond.notify_all()
            self.cond.wait_for(lambda: index in self.answers)
            answer = self.answers.pop(index)
        if isinstance(answer, _Failed):
            raise answer.exc
        return answer

    def finished(self, index: int) -> None:
        """Fit `index` returned (or raised): the batches no longer wait for it."""
        with self.cond:
            self.running.discard(index)
            self.cond.notify_all()

    def next_batch(self) -> tuple[list[int], list[np.ndarray]]:
        """Wait until every unfinished fit waits for an evaluation; take their points (none: all done)."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.waiting) == len(self.running))
            indices = sorted(self.waiting)
            return indices, [self.waiting.pop(i) for i in indices]

    def answer(self, indices: list[int], answers: Sequence[object]) -> None:
        """Hand each waiting fit its evaluation."""
        with self.cond:
            self.answers.update(zip(indices, answers))
            self.cond.notify_all()


def minimize_together(batch: Batch, x0s: Sequence[np.ndarray], options: dict) -> list[OptimizeResult]:
    """`[minimize(f_j, x0s[j], jac=True, method="L-BFGS-B", options=options) for j]` where f_j(θ) is
    `batch([j], [θ])[0]`, the evaluations of all fits waiting at one time made by one `batch` call
    (module docstring). Results in the order of `x0s`; an exception of a fit or a batch is re-raised."""
    meeting = _Rendezvous(len(x0s))
    results: list[OptimizeResult | None] = [None] * len(x0s)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = minimize(lambda theta: meeting.evaluate(index, theta), x0s[index], jac=True,
                                      method="L-BFGS-B", options=options)
        except BaseException as exc:  # noqa: BLE001 (re-raised by the caller's thread below)
            errors.append(exc)
        finally:
            meeting.finished(index)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(x0s))]
    for thread in threads:
        thread.start()
    while True:
        indices, thetas = meeting.next_batch()
        if not indices:
            break
        try:
            answers: Sequence[object] = batch(indices, thetas)
        except BaseException as exc:  # noqa: BLE001 (each waiting fit raises it and ends)
            answers = [_Failed(exc)] * len(indices)
        meeting.answer(indices, answers)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]
