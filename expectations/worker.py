"""Run the gate in a separate process started early, so that importing Great Expectations overlaps
the build instead of adding to it.

Importing great_expectations is 2-3 s of pure-Python module loading; a build with a warm annotation
cache takes 5-7 s, so an in-process gate costs about half the build again. A background thread does
not help (the import holds the GIL and slows the build by as much as it saves); a separate process
does, on any machine with a spare core:

    with GateWorker() as gate:                  # spawns `python -m expectations.worker`, imports GX
        ...                                     # the build: read, annotate, mix, write shards
        result = gate.run(tmp_root, manifest)   # same as run_gate(tmp_root, manifest)

The worker speaks one JSON object per line: requests {"root", "manifest", "docs_dir"} on stdin,
answers {"ok": true, "result": GateResult.to_json(timing=True)} or {"ok": false, "error": "..."}
on stdout. It is started with `python -m`, so it never re-imports the caller's __main__.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from expectations.gate import GateResult


class GateWorkerError(RuntimeError):
    """The gate worker process failed or died."""


class GateWorker:
    """A `python -m expectations.worker` child that has (or is) importing Great Expectations."""

    def __init__(self) -> None:
        self._stderr = tempfile.TemporaryFile(mode="w+b")
        env = dict(os.environ, GX_ANALYTICS_ENABLED="false", PYTHONUNBUFFERED="1")
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._proc = subprocess.Popen([sys.executable, "-m", "expectations.worker"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._stderr, env=env, text=True,
                                      encoding="utf-8")

    def run(self, root: Path, manifest: dict, docs_dir: Path | None = None) -> GateResult:
        """`run_gate(root, manifest, docs_dir)` in the worker. `seconds` is the caller's wait."""
        started = time.perf_counter()
        request = {"root": str(Path(root).resolve()), "manifest": manifest,
                   "docs_dir": str(Path(docs_dir).resolve()) if docs_dir else None}
        try:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            raise GateWorkerError(f"QC gate worker died (exit {self._proc.poll()}): {self._stderr_tail()}")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise GateWorkerError(f"QC gate worker failed: {answer.get('error')}")
        result = GateResult.from_json(answer["result"])
        result.seconds = time.perf_counter() - started
        return result

    def _stderr_tail(self, limit: int = 4000) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-limit:].strip()

    def close(self) -> None:
        """End the worker (it exits at end of input)."""
        if self._proc.poll() is None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()

    def __enter__(self) -> "GateWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main() -> int:
    """Worker loop: import GX, then answer one request per input line until end of input."""
    from expectations.gate import _import_gx, run_gate

    _import_gx()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            docs = request.get("docs_dir")
            result = run_gate(Path(request["root"]), request["manifest"], Path(docs) if docs else None)
            data = result.to_json(timing=True)
            data["docs_index"] = str(result.docs_index) if result.docs_index else None
            answer = {"ok": True, "result": data}
        except Exception:  # report, keep serving
            answer = {"ok": False, "error": traceback.format_exc(limit=8)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip interpreter teardown of the GX modules (~0.5 s) that the caller would wait for
