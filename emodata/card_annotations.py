"""The dataset card's "How the annotations were produced" section: lexicon VAD, weak labels, appraisal
atoms and Valence-Flip pairs (each says "Not in this build" when the manifest has no such part)."""
from __future__ import annotations

from typing import Any

from emodata.card_markdown import fmt, kv_lines, lexicon_name, md_table
from emodata.core.manifest import Manifest


def annotations_section(manifest: Manifest) -> list[str]:
    """The section: what the build carries, then one subsection per kind of annotation."""
    lexicon, thresholds = manifest.lexicon, manifest.thresholds
    pipeline, annotate = manifest.pipeline, manifest.annotate
    adjust = annotate.get("adjust", "none")
    present = ["lexicon VAD"] + [label for label, there in (
        ("weak labels", bool(manifest.weak_supervision)), ("appraisal atoms", bool(manifest.appraisal)),
        ("Valence-Flip pairs", manifest.has_flips)) if there]
    lines = [f"Present in this build: {', '.join(present)}.", "", "### Lexicon VAD", ""]
    lines += [
        f"- Tokens and lemmas: spaCy pipeline `{pipeline.get('name')}` {pipeline.get('version')} "
        f"(spaCy {pipeline.get('spacy')}{'' if pipeline.get('has_model', True) else ', blank tokenizer'}).",
        f"- Lexicon: `{lexicon.get('name')}` version {lexicon.get('version')}, {fmt(lexicon.get('entries'))} "
        f"entries, SHA-1 `{lexicon.get('sha1')}`. Scores live in [0, 1] (Warriner's 1-9 ratings are "
        "rescaled to (x-1)/8).",
        "- Each content word is looked up (with a lemma fallback); the utterance's V, A and D are the mean "
        "over covered content words, then smoothed as x ← (1 − 2ε)x + ε with "
        f"ε = {fmt(thresholds.epsilon)}.",
        "- `vad_conf` = covered content words / content words. Rows with no covered word, fewer than "
        f"{thresholds.min_tokens} or more than {thresholds.max_tokens} word tokens, "
        f"`vad_conf` < τ = {fmt(thresholds.vad_conf_min)}, or a duplicate `sha1(text‖id)` or exact "
        "text are dropped; every drop is counted per reason in the manifest.",
        f"- Negation / intensifier adjustment: `{adjust}`"
        + (" (none applied: negated words keep their lexicon valence)." if adjust == "none" else "."),
        "- `rationale` is a short English phrase naming the strongest valence cues (e.g. \"negative tone "
        "from 'terrible' and 'hate'\"); it is derived from the lexicon, not written by people.",
    ]
    if lexicon_name(manifest).startswith("nrclex-proxy"):
        lines.append("- **Warning:** this build used the offline `nrclex-proxy` lexicon, a coarse linear proxy "
                     "fitted from binary EmoLex associations, not a real VAD lexicon. Prefer a build with "
                     "NRC-VAD for any VAD result.")
    lines += ["", "### Weak labels", ""]
    if manifest.weak_supervision:
        lines += _weak_lines(manifest, manifest.weak_supervision)
    else:
        lines.append("Not in this build: no labeling-function weak labels were produced; `labels` are the "
                     "sources' human labels mapped into the unified space.")
    lines += ["", "### Appraisal atoms", ""]
    if manifest.appraisal:
        lines += _appraisal_lines(manifest, manifest.appraisal)
    else:
        lines.append("Not in this build: no appraisal atoms were produced.")
    lines += ["", "### Valence-Flip pairs", ""]
    if manifest.has_flips:
        lines += _pairs_lines(manifest)
    else:
        lines.append("Not in this build: no Valence-Flip pairs were generated.")
    return lines


def _lf_families(names: list) -> str:
    """LF counts per family, e.g. "kw 27, emoji 12" (family = the part of the name before the first `_`)."""
    families: dict[str, int] = {}
    for name in names:
        family = str(name).split("_", 1)[0]
        families[family] = families.get(family, 0) + 1
    return ", ".join(f"{family} {n}" for family, n in families.items())


