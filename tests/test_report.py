"""The visual build report (emodata/report/): the page, its figures, the Markdown LF report, progress.

Uses the tiny 100:0 build of tests/test_card_report.py (and its variants with every optional manifest
part, and with none).
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from emodata.report import FIGURES, NOT_IN_BUILD, SECTIONS, write_report
from tests.test_card_report import bare_manifest, full_manifest, tiny_build  # noqa: F401  (fixtures)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny_report(tiny_build):
    return write_report(tiny_build.manifest_path)


def _section(page: str, sid: str) -> str:
    """The HTML of one report section (from its heading to the next section)."""
    start = page.index(f'id="{sid}"')
    end = page.find("<section>", start)
    return page[start:end if end != -1 else len(page)]


def test_report_is_self_contained(tiny_build, tiny_report):
    assert tiny_report == tiny_build.root.parent / f"{tiny_build.root.name}-derived" / "report" / "report.html"
    page = tiny_report.read_text(encoding="utf-8")
    for sid, heading in SECTIONS:
        assert f'<h2 id="{sid}">' in page, sid
    pngs = sorted(tiny_report.parent.glob("*.png"))
    # every build now carries QC results, LF analysis, appraisal atoms and flip pairs: every figure is there
    assert [p.name for p in pngs] == sorted(FIGURES.values())
    assert page.count("data:image/png;base64,") == len(pngs)
    for png in pngs:
        blob = png.read_bytes()
        assert blob.startswith(PNG_SIGNATURE), png.name
        assert len(blob) > 5 * 1024, png.name
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", page)   # nothing fetched from outside
    assert "<style>" in page
    summary = _section(page, "summary")
    m = tiny_build.manifest
    for fact in (m["name"], m["lexicon"]["name"], m["pipeline"]["name"], f"{m['counts']['train']:,}", "100:0"):
        assert fact in summary, fact


def test_report_shows_weak_supervision_parts(tiny_build, tiny_report):
    page = tiny_report.read_text(encoding="utf-8")
    for sid in ("lf-analysis", "label-model", "appraisal", "flips"):
        section = _section(page, sid)
        assert NOT_IN_BUILD not in section and "<img" in section, sid
    manifest = tiny_build.manifest
    assert manifest["weak_supervision"]["lfs"]["names"][0] in _section(page, "lf-analysis")
    assert f"<b>{manifest['lf_analysis']['chosen']}</b>" in _section(page, "label-model")
    flips = _section(page, "flips")
    kinds = {kind: info["pairs"] for kind, info in manifest["pairs"]["by_kind"].items() if info["pairs"]}
    assert kinds
    for kind, n in kinds.items():
        assert f"<td>{kind}</td><td class=\"num\">{n:,}</td>" in flips, kind
    # the seeded pairs of every kind (manifest `pairs.examples_by_kind`), for a human to read
    assert "Pairs for a human to read" in flips
    by_kind = {k: v for k, v in manifest["pairs"]["examples_by_kind"].items() if v}
    assert by_kind
    for kind, examples in by_kind.items():
        assert f"<b>{kind}</b>: {len(examples)} pairs" in flips
        for e in examples:
            assert f"<tr><td>{html.escape(e['text'])}</td><td>{html.escape(e['text_flip'])}</td></tr>" in flips


def test_report_shows_human_rating_auc_and_judges(tiny_build, tiny_report):
    """Issue 17: ROC-AUC per enISEAR dimension, and flip acceptance by each judge per kind."""
    page = tiny_report.read_text(encoding="utf-8")
    appraisal = _section(page, "appraisal")
    auc = tiny_build.manifest["appraisal"]["enisear_cv_auc"]
    assert len(auc) == 8      # 7 dimensions and their mean
    for key, value in auc.items():
        if key == "mean":
            assert f"<b>{value:.4g}</b>" in appraisal
        else:
            dim, atom = key[:-1].split(" (")
            assert f"<td>{dim}</td><td>{atom}</td><td class=\"num\">{value:.4g}</td>" in appraisal, key
    flips = _section(page, "flips")
    for judge in ("vad", "plain", "vader"):
        assert f"<th>accepted by {judge}</th>" in flips
    for kind, shares in tiny_build.manifest["pairs"]["judges"].items():
        cells = "".join(f'<td class="num">{100 * shares[j]:.1f}%</td>' if shares[j] is not None else "<td>–</td>"
                        for j in ("vad", "plain", "vader"))
        assert f'<td class="num">{shares["judged"]:,}</td>{cells}' in flips, kind


def test_report_tables_hold_no_json(full_manifest, tiny_report, tmp_path):
    """No table cell holds a dict or a list written as JSON (issue 19)."""
    for page in (tiny_report.read_text(encoding="utf-8"),
                 write_report(full_manifest[0], tmp_path / "rep").read_text(encoding="utf-8")):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", page, flags=re.S)
        assert cells
        raw = [c for c in cells if re.match(r"\s*(\{|\[|&#34;|&quot;)", c) or "&#39;:" in c or '": ' in c]
        assert raw == []


def test_report_escapes_manifest_text(full_manifest, tmp_path):
    """Manifest text reaches the page escaped (autoescaped templates)."""
    import json

    path, manifest = full_manifest
    evil = tmp_path / "evil" / path.parents[1].name
    import shutil

    shutil.copytree(path.parents[1], evil)
    data = dict(manifest) | {"name": "<script>alert(1)</script>"}
    data["lf_analysis"] = dict(data["lf_analysis"], notes={"x": "<b>bold</b> & more"})
    (evil / "manifests" / path.name).write_text(json.dumps(data), encoding="utf-8")
    page = write_report(evil / "manifests" / path.name, tmp_path / "rep").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page


def test_report_notes_absent_parts(bare_manifest, tmp_path):
    path, _ = bare_manifest
    page = write_report(path, tmp_path / "rep").read_text(encoding="utf-8")
    for sid in ("lf-analysis", "label-model", "appraisal", "flips"):
        section = _section(page, sid)
        assert NOT_IN_BUILD in section and "<img" not in section, sid
    assert "passed" in _section(page, "qc") and "<img" in _section(page, "qc")


def test_report_drops_table_matches_manifest(tiny_build, tiny_report):
    drops = _section(tiny_report.read_text(encoding="utf-8"), "drops")
    for name, info in tiny_build.manifest["sources"].items():
        for reason, n in info["drops"].items():
            if n:
                assert f"<td>{reason}</td><td class=\"num\">{n:,}</td>" in drops, (name, reason)


def test_report_renders_optional_sections(full_manifest, tmp_path):
    path, _ = full_manifest
    report = write_report(path, tmp_path / "rep")
    page = report.read_text(encoding="utf-8")
    pngs = sorted(report.parent.glob("*.png"))
    assert [p.name for p in pngs] == sorted(FIGURES.values())
    assert page.count("data:image/png;base64,") == len(pngs)
    assert all(p.read_bytes().startswith(PNG_SIGNATURE) and p.stat().st_size > 5 * 1024 for p in pngs)
    for sid in ("lf-analysis", "label-model", "appraisal", "flips", "qc"):
        assert NOT_IN_BUILD not in _section(page, sid), sid
    lf = _section(page, "lf-analysis")
    assert "lf_not_happy" in lf and "<img" in lf
    assert "majority_vote" in _section(page, "label-model") and "<img" in _section(page, "label-model")
    qc = _section(page, "qc")
    assert "FAILED" in qc and "<img" in qc and "<td>record</td>" in qc
    # outcomes come from manifests/qc.json, failing ones first
    assert "3 rows below 0.25" in qc and qc.index("record.vad_conf_range") < qc.index("record.text_not_null")
    import pyarrow.parquet as pq  # every kind in the pairs shard has its row (the report reads the shard)

    kinds = set(pq.read_table(path.parents[1] / "pairs" / "train_pairs.parquet").column("kind").to_pylist())
    assert kinds and all(f"<td>{kind}</td>" in _section(page, "flips") for kind in kinds)


def test_report_is_deterministic_and_prunes_stale_figures(full_manifest, bare_manifest, tmp_path):
    out = tmp_path / "rep"
    path, _ = full_manifest
    write_report(path, out)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(list(out.glob("*.png"))) == len(FIGURES)
    write_report(path, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    write_report(bare_manifest[0], out)                  # no optional parts: their figures go away
    assert len(list(out.glob("*.png"))) == 6            # five core figures + the QC summary
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 6


# ------------------------------------------------------------------------------------- LF report (.md)

def test_lf_report_markdown_shows_auc_judges_and_pairs(tiny_build):
    """manifests/lf_report.md: ROC-AUC per enISEAR dimension, acceptance per judge, the pairs per kind."""
    text = (tiny_build.root / "manifests" / "lf_report.md").read_text(encoding="utf-8")
    manifest = tiny_build.manifest
    auc = text[text.index("## Appraisal atoms vs human ratings"):]
    for key, value in manifest["appraisal"]["enisear_cv_auc"].items():
        if key != "mean":
            dim, atom = key[:-1].split(" (")
            assert f"| {dim} | {atom} | {value:.4f} |" in auc, key
    flips = text[text.index("## Valence-Flip pairs: acceptance by each judge"):]
    for kind, shares in manifest["pairs"]["judges"].items():
        cells = " | ".join("n/a" if shares[j] is None else f"{100 * shares[j]:.1f}%" for j in ("vad", "plain", "vader"))
        assert f" | {shares['judged']:,} | {cells} |" in flips, kind
    for kind, examples in manifest["pairs"]["examples_by_kind"].items():
        if examples:
            assert f"### {kind}: {len(examples)} pairs to read" in flips
            assert all(e["text_flip"].replace("|", "\\|") in flips for e in examples)


def test_lf_report_markdown_without_manifest_parts():
    """Without appraisal AUC or judges, the Markdown says so (and without a manifest, omits both)."""
    from emodata.report.lf_markdown import appraisal_markdown, flips_markdown, lf_report_markdown

    assert "no cross-validated ROC-AUC" in appraisal_markdown({"atoms": {}})[-1]
    assert "no per-judge acceptance" in flips_markdown(None)[-1]
    full = {"labeler": {"fine": {"aggregator": "majority_vote", "train_macro_f1": {}},
                        "ekman": {"aggregator": "label_model", "train_macro_f1": {"label_model": 0.5}}},
            "splits": {}}
    text = lf_report_markdown(full)
    assert "fine not compared; Ekman label_model 0.5000" in text and "## Appraisal" not in text


# -------------------------------------------------------------------------------------------- progress

def test_progress_without_total_shows_count_and_rate_not_question_mark():
    from rich.progress import Progress

    from emodata.progress import CountColumn, stage_columns

    column = CountColumn()
    with Progress(*stage_columns(None), disable=True) as progress:
        task_id = progress.add_task("weak labels", total=None)
        task = progress.tasks[0]
        assert column.render(task).plain == ""          # nothing counted yet: only the elapsed time shows
        progress.advance(task_id, 1234)
        assert re.fullmatch(r"1,234( · [\d,]+/s)?", column.render(task).plain)
    with Progress(*stage_columns(10), disable=True) as progress:
        progress.add_task("annotate", total=10, completed=4)
        assert column.render(progress.tasks[0]).plain.startswith("4/10")
    assert not any("MofN" in type(c).__name__ for c in stage_columns(None))


def test_templates_are_package_data():
    """Every template ships (pyproject's package-data glob matches each file under templates/)."""
    import fnmatch

    import emodata.report

    tomllib = pytest.importorskip("tomllib")

    root = Path(emodata.report.__file__).parent
    globs = tomllib.loads((root.parents[1] / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    templates = sorted(p.relative_to(root.parent).as_posix() for p in (root / "templates").iterdir())
    assert templates and all(any(fnmatch.fnmatch(t, g) for g in globs["emodata"]) for t in templates)
    assert "emodata.report" in tomllib.loads((root.parents[1] / "pyproject.toml").read_text())["tool"][
        "setuptools"]["packages"]
