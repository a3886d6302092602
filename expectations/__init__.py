"""Great Expectations suites and the QC gate run inside `emodata build` (issue #5)."""