def _weak_lines(manifest: Manifest, weak: dict[str, Any]) -> list[str]:
    """The "Weak labels" subsection: the `weak_supervision` entry and the `lf_analysis` scores."""
    lines = ["Each record carries `weak_labels` / `weak_probs` (the 28 GoEmotions labels) and "
             "`weak_labels_ekman` / `weak_probs_ekman` (Ekman-7): label sets read off the class distribution "
             "of an aggregator over labeling-function (LF) votes. They are machine-made, fit on this mix's "
             "train rows only, and never replace the human `labels`; `weak_probs` is null when every LF "
             "abstained (the label set is then empty).", ""]
    lfs = weak.get("lfs")
    if isinstance(lfs, dict) and isinstance(lfs.get("names"), list):
        lines.append(f"- Labeling functions: {len(lfs['names'])} ({_lf_families(lfs['names'])}), LF-set SHA-1 "
                     f"`{lfs.get('sha1')}`.")
    scope = weak.get("negation_scope")
    if isinstance(scope, dict) and scope.get("method"):
        lines.append(f"- Negation scope for the LFs: `{scope['method']}`.")
    for space, title in (("fine", "fine labels"), ("ekman", "Ekman-7")):
        info = weak.get(space)
        if isinstance(info, dict) and info.get("aggregator"):
            text = f"- Aggregator, {title} ({len(info.get('labels') or [])} classes): `{info['aggregator']}`"
            if info.get("train_macro_f1"):
                text += f" (Macro-F1 on the train gold: {fmt(info['train_macro_f1'])})"
            lines.append(text + ".")
    if isinstance(weak.get("readout"), dict):
        lines.append(f"- Read-out from class probabilities: {fmt(weak['readout'])}.")
    report = weak.get("report")
    if isinstance(report, dict) and report:
        lines.append("- Full LF report: " + ", ".join(f"`{v}`" for _, v in sorted(report.items())) + ".")
    rest = {k: v for k, v in weak.items() if k not in ("lfs", "negation_scope", "fine", "ekman", "readout", "report")}
    lines += kv_lines(rest)
    lf = manifest.lf_analysis
    if isinstance(lf, dict):
        rows = []
        for space, key, chosen in (("fine", "scores", "chosen"), ("ekman", "scores_ekman", "chosen_ekman")):
            for method, score in (lf.get(key) or {}).items():
                if isinstance(score, dict):
                    rows.append([space, method + (" (shipped)" if lf.get(chosen) == method else ""),
                                 score.get("n"), score.get("coverage"), score.get("macro_p"),
                                 score.get("macro_r"), score.get("macro_f1")])
        if rows:
            pooled = lf.get("pooled_splits") or []
            lines += ["", "Weak labels vs the human labels on held-out rows"
                      + (f" ({', '.join(f'`{p}`' for p in pooled)})" if pooled else "") + ":", "",
                      md_table(["space", "aggregator", "rows", "coverage", "Macro-P", "Macro-R", "Macro-F1"], rows)]
    return lines


