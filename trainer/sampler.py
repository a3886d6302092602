"""A/B mixture sampler with entropy-aware temperature (the brief's Alg. 1) and the Alg. 2 rebalance.

At optimizer step t of `total_steps`:
    T_t     = T0 + (T1 − T0) · t / (total_steps − 1)           linear cooling (T_t = T1 from the last step on)
    p_t(s)  = softmax_s( (w_s / conf_s) / T_t )
    conf_s ← α · conf_s + (1 − α) · exp(−H_t(s))                after the step, for each source s in its batch
where H_t(s) is the mean predictive entropy (nats) the model had on the step's examples from s (the
loop passes the mean per-token entropy of the answer distribution) and conf_s starts at 1. After each
outer pass, `rebalance` sets w_s ∝ w_s / (H̄_s + ε), H̄_s = mean entropy of s during the pass (Alg. 2).

Defaults (the brief gives none): w_s = the source's share of the train split (the build's A:B ratio);
T0 = 1.0, T1 = 0.5 (cooling sharpens the draw toward the heavier source); α = 0.9 (conf follows about
the last ten steps); ε = 1e-3. A low-confidence (high-entropy) source gets a larger w/conf and is drawn
more. Each example draws its source from p_t, then the next row of that source's seeded permutation
(re-shuffled when used up), so all state (RNG included) is in `state_dict` for exact resume.
"""
from __future__ import annotations

import copy
import math
from typing import Mapping, Sequence

import numpy as np

DEFAULT_T0 = 1.0
DEFAULT_T1 = 0.5
DEFAULT_ALPHA = 0.9
DEFAULT_EPS = 1e-3


def softmax(x: np.ndarray) -> np.ndarray:
    """Numerically stable softmax of a 1-D array."""
    z = np.exp(x - np.max(x))
    return z / z.sum()


class MixtureSampler:
    """Draws (source, row index) pairs from per-source pools by Alg. 1; `state()` is the per-step log."""

    def __init__(self, pools: Mapping[str, Sequence[int]], weights: Mapping[str, float], total_steps: int,
                 t0: float = DEFAULT_T0, t1: float = DEFAULT_T1, alpha: float = DEFAULT_ALPHA, seed: int = 0,
                 adaptive: bool = True):
        if not pools or any(len(p) == 0 for p in pools.values()):
            raise ValueError("MixtureSampler: every source needs a non-empty pool")
        if set(weights) != set(pools):
            raise ValueError(f"MixtureSampler: weights {sorted(weights)} do not match sources {sorted(pools)}")
        if t0 <= 0 or t1 <= 0 or not 0 <= alpha <= 1 or total_steps < 1:
            raise ValueError("MixtureSampler: need T0, T1 > 0, 0 <= alpha <= 1 and total_steps >= 1")
        self.sources = list(pools)
        self.pools = {s: list(pools[s]) for s in self.sources}
        self.w = np.array([float(weights[s]) for s in self.sources])
        self.conf = np.ones(len(self.sources))
        self.t0, self.t1, self.alpha, self.total_steps = t0, t1, alpha, total_steps
        self.adaptive = adaptive
        self.step = 0
        self.rng = np.random.default_rng(seed)
        self.order = {s: self.rng.permutation(len(self.pools[s])).tolist() for s in self.sources}
        self.cursor = {s: 0 for s in self.sources}
        self.h_sum = np.zeros(len(self.sources))
        self.h_n = np.zeros(len(self.sources))

    def temperature(self, step: int | None = None) -> float:
        """T at `step` (default: the current step): linear from T0 to T1."""
        t = self.step if step is None else step
        frac = min(1.0, t / max(1, self.total_steps - 1))
        return self.t0 + (self.t1 - self.t0) * frac

    def probs(self, step: int | None = None) -> np.ndarray:
        """p(s) = softmax((w_s / conf_s) / T), in `self.sources` order."""
        return softmax((self.w / self.conf) / self.temperature(step))

    def draw(self, n: int) -> list[tuple[str, int]]:
        """`n` (source, pool item) draws at the current step."""
        p = self.probs()
        out = []
        for _ in range(n):
            s = self.sources[int(self.rng.choice(len(self.sources), p=p))]
            if self.cursor[s] == len(self.order[s]):
                self.order[s] = self.rng.permutation(len(self.pools[s])).tolist()
                self.cursor[s] = 0
            out.append((s, self.pools[s][self.order[s][self.cursor[s]]]))
            self.cursor[s] += 1
        return out

    def update(self, entropy: Mapping[str, float]) -> None:
        """End the step: conf_s ← α conf_s + (1−α) exp(−H_s) for the sources seen; advance the step."""
        for s, h in entropy.items():
            if not math.isfinite(h):
                continue
            j = self.sources.index(s)
            if self.adaptive:
                self.conf[j] = self.alpha * self.conf[j] + (1 - self.alpha) * math.exp(-h)
            self.h_sum[j] += h
            self.h_n[j] += 1
        self.step += 1

    def rebalance(self, eps: float = DEFAULT_EPS) -> dict[str, float]:
        """Alg. 2: w_s ∝ w_s / (H̄_s + ε) over the pass just ended (sources unseen keep H̄ = mean); returns w."""
        if self.adaptive and self.h_n.sum() > 0:
            seen = self.h_n > 0
            mean_h = np.where(seen, self.h_sum / np.maximum(self.h_n, 1), (self.h_sum[seen] / self.h_n[seen]).mean())
            w = self.w / (mean_h + eps)
            self.w = w / w.sum() * self.w.sum()
        self.h_sum[:] = 0
        self.h_n[:] = 0
        return dict(zip(self.sources, self.w.tolist()))

    def state(self) -> dict:
        """The per-step log entry: T, p, conf and w by source."""
        p = self.probs()
        return {"T": round(self.temperature(), 6),
                "p": {s: round(float(x), 6) for s, x in zip(self.sources, p)},
                "conf": {s: round(float(x), 6) for s, x in zip(self.sources, self.conf)},
                "w": {s: round(float(x), 6) for s, x in zip(self.sources, self.w)}}

    def state_dict(self) -> dict:
        """Everything needed to continue the exact same draw sequence (JSON-serialisable)."""
        return copy.deepcopy({"step": self.step, "w": self.w.tolist(), "conf": self.conf.tolist(),
                              "order": self.order, "cursor": self.cursor, "h_sum": self.h_sum.tolist(),
                              "h_n": self.h_n.tolist(), "rng": self.rng.bit_generator.state,
                              "sources": self.sources})

    def load_state_dict(self, state: Mapping) -> None:
        """Restore `state_dict()` output (the sources must be the same)."""
        if list(state["sources"]) != self.sources:
            raise ValueError(f"sampler state is for sources {state['sources']}, not {self.sources}")
        self.step = int(state["step"])
        self.w, self.conf = np.array(state["w"], dtype=float), np.array(state["conf"], dtype=float)
        self.order = {s: list(v) for s, v in state["order"].items()}  # copies: the caller's state stays intact
        self.cursor = {s: int(v) for s, v in state["cursor"].items()}
        self.h_sum, self.h_n = np.array(state["h_sum"], dtype=float), np.array(state["h_n"], dtype=float)
        self.rng.bit_generator.state = state["rng"]
