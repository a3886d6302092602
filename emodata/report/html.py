"""The report page: Jinja2 templates (emodata/report/templates/*.html.j2), autoescaped.

`render_page(data, pngs)` renders `report.html.j2`: the build's title, a nav bar and one
`<section><h2 id=ID>` per entry of `SECTIONS`, each from `section_ID.html.j2` with its context
`s = data.sections[ID]`. Figures are embedded as base64 PNG data URIs (the page needs no network).
Cells are formatted by the `cell` filter (ints with thousands separators, floats to 4 significant
digits, booleans yes/no, None as an en dash); `Table`s render through the `table` macro.
"""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from emodata.report.data import NOT_IN_BUILD, SECTIONS, Badge, ReportData, Share
from expectations.docs import plain_value

TEMPLATES = Path(__file__).parent / "templates"
#: Alt text of each figure (keys as in `emodata.report.figures.FIGURES`).
ALT = {"labels": "label distribution", "vad_hist": "VAD histograms", "va_scatter": "valence-arousal scatter",
       "vad_conf": "vad_conf distribution", "drops": "dropped rows", "lf": "LF coverage and conflict",
       "confusion": "label model vs gold", "appraisal": "appraisal atoms", "flips": "Valence-Flip pairs",
       "qc": "QC summary"}


def cell(value: Any) -> str:
    """One table cell's text: 1,234 / 0.1235 / 12.3% (a Share) / yes / – (None) / the value as text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Share):
        return f"{100 * value:.1f}%"
    if isinstance(value, int):
        return f"{value:,}"
    return plain_value(value)   # floats to 4 significant digits, None as "–"


def is_number(value: Any) -> bool:
    """True for ints and floats (not booleans): right-aligned cells."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def environment() -> Environment:
    """The templates' environment: autoescaped, undefined names are errors, filter `cell`."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cell"] = cell
    env.tests["badge"] = lambda v: isinstance(v, Badge)
    env.tests["numeric"] = is_number
    return env


def render_page(data: ReportData, pngs: dict[str, bytes]) -> str:
    """The report's HTML: every section of `data`, the figures of `pngs` embedded."""
    images = {key: base64.b64encode(png).decode("ascii") for key, png in pngs.items()}
    return environment().get_template("report.html.j2").render(
        title=data.title, order=SECTIONS, sections=data.sections, images=images, alt=ALT,
        not_in_build=NOT_IN_BUILD)
