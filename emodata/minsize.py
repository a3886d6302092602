"""The minimum-size gate: a mix with too few train rows to train on is refused, saying where rows went."""
from __future__ import annotations

from collections import Counter
from typing import Mapping

import pandas as pd

from emodata.core.errors import EmodataError


def _where_rows_went(drops: Counter, rows_in: int, kept: int) -> str:
    named = ", ".join(f"{reason} {n:,}" for reason, n in sorted(drops.items(), key=lambda kv: -kv[1]) if n)
    return f"{rows_in:,} rows annotated, {kept:,} kept" + (f" (dropped: {named})" if named else "")


def require_min_train_rows(mix: str, drawn: Mapping[str, pd.DataFrame], minimum: int,
                           sources: Mapping[str, tuple[int, int, Counter]]) -> None:
    """Refuse a mix whose drawn train split has fewer than `minimum` rows (`--min-train-rows`).

    `drawn` maps each member source to its drawn rows (a `split` column); `sources` maps it to
    (rows annotated, rows kept, drops by filter), so the message says which filter ate the corpus
    (e.g. a corpus whose rows are all duplicates of one).
    """
    train = {name: int((frame["split"] == "train").sum()) for name, frame in drawn.items()}
    total = sum(train.values())
    if total >= minimum:
        return
    detail = "; ".join(f"{name}: {train[name]:,} train rows drawn, " + _where_rows_went(drops, rows_in, kept)
                       for name, (rows_in, kept, drops) in sources.items() if name in drawn)
    raise EmodataError(f"{mix}: only {total:,} train row(s), fewer than --min-train-rows {minimum}: too small to "
                       f"train on; {detail}")
