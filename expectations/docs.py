"""Offline Data Docs: the Great Expectations results of a gate run rendered into one self-contained HTML
page (a Jinja2 template with its own CSS; no CDN, no script), so the page reads the same on a cluster
without network. GX's own Data Docs site loads Bootstrap, jQuery and Vega from CDNs and shows nothing
offline, so emodata renders the same results (suite, expectation, column, observed and expected values,
offending ids) itself."""
from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"


def plain_value(value: Any, depth: int = 0) -> str:
    """A JSON value as short readable text (no braces or quotes): `key: value; ...`, lists joined."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        if not value:
            return "–"
        return "; ".join(f"{k}: {plain_value(v, depth + 1)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        items = [plain_value(v, depth + 1) for v in value[:8]]
        return ", ".join(items) + (f", … ({len(value)} in all)" if len(value) > 8 else "") if items else "–"
    if value is None:
        return "–"
    return str(value)


def value_lines(value: Any) -> str:
    """A top-level dict as one `key: value` line each (the page shows them with pre-line)."""
    if isinstance(value, dict) and value:
        return "\n".join(f"{k}: {plain_value(v, 1)}" for k, v in value.items())
    return plain_value(value)


def docs_context(result: dict, title: str) -> dict:
    """The template's context from a gate result's `to_json()`: outcomes grouped by suite, failures first."""
    suites = []
    for suite, info in result["suites"].items():
        outcomes = sorted((o for o in result["outcomes"] if o["suite"] == suite),
                          key=lambda o: (o["success"], o["severity"] != "critical", o["check"]))
        suites.append({"name": suite, "info": info, "outcomes": [
            {**o, "observed_text": value_lines(o.get("observed")), "expected_text": value_lines(o.get("expected")),
             "examples_text": plain_value(o.get("unexpected_examples") or [])} for o in outcomes]})
    failed = sum(not o["success"] for o in result["outcomes"])
    return {"title": title, "success": result["success"], "gx_version": result.get("great_expectations"),
            "rows": result.get("rows"), "suites": suites, "n_outcomes": len(result["outcomes"]), "n_failed": failed,
            "skipped": result.get("skipped") or []}


def render_docs_page(result: dict, out_dir: Path, title: str) -> Path:
    """Write OUT_DIR/index.html from a gate result's `to_json()`; returns its path."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    html = env.get_template("data_docs.html.j2").render(**docs_context(result, title))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    index.write_text(html, encoding="utf-8")
    return index
