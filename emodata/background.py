"""One CPU-bound job in a child process while the client goes on with its next stages.

An in-process build runs its stages one after another on one core; the end-model check (a pure
function of plain lists, `labeling_functions.end_model.end_model_check`) needs none of the stages
that follow it until the manifest is written, so it runs on the machine's other core meanwhile
(benchmarks/RESULTS.md, stop 24). The same function inline gives the same result
(tests/test_background.py).

The child is a fresh interpreter (`python -c "...serve(...)"`), not a `multiprocessing` process: a
spawned process re-imports the caller's main script, so a user's script that calls `build()` without
an `if __name__ == "__main__"` guard would start its build again in the child. The function and its
arguments go to the child, and its answer comes back, pickled through two private pipes between this
process and its own child (nothing read from outside).
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from typing import Any, Callable

_SERVE = "import sys; from emodata.background import serve; serve(int(sys.argv[1]), int(sys.argv[2]))"


class BackgroundJobError(RuntimeError):
    """The background job raised, or its process died before it answered."""


class BackgroundJob:
    """`fn(*args)` running in a child interpreter; `result()` waits for it, `cancel()` stops it.
    `fn` must be importable by its module and name (a module-level function)."""

    def __init__(self, name: str, fn: Callable[..., Any], *args: Any):
        self.name = name
        self.seconds: float | None = None  # the job's own wall seconds, measured in the child
        self.peak_mib: float | None = None  # the child's peak resident memory (MiB)
        job_in, self._feed = os.pipe()
        self._answer, job_out = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # import what we import
        try:
            self._process = subprocess.Popen([sys.executable, "-c", _SERVE, str(job_in), str(job_out)],
                                             pass_fds=(job_in, job_out), stdin=subprocess.DEVNULL, env=env)
        finally:
            os.close(job_in)
            os.close(job_out)  # the child holds the only writer: EOF on our side means it died
        # Sent from a thread: the child reads only once its interpreter is up (seconds), and the client's
        # next stage should not wait for that.
        payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        self._feeder = threading.Thread(target=_write_all, args=(self._feed, payload), daemon=True,
                                        name=f"emodata-{name}-feed")
        self._feeder.start()

    def result(self) -> Any:
        """The job's return value (waits for it); a job that raised re-raises here with its traceback."""
        with os.fdopen(self._answer, "rb") as answer:
            data = answer.read()
        code = self._process.wait()
        self._feeder.join()
        if not data:
            raise BackgroundJobError(f"{self.name}: its process died without an answer "
                                     f"(exit code {code}; out of memory?)")
        ok, value, self.seconds, self.peak_mib = pickle.loads(data)  # our own child's answer
        if not ok:
            raise BackgroundJobError(f"{self.name} failed in its process:\n{value}")
        return value

    def cancel(self) -> None:
        """Stop the job (when the build fails before it needs the result)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._feeder.join()
        try:
            os.close(self._answer)
        except OSError:  # result() closed it already
            pass


def _write_all(fd: int, payload: bytes) -> None:
    try:
        with os.fdopen(fd, "wb") as feed:
            feed.write(payload)
    except (BrokenPipeError, OSError):  # the child died or was cancelled: result() reports it
        pass


def serve(job_in: int, job_out: int) -> None:
    """The child's side: read (fn, args), run fn(*args), write (ok, value or traceback, seconds, peak MiB)."""
    import resource
    import traceback

    with os.fdopen(job_in, "rb") as inbox:
        fn, args = pickle.load(inbox)  # from our parent, through a pipe only it holds
    start = time.perf_counter()
    try:
        ok, value = True, fn(*args)
    except BaseException:  # noqa: BLE001 - the parent re-raises it with this traceback
        ok, value = False, traceback.format_exc()
    answer = (ok, value, time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    with os.fdopen(job_out, "wb") as out:
        out.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
