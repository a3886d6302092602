"""Issue #18: the filter stage over an annotated source on disk, two ways, same answer, timed and sized.

Usage: python benchmarks/bench_selection.py ENTRY_FOLDER [ENTRY_FOLDER ...]

ENTRY_FOLDER is an annotated cache entry (`CACHE/annotated/SOURCE-KEY/`, Parquet parts + entry.json).
Each way runs in a fresh child process, so its peak RSS (ru_maxrss) is its own:
  arrow-pandas: the build's way: pyarrow reads the narrow columns of the parts (`stages.NARROW_COLUMNS`),
                `emodata.mix.filter_rows` on them (pandas);
  duckdb:       one DuckDB query over the parts computing the same drop reasons (first failing rule,
                duplicate sha1(text||id) over all rows, duplicate exact text among the rows still alive,
                first occurrence in reading order kept) and returning the kept positions.
Both must keep the same row positions with the same drop counts (checked). Prints a Markdown table.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

THRESHOLDS = {"min_tokens": 3, "max_tokens": 128, "vad_conf_min": 0.75}
#: DuckDB threads (the machine's 2 cores are shared; the pandas way runs on one).
THREADS = 1

DUCKDB_SQL = """
WITH rows AS (
  SELECT *, row_number() OVER (ORDER BY file_index, file_row_number) - 1 AS pos
  FROM (SELECT n_covered, n_tokens, vad_conf, dedup_key, text_key, file_row_number,
               list_position($paths, filename) AS file_index
        FROM read_parquet($paths, filename = true, file_row_number = true))),
ruled AS (
  SELECT pos, dedup_key, text_key,
         CASE WHEN n_covered = 0 THEN 'no_lexicon_coverage' WHEN n_tokens < $min_tokens THEN 'too_short'
              WHEN n_tokens > $max_tokens THEN 'too_long' WHEN vad_conf < $vad_conf_min THEN 'low_vad_conf'
              WHEN row_number() OVER (PARTITION BY dedup_key ORDER BY pos) > 1 THEN 'duplicate_id_text'
              ELSE '' END AS reason
  FROM rows),
final AS (
  SELECT pos, CASE WHEN reason = '' AND row_number() OVER (PARTITION BY text_key, reason = '' ORDER BY pos) > 1
                   THEN 'duplicate_text' ELSE reason END AS reason
  FROM ruled)
SELECT pos, reason FROM final ORDER BY pos
"""


def _rss_mib() -> float:
    """This process's resident memory now, MiB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def _paths(entry: Path) -> list[str]:
    meta = json.loads((entry / "entry.json").read_text())
    return [str(entry / p["file"]) for p in meta["parts"]]


def child(way: str, entry: Path) -> dict:
    """Run one way on one entry; kept positions' checksum, drops, seconds and peak RSS."""
    import hashlib

    import numpy as np

    import duckdb

    from emodata.cache import AnnotatedParts
    from emodata.mix import filter_rows
    from emodata.stages import NARROW_COLUMNS, POSITION

    base_mib = _rss_mib()  # both ways import the same modules first; only what follows is measured
    started = time.perf_counter()
    if way == "arrow-pandas":
        meta = json.loads((entry / "entry.json").read_text())
        parts = AnnotatedParts([entry / p["file"] for p in meta["parts"]], [p["rows"] for p in meta["parts"]])
        narrow = parts.read(NARROW_COLUMNS)
        narrow[POSITION] = np.arange(len(narrow), dtype=np.int64)
        kept, drops = filter_rows(narrow, **THRESHOLDS)
        positions = kept[POSITION].to_numpy()
    else:
        con = duckdb.connect()
        con.execute(f"SET threads = {THREADS}")
        table = con.sql(DUCKDB_SQL, params={"paths": _paths(entry), **THRESHOLDS}).to_arrow_table()
        reasons = table.column("reason").to_numpy(zero_copy_only=False)
        positions = table.column("pos").to_numpy()[reasons == ""]
        values, counts = np.unique(reasons[reasons != ""], return_counts=True)
        drops = dict(zip(values.tolist(), counts.tolist()))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"way": way, "seconds": seconds, "peak_rss_mib": peak, "above_imports_mib": peak - base_mib,
            "kept": len(positions), "kept_sha1": hashlib.sha1(np.asarray(positions, np.int64).tobytes()).hexdigest(),
            "drops": dict(sorted((k, int(v)) for k, v in dict(drops).items()))}


def main(argv: list[str]) -> int:
    """Both ways on every entry given, each in a fresh process; a Markdown table on stdout."""
    if argv and argv[0] == "--child":
        print(json.dumps(child(argv[1], Path(argv[2]))))
        return 0
    print("| entry | rows kept | way | seconds | peak RSS MiB (above the imports) | same kept rows and drops |")
    print("|---|---|---|---|---|---|")
    for entry in map(Path, argv):
        results = [json.loads(subprocess.run([sys.executable, __file__, "--child", way, str(entry)], check=True,
                                             capture_output=True, text=True).stdout.splitlines()[-1])
                   for way in ("arrow-pandas", "duckdb")]
        same = results[0]["kept_sha1"] == results[1]["kept_sha1"] and results[0]["drops"] == results[1]["drops"]
        for r in results:
            print(f"| {entry.name} | {r['kept']:,} | {r['way']} | {r['seconds']:.2f} | {r['peak_rss_mib']:,.0f} "
                  f"({r['above_imports_mib']:,.0f}) | "
                  f"{'yes' if same else 'NO: ' + json.dumps([x['drops'] for x in results])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
