"""The label stage of a mix: weak labels fit on the train rows, the LF analysis on the held-out rows, and
the end-model check, started in a child process (`emodata.background`) so that it runs beside the
appraisal and flip stages; `end_model_result` collects it before the write stage."""
from __future__ import annotations

import pandas as pd

from labeling_functions.emotion import FINE_LABELS
from labeling_functions.end_model import end_model_check

from emodata.background import BackgroundJob
from emodata.stages import POSITION, MixContext, materialise
from emodata.weak import (CONTEXT_COLUMN, end_model_task, eval_sample, fit_mix_labeler, fit_sample, mix_lf_analysis,
                          probe_all_turns)

#: Columns read of a labelled row (weak labels, LF analysis, end-model check); of every probe turn.
LABEL_COLUMNS = ("id", "text", "labels", "emotion_votes", "situation", CONTEXT_COLUMN)  # situation: the end model reads it
PROBE_COLUMNS = ("id", "text", "labels", "emotion_votes")


def label(ctx: MixContext) -> None:
    """Fit the weak labeler on the mix's train rows, analyse the LFs on the held-out rows and, unless
    `--end-model off`, run the end-model check."""
    annotator, config, probe = ctx.annotator, ctx.config, ctx.roles.probe
    with ctx.reporter.stage(f"weak labels {ctx.name}"):
        ctx.train_rows = pd.concat([f[f["split"] == "train"] for f in ctx.drawn.values()], ignore_index=True)
        ctx.fit_positions, ctx.fit_sample = fit_sample(len(ctx.train_rows), config.fit_rows, config.seed)
        fit_rows = materialise(ctx.prepared, ctx.train_rows.iloc[ctx.fit_positions], LABEL_COLUMNS)
        ctx.labeler = fit_mix_labeler(fit_rows, annotator.lfs, FINE_LABELS, config.seed, config.label_model)
        labelled, probe_all, notes = _scored_splits(ctx)
        ctx.lf_summary, ctx.lf_full = mix_lf_analysis(labelled, annotator.lfs, ctx.labeler, probe_all, notes)
    if config.end_model == "on":  # runs on the other core while the appraisal and flip stages run here
        with ctx.reporter.stage(f"end model {ctx.name} (start)"):
            task = end_model_task(fit_rows, {**labelled, **probe_all}, ctx.labeler, len(annotator.lfs), config.seed)
            ctx.end_model_job = BackgroundJob(f"end model {ctx.name}", end_model_check, task)


def end_model_result(ctx: MixContext) -> None:
    """Wait for the end-model check `label` started (if any) and file its figures (manifest, LF report); the
    run record gets the check's own seconds and peak memory ("background process") beside the client's wait for it ("wait")."""
    job = ctx.end_model_job
    if job is None:
        return
    with ctx.reporter.stage(f"end model {ctx.name} (wait)"):
        ctx.end_model = job.result()
    ctx.reporter.record(f"end model {ctx.name} (background process)", job.seconds, job.peak_mib)
    ctx.end_model_job = None
    ctx.lf_full["end_model"] = ctx.end_model


def cancel_background(ctx: MixContext) -> None:
    """Stop a background job a failed build no longer needs."""
    if ctx.end_model_job is not None:
        ctx.end_model_job.cancel()
        ctx.end_model_job = None


def _scored_splits(ctx: MixContext) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame], dict[str, str]]:
    """(labelled splits, unpooled probe turns, notes) the LF analysis scores, each read from disk with
    LABEL_COLUMNS (every tagged probe turn with PROBE_COLUMNS): a split of more than `LF_EVAL_ROWS` rows
    is read and scored on a seeded sample of them (its note says so), so memory does not grow with it."""
    probe, seed = ctx.roles.probe, ctx.config.seed
    splits = {f"{name}/dev": frame[frame["split"] == "dev"] for name, frame in ctx.drawn.items()}
    if ctx.probe is not None:
        splits[f"{probe}/{ctx.roles.probe_shard}"] = ctx.probe
    labelled, sampled = {}, {}
    for name, frame in splits.items():
        chosen, sampled[name] = eval_sample(len(frame), seed)
        labelled[name] = materialise(ctx.prepared, frame.iloc[chosen], LABEL_COLUMNS)
    if ctx.probe is None:
        return labelled, {}, {name: note for name, note in sampled.items() if note}
    prep = ctx.prepared[probe]
    tagged = prep.tagged
    probe_all, notes = probe_all_turns(
        None if tagged is None else tagged[POSITION].to_numpy(), None if tagged is None else tagged["text_key"],
        ctx.mixed, f"{probe}/{ctx.roles.probe_shard}", prep.drops + ctx.extra_drops[probe],
        lambda positions: prep.parts.take(positions, list(PROBE_COLUMNS)), seed)
    if ctx.last_mix:
        prep.release_tagged()
    for name, note in sampled.items():
        if note:
            notes[name] = f"{notes[name]}; {note}" if name in notes else note
    return labelled, probe_all, notes
