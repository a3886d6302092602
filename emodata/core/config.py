"""Command configuration: one dataclass per command, surfaced by the CLI with its help text.

Each field's `metadata["help"]` is the `--help` line; `add_arguments` turns a dataclass into
argparse options and `from_namespace` turns parsed arguments back into the dataclass.
"""
from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emodata.core.errors import EmodataError
from emodata.core.hashing import sha1_json


def opt(default: Any, help: str, *, positional: bool = False, choices: tuple | None = None,
        repeat: bool = False, hashed: bool = True) -> Any:
    """A dataclass field with CLI help; `hashed=False` keeps it out of the config hash."""
    meta = {"help": help, "positional": positional, "choices": choices, "repeat": repeat, "hashed": hashed}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class BuildConfig:
    """`emodata build`: read sources, annotate, mix, split and freeze shards under a manifest."""

    mix: list[str] = opt(["20:80"], "A:B percent of GoEmotions (A) to EmpatheticDialogues (B), e.g. 20:80 "
                                     "(the parts must sum to 100: the build is named by them); repeat for "
                                     "several mixes; 100:0 or 0:100 builds one source", repeat=True)
    data_dir: str | None = opt(None, "folder with one sub-folder per source (goemotions/, empatheticdialogues/, "
                                     "dailydialog/, lexicons/) holding the original files", hashed=False)
    sample: bool = opt(False, "use the small sample corpus shipped with emodata (no network, no data needed)")
    source: list[str] = opt([], "NAME=PATH or NAME=hf:HUB_ID to read one source from a folder or the "
                                "Hugging Face Hub (overrides --data-dir/--sample for that source)", repeat=True,
                                hashed=False)
    lexicon: str | None = opt(None, "VAD lexicon: a file path (NRC-VAD v1/v2, Warriner CSV, word,v,a,d CSV) "
                                    "or a name (nrc-vad, warriner, nrclex-proxy); default: nrc-vad from "
                                    "DATA_DIR/lexicons if present, else the offline nrclex proxy", hashed=False)
    spacy_model: str = opt("en_core_web_sm", "spaCy pipeline used for tokens and lemmas")
    seed: int = opt(42, "random seed of the mixture draw and split")
    dev_frac: float = opt(0.05, "fraction of each mixture held out as dev")
    vad_conf_min: float | None = opt(None, "minimum lexicon coverage tau (covered/content tokens); default: "
                                           "0.75 for VAD lexica, 0.25 for the nrclex proxy")
    negation: str = opt("on", "negation- and intensifier-aware VAD (emodata/negation.py); 'off' gives the "
                              "plain lexicon mean for ablation", choices=("on", "off"))
    negation_scope: str = opt("window", "negation scope method for VAD and the LFs' negation column: the "
                                        "tokenizer-only NegEx window, or the dependency parse (en_core_web_sm; "
                                        "~5x slower annotate), or crf: the CD-SCO-trained cue lists + scope CRF "
                                        "(emodata/negation_scope.py; best scopes on CD-SCO; see benchmarks/RESULTS.md)",
                              choices=("window", "parse", "crf"))
    label_model: str = opt("majority_vote", "how emotion LF votes become weak labels: majority vote (measured "
                                            "better on GoEmotions, see benchmarks/RESULTS.md), Snorkel's "
                                            "LabelModel, or auto (fit both, keep the higher Macro-F1 on the mix's "
                                            "train gold; the 28-class LabelModel fit costs ~30 s or more)",
                           choices=("auto", "label_model", "majority_vote"))
    end_model: str = opt("on", "end-model check: train TF-IDF + logistic regression on the train rows' weak labels "
                               "and on their gold labels, score both on every labelled dev split and the probe "
                               "(manifest end_model, LF report); off skips it", choices=("on", "off"))
    flip_frac: float = opt(1.0, "share of each mix's train rows drawn as Valence-Flip candidates (never dev/test "
                                "rows); only clearly polar rows whose rewrite both independent judges (VADER, "
                                "plain lexicon valence) accept get a pair (about 15%% of the drawn rows on "
                                "the real 20:80 build); 0 writes no pairs shard")
    fit_rows: int = opt(40_000, "most train rows any model of the build is fit on (weak-label model, end-model "
                                 "check, appraisal models): a bigger train split is fit on a seeded sample of this "
                                 "many rows (recorded in the manifest, weak_supervision.fit_sample) and every row "
                                 "is still labelled; fitting cost and memory do not grow with the corpus")
    min_tokens: int = opt(3, "shortest utterance kept, in word tokens")
    min_train_rows: int = opt(10, "fewest train rows a mix may have; a smaller one is refused as too small to "
                                  "train on, saying which filters removed the rows", hashed=False)
    max_tokens: int = opt(128, "longest utterance kept, in word tokens")
    max_chars: int = opt(2000, "longest utterance read, in characters, checked by the readers before "
                               "tokenizing: a longer one is a bad row (an error naming file and line, or "
                               "skipped and counted as too_many_chars under --on-bad-row skip)")
    probe: bool = opt(True, "also build the DailyDialog cross-corpus probe (dev_dailydialog_weak) when "
                            "DailyDialog is available")
    goemotions_format: str = opt("auto", "GoEmotions files to read: simplified TSV splits, raw per-rater CSVs "
                                         "(labels where >=2 raters agree), or auto (simplified when present)",
                                 choices=("auto", "simplified", "raw"))
    on_bad_row: str = opt("error", "malformed source rows: 'error' stops naming file and line; 'skip' counts "
                                   "and reports them", choices=("error", "skip"))
    shard_rows: int = opt(50_000, "most rows per Parquet/JSONL shard file; a bigger split is written as "
                                  "SPLIT-00000-of-0000N files (the cut never depends on the engine)")
    engine: str = opt("local", "where per-partition work runs (annotate stage, flip pairs, labelling and "
                               "encoding shards): in this process, or on Dask (dask.distributed); outputs "
                               "are identical either way",
                      choices=("local", "dask"), hashed=False)
    workers: int = opt(1, "worker processes for per-partition work; N > 1 without --scheduler starts a local "
                          "Dask cluster of N processes (implies --engine dask)", hashed=False)
    scheduler: str | None = opt(None, "address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies "
                                      "--engine dask; its workers need the same emodata and spaCy model "
                                      "installed; the lexicon is sent to them)", hashed=False)
    part_rows: int = opt(20_000, "most rows per annotated part: the annotate stage writes each source to disk as "
                                 "Parquet parts of at most this many rows as they complete, and later stages read "
                                 "only the columns and rows they need; bounds memory, never changes an output",
                         hashed=False)
    out: str = opt("emodata-build", "output folder; each mix is written to OUT/mix_A_B/", hashed=False)
    cache_dir: str | None = opt(None, "annotated-source cache (default $EMODATA_CACHE or ~/.cache/emodata)",
                                hashed=False)
    no_cache: bool = opt(False, "do not read or write the annotated-source cache", hashed=False)
    overwrite: bool = opt(False, "replace an existing OUT/mix_A_B/ (atomically)", hashed=False)
    quiet: bool = opt(False, "no progress display", hashed=False)
    json: bool = opt(False, "print a machine-readable JSON summary of each build on stdout (instead of the "
                            "manifest paths)", hashed=False)

    def hashed(self) -> dict:
        """The fields that change outputs (paths and display options excluded)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata.get("hashed", True)}

    def sha1(self) -> str:
        """SHA-1 of `hashed()`."""
        return sha1_json(self.hashed())


@dataclass
class VerifyConfig:
    """`emodata verify`: re-hash and re-count a build against its manifest."""

    manifest: str = opt("", "path of the manifest JSON (OUT/mix_A_B/manifests/mix_A_B.json)", positional=True)
    json: bool = opt(False, "print the result as JSON on stdout")


@dataclass
class QcConfig:
    """`emodata qc`: re-run the Great Expectations suites on an existing build."""

    manifest: str = opt("", "path of the manifest JSON", positional=True)
    docs: bool = opt(False, "also render offline GX Data Docs HTML (into OUT, default OUT/mix_A_B-derived/data_docs/, "
                            "beside the frozen build, never inside it)")
    out: str = opt("", "Data Docs folder (default: OUT/mix_A_B-derived/data_docs)")
    json: bool = opt(False, "print the summary as JSON on stdout instead of a table")


@dataclass
class ReportConfig:
    """`emodata report`: render the self-contained HTML build report with its figures."""

    manifest: str = opt("", "path of the manifest JSON", positional=True)
    out: str = opt("", "output folder (default: OUT/mix_A_B-derived/report, beside the frozen build)")


@dataclass
class QueryConfig:
    """`emodata query`: run SQL over a build's shards with DuckDB."""

    sql: str = opt("", "SQL over the views train, dev, test, dailydialog (and SOURCE_SPLIT, e.g. "
                       "goemotions_train)", positional=True)
    manifest: str = opt("", "path of the manifest JSON")
    format: str = opt("table", "output format", choices=("table", "csv", "json"))
    limit: int = opt(50, "rows shown in table format (csv/json print all)")
    allow_external: bool = opt(False, "let SQL read and write files outside the build's views (COPY, ATTACH, "
                                      "read_csv, ...); off by default: queries are read-only")


