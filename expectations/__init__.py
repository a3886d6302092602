"""Great Expectations suites and the QC gate run inside `emodata build` (issue #5).

    from expectations import run_gate, render_docs
    result = run_gate(build_root, manifest)     # GateResult: success, outcomes, seconds
    result.summary()                            # per suite: evaluated, failed_critical, failed_warning
    result.to_json()                            # full, deterministic results
    print(result.failures_text())               # failing expectations with offending ids
    render_docs(build_root, manifest, out_dir)  # GX Data Docs; returns out_dir/index.html

Suites (bounds and bands in `expectations.checks`):
  record        schema columns present; id unique; text non-empty; qc len in [min, max] tokens;
                vad v/a/d in [0, 1]; vad_conf >= tau; labels in the label space; split, source and
                language valid (weak_probs / appraisal in [0, 1] and not null when present)
  mix           A share and dev fraction as requested; no id or exact text shared across
                train/dev/test/probe; shard and mix row counts equal the manifest's
  distribution  (warnings) no label collapse per source; VAD mean/std per source within bands
  pairs         (when a pairs shard exists) columns present; id a train record (its text and v);
                id_flip a new id; pair_id/id_flip unique; texts differ; v + v_flip = 1; kind known

Importing this package is cheap: Great Expectations (seconds to import) and the frame code load
on first use.
"""
from __future__ import annotations

__all__ = ["ExpectationOutcome", "GateResult", "run_gate", "render_docs"]


def __getattr__(name: str):
    if name in __all__:
        from expectations import gate
        return getattr(gate, name)
    raise AttributeError(f"module 'expectations' has no attribute {name!r}")