def _appraisal_lines(manifest: Manifest, appraisal: dict[str, Any]) -> list[str]:
    """The "Appraisal atoms" subsection: per-atom coverage and agreement, prototypes, the verifier."""
    atoms = appraisal.get("atoms") if isinstance(appraisal.get("atoms"), dict) else {}
    lines = ["Each record carries `appraisal`, one P(high) per appraisal atom from negation-aware appraisal "
             "LFs and a per-atom label model (null = every LF abstained), and `appraisal_prototype`, the "
             "appraisal prototype of its gold labels. Atoms: " + ", ".join(f"`{a}`" for a in atoms) + ".", ""]
    if atoms:
        rows = []
        for name, info in atoms.items():
            info = info if isinstance(info, dict) else {}
            vs = info.get("vs_prototype") if isinstance(info.get("vs_prototype"), dict) else {}
            rows.append([name, info.get("coverage"), info.get("mean"), info.get("prototype_coverage"),
                         vs.get("n"), vs.get("accuracy")])
        lines += [md_table(["atom", "coverage", "mean P(high)", "prototype coverage", "dev rows compared",
                            "agreement with prototype"], rows), ""]
    protos = appraisal.get("prototypes")
    if isinstance(protos, dict):
        lines.append(f"- Prototypes: `{protos.get('name')}` version {protos.get('version')} "
                     f"(catalog/appraisal/{protos.get('file')}, SHA-1 `{protos.get('sha1')}`).")
    model = appraisal.get("model")
    if isinstance(model, dict):
        methods = sorted({str(a.get("method")) for a in (model.get("atoms") or {}).values() if isinstance(a, dict)})
        lines.append(f"- Label models fit on {fmt(model.get('n_fit_rows'))} train rows"
                     + (f" (method: {', '.join(f'`{m}`' for m in methods)})" if methods else "")
                     + f", LF-set SHA-1 `{model.get('lf_sha1')}`.")
    for key, text in (("n_rows", "rows scored"), ("n_eval", "dev rows compared with prototypes")):
        if key in appraisal:
            lines.append(f"- {text}: {fmt(appraisal[key])}.")
    verifier = appraisal.get("verifier")
    artifacts = [a for a in manifest.artifacts or () if "appraisal" in a.name]
    if isinstance(verifier, dict) or artifacts:
        text = "- Appraisal verifier (the trainer's L_app)"
        if isinstance(verifier, dict):
            text += (f": trained on {fmt(verifier.get('n_rows'))} train rows, "
                     f"{fmt(verifier.get('n_heldout'))} held out")
        lines.append(text + "".join(f"; file `{a.path}` (SHA-1 `{a.sha1}`)" for a in artifacts) + ".")
    rest = {k: v for k, v in appraisal.items()
            if k not in ("atoms", "prototypes", "model", "n_rows", "n_eval", "verifier")}
    lines += kv_lines(rest)
    return lines


def _pairs_lines(manifest: Manifest) -> list[str]:
    """The "Valence-Flip pairs" subsection: counts per kind, S_flip, validity, examples, shards."""
    lines = ["Valence-Flip pairs (an utterance and a rewrite with mirrored valence; S_flip = "
             "|(v(x) − ½) + (v(x') − ½)|, lower is better) are included. They are drawn from train rows "
             "only and live in their own shard and config (columns: emodata/flips PAIRS_SCHEMA), not in "
             "the record splits.", ""]
    pairs = manifest.pairs
    if isinstance(pairs, dict):
        head = []
        if pairs.get("n_pairs") is not None:
            head.append(f"{fmt(pairs['n_pairs'])} pairs")
        if pairs.get("s_flip_mean") is not None:
            head.append(f"mean S_flip {fmt(pairs['s_flip_mean'])}")
        if head:
            lines += ["- " + ", ".join(head) + ".", ""]
        by_kind = pairs.get("by_kind")
        if isinstance(by_kind, dict) and by_kind:
            rows = [[kind, value.get("pairs", value.get("n")), value.get("s_flip_mean")] if isinstance(value, dict)
                    else [kind, value, None] for kind, value in by_kind.items()]
            lines += [md_table(["flip kind", "pairs", "mean S_flip"], rows), ""]
        validity = pairs.get("validity")
        if isinstance(validity, dict):
            lines.append(f"- Share of candidates passing the polarity filter: {fmt(validity.get('pre_filter'))}; "
                         f"of emitted pairs: {fmt(validity.get('emitted'))}.")
        if isinstance(pairs.get("rejected"), dict):
            lines.append(f"- Rejected or skipped, by reason: {fmt(pairs['rejected'])}.")
        examples = [e for e in pairs.get("examples") or [] if isinstance(e, dict)]
        if examples:
            lines += ["", "Examples (seeded random sample):", "",
                      md_table(["kind", "text", "flipped text"],
                               [[e.get("kind"), e.get("text"), e.get("text_flip")] for e in examples[:5]]), ""]
        rest = {k: v for k, v in pairs.items() if k not in (
            "n_pairs", "s_flip_mean", "by_kind", "validity", "rejected", "examples", "s_flip_hist", "candidates",
            "rows")}
        lines += kv_lines(rest)
    for shard in manifest.pair_shards():
        lines.append(f"- shard `{shard.path}`: {shard.rows:,} rows (config `{manifest.name}_flip_pairs`, "
                     "split `train`)")
    return lines