@dataclass
class ExportConfig:
    """`emodata export`: write a build in a format external trainers read."""

    manifest: str = opt("", "path of the manifest JSON", positional=True)
    format: str = opt("jsonl", "hf = datasets.save_to_disk folder; jsonl = records; sft = chat messages "
                               "with the one-line JSON answer", choices=("hf", "jsonl", "sft"))
    out: str = opt("", "output folder (default: OUT/mix_A_B-derived/exports/FORMAT, beside the frozen build)")
    overwrite: bool = opt(False, "replace an existing export folder (atomically); without it an existing one "
                                 "is an error")


@dataclass
class NegationConfig:
    """`emodata negation`: score negation methods on CD-SCO files, or rebuild the shipped negation model."""

    action: str = opt("eval", "eval = print cue/scope P/R/F1 on CD-SCO FILEs; train = rebuild the cue lists and "
                              "scope CRF in the package from CD-SCO training FILEs (byte-identical)",
                      positional=True, choices=("eval", "train"))
    files: list = opt([], "CD-SCO files (the *SEM 2012 shared-task format)", positional=True, repeat=True)
    method: str = opt("crf", "negation method to score: crf, parse, window or punct (baseline); 'all' scores "
                             "every one", choices=("crf", "parse", "window", "punct", "all"))
    out_dir: str = opt("", "train: write the artifacts here instead of into the package")


