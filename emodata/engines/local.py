"""The in-process engine: the annotate stage as one `annotate_frame` call (the default)."""
from __future__ import annotations

import pandas as pd

from ..annotate import Annotator, annotate_frame
from .core import Engine, Progress


class LocalEngine(Engine):
    """Annotates in the calling process; starts nothing."""

    name = "local"

    def annotate(self, records: pd.DataFrame, annotator: Annotator,
                 progress: Progress | None = None) -> pd.DataFrame:
        """`annotate_frame(records, annotator, progress)`, unchanged."""
        return annotate_frame(records, annotator, progress=progress)

    def describe(self) -> dict:
        """{"engine": "local", "workers": 1}."""
        return {"engine": self.name, "workers": 1}
