"""The house style of every emodata figure: DPI, the Okabe–Ito palette, axes style, byte-stable PNGs.

Standard library only (figures are `matplotlib.figure.Figure` objects made by the caller; nothing here
imports matplotlib), so every floor may draw in the same style: the build report (emodata/report) and
the trainer's run figures (trainer/plots.py) use it.
"""
from __future__ import annotations

import io
from typing import Any

DPI = 110
#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000",
             "grey": "#999999"}
#: Colour cycle for series without a fixed colour (Okabe–Ito order, most distinct first).
CYCLE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def style_axes(ax: Any) -> None:
    """No top/right spines, light x grid behind the data, small ticks."""
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=9)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def figure_png(fig: Any) -> bytes:
    """A matplotlib figure as PNG bytes at DPI, byte-stable (no software/date metadata)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()