@dataclass
class AppraisalConfig:
    """`emodata appraisal train`: rebuild the shipped appraisal classifier from enISEAR (byte-identical)."""

    action: str = opt("train", "train = fit the classifier on the enISEAR majority TSV and write its .npz + JSON",
                      positional=True, choices=("train",))
    data: str = opt("", "enISEAR majority TSV, or the folder holding enISEAR_appraisal_majority_dev.tsv (required)")
    seed: int = opt(42, "seed of the stratified CV folds and the solver")
    out_dir: str = opt("", "write the artifact here instead of into the package")


def _base_type(tp: Any) -> Any:
    """`X` for `X | None` (either spelling of the union), else the type itself."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if args else tp
    return tp


def _help_with_default(text: str, default: Any) -> str:
    """The help line with its default appended once: not when the text already names its default, nor
    for an empty one."""
    if "default" in text.lower() or default in (None, "", []):
        return text
    return f"{text} (default: {' '.join(default) if isinstance(default, list) else default})"


def add_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add one option per dataclass field (with its help and default) to `parser`."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        meta, tp = f.metadata, _base_type(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        kwargs: dict[str, Any] = {"help": _help_with_default(meta["help"], default)}
        if meta.get("positional"):
            extra = {"nargs": "*"} if meta.get("repeat") else ({"choices": meta["choices"]} if meta.get("choices") else {})
            parser.add_argument(f.name, help=meta["help"], **extra)
            continue
        flag = "--" + f.name.replace("_", "-")
        if tp is bool:  # an off-by-default switch is a plain flag (no --no-no-cache); on-by-default gets --no-X
            action = argparse.BooleanOptionalAction if default else "store_true"
            parser.add_argument(flag, dest=f.name, action=action, default=default,
                                help=meta["help"])
            continue
        if meta.get("repeat"):
            kwargs.update(action="append", default=None)
        else:
            kwargs.update(type=tp if tp in (int, float) else str, default=default)
        if meta.get("choices"):
            kwargs["choices"] = meta["choices"]
        parser.add_argument(flag, dest=f.name, **kwargs)


def from_namespace(cls: type, namespace: argparse.Namespace) -> Any:
    """Build the dataclass from parsed arguments (repeatable options fall back to their default)."""
    values = {}
    for f in dataclasses.fields(cls):
        value = getattr(namespace, f.name)
        if value is None and f.metadata.get("repeat"):
            continue
        values[f.name] = value
    return cls(**values)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Options from a `--config FILE.yaml` as a dict with underscore keys; errors name the file."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise EmodataError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise EmodataError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise EmodataError(f"{path}: expected a mapping of option names to values")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def config_file_values(path: str | Path, cls: type, command: str) -> dict[str, Any]:
    """The options of `cls` set in the YAML file `path`; an unknown option names the file and `command`.

    The one loader of config files: the CLI applies the values as parser defaults (a typed option
    always wins); `apply_config_file` fills them into a config built in Python."""
    values = load_yaml(path)
    unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)} - {"config"})
    if unknown:
        raise EmodataError(f"{path}: unknown option(s) {', '.join(unknown)} for {command}")
    return values


def apply_config_file(config: Any) -> Any:
    """`config` with values from its `--config` YAML filled in for the options left at their default.

    For configs built in Python. The `emodata` CLI applies the file as parser defaults instead
    (`emodata.cli.parse_config`, where a typed option always wins) and clears `config` afterwards."""
    if not getattr(config, "config", None):
        return config
    values = config_file_values(config.config, type(config), type(config).__name__)
    changes = {}
    for f in dataclasses.fields(config):
        if f.name in values:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            if getattr(config, f.name) == default:
                changes[f.name] = values[f.name]
    return dataclasses.replace(config, **changes)
