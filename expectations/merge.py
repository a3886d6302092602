"""One outcome per check from the streamed gate's per-batch Great Expectations results.

A row-wise (map) expectation validated batch by batch reports what the whole frame would: element,
missing and unexpected counts are sums, `unexpected_percent` is recomputed from them exactly as GX's
`_format_map_output` does (unexpected / non-missing × 100, or / all rows when GX reports no missing
count), and the offending rows are the first `limit` of the batches in the whole frame's row order.
`expect_column_values_to_be_unique` is the one row-wise check that spans batches: its unexpected rows
are the rows whose id occurs twice anywhere in the build (`scan.BuildScan.duplicate_ids`, from pass 1),
reported as GX reports them. Any other expectation (e.g. `expect_column_to_exist`: every batch has
the same columns) takes the first batch's result; a batch that raised gives its exception.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: GX result keys a row-wise expectation's merged result has.
_COUNTS = ("element_count", "unexpected_count", "missing_count")
UNIQUE = "expect_column_values_to_be_unique"


@dataclass
class _Config:
    type: str


@dataclass
class MergedResult:
    """The fields of a GX ExpectationValidationResult that `gate._outcome` reads."""

    result: dict
    success: bool
    expectation_config: _Config
    exception_info: dict | None = None


@dataclass
class CheckMerge:
    """Accumulates one check's per-batch GX results (BASIC first, SUMMARY where examples are wanted)."""

    limit: int
    kind: str = ""                            # the GX expectation type, from the first result
    first: Any = None                         # the first batch's result (non-row-wise expectations)
    raised: Any = None                        # the first batch result that raised
    counts: dict[str, int] = field(default_factory=dict)
    all_success: bool = True
    examples: list = field(default_factory=list)
    values: list = field(default_factory=list)

    def add(self, result) -> None:
        """Fold in one batch's first-pass result."""
        self.kind = self.kind or result.expectation_config.type
        self.first = self.first if self.first is not None else result
        self.all_success &= bool(result.success)
        if self.raised is None and result.exception_info and result.exception_info.get("raised_exception"):
            self.raised = result
        res = result.result or {}
        for key in _COUNTS:
            if key in res and res[key] is not None:
                self.counts[key] = self.counts.get(key, 0) + int(res[key])

    def wants_examples(self, result) -> bool:
        """Whether this batch's rows may still name offending rows of the merged outcome."""
        return not result.success and len(self.examples) < self.limit and self.kind != UNIQUE

    def add_examples(self, result) -> None:
        """Take the offending rows of a SUMMARY result of the same batch, until `limit` are known."""
        res = result.result or {}
        room = self.limit - len(self.examples)
        self.examples += list(res.get("partial_unexpected_index_list") or [])[:room]
        self.values += list(res.get("partial_unexpected_list") or [])[:self.limit - len(self.values)]

    def merged(self, duplicates: tuple[int, list[tuple[dict, str]]] = (0, [])) -> Any:
        """The whole-frame result: summed counts, or the first (or raising) batch's result as it is.
        `duplicates`: the number of rows whose id repeats in the build and the first ones as GX names
        them (row, value), for the unique check."""
        if self.raised is not None:
            return self.raised
        if "element_count" not in self.counts or "unexpected_count" not in self.counts:
            if self.first is not None:
                self.first.success = self.all_success
            return self.first
        counts = dict(self.counts)
        examples, values = self.examples, self.values
        if self.kind == UNIQUE:
            counts["unexpected_count"] = duplicates[0]
            examples = [row for row, _ in duplicates[1][:self.limit]]
            values = [value for _, value in duplicates[1][:self.limit]]
        res = map_result(counts)
        success = counts["unexpected_count"] == 0
        if not success:
            res["partial_unexpected_list"] = values
            res["partial_unexpected_index_list"] = examples
        return MergedResult(result=res, success=success, expectation_config=_Config(self.kind))


def map_result(counts: dict[str, int]) -> dict:
    """GX's BASIC result fields of a row-wise expectation from its counts (`_format_map_output`)."""
    element_count = counts.get("element_count", 0)
    unexpected_count = counts["unexpected_count"]
    has_missing = "missing_count" in counts
    nonnull_count = element_count - counts["missing_count"] if has_missing else None
    percent = None
    if element_count > 0:
        percent = unexpected_count / element_count * 100
        if has_missing:
            percent = unexpected_count / nonnull_count * 100 if nonnull_count > 0 else None
    res = {"element_count": element_count, "unexpected_count": unexpected_count, "unexpected_percent": percent}
    if has_missing:
        res["missing_count"] = counts["missing_count"]
    return res
