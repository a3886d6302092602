"""One CPU-bound job in a spawned process while the client goes on with its next stages.

An in-process build runs its stages one after another on one core; the end-model check (a pure
function of plain lists, `labeling_functions.end_model.end_model_check`) needs none of the stages
that follow it until the manifest is written, so it runs on the machine's other core meanwhile
(benchmarks/RESULTS.md, stop 24). The job's function and arguments are sent to a fresh interpreter
("spawn": no fork of a client that may hold threads) and its result comes back through a pipe;
the same function inline gives the same result (tests/test_background.py).
"""
from __future__ import annotations

import multiprocessing
import threading
import time
import traceback
from typing import Any, Callable


class BackgroundJobError(RuntimeError):
    """The background job raised, or its process died before it answered."""


class BackgroundJob:
    """`fn(*args)` running in a spawned daemon process; `result()` waits for it, `cancel()` stops it."""

    def __init__(self, name: str, fn: Callable[..., Any], *args: Any):
        context = multiprocessing.get_context("spawn")
        self.name = name
        self._answer, send = context.Pipe(duplex=False)
        inbox, self._feed = context.Pipe(duplex=False)
        self._process = context.Process(target=_run, args=(fn, inbox, send), name=f"emodata-{name}", daemon=True)
        self._process.start()
        send.close()  # the child holds the only writer: EOF on our side means it died
        inbox.close()
        # The arguments go through a pipe from a thread: the child reads them only once its interpreter and
        # imports are up (seconds), and the client's next stage should not wait for that.
        self._feeder = threading.Thread(target=self._send, args=(args,), name=f"emodata-{name}-feed", daemon=True)
        self._feeder.start()
        self.seconds: float | None = None  # the job's own wall seconds, measured in the child

    def _send(self, args: tuple) -> None:
        try:
            self._feed.send(args)
        except (BrokenPipeError, OSError):  # the child died or was cancelled: result() reports it
            pass
        finally:
            self._feed.close()

    def result(self) -> Any:
        """The job's return value (waits for it); a job that raised re-raises here with its traceback."""
        try:
            ok, value, seconds = self._answer.recv()
        except EOFError:
            self._process.join()
            raise BackgroundJobError(f"{self.name}: its process died without an answer "
                                     f"(exit code {self._process.exitcode}; out of memory?)") from None
        finally:
            self._answer.close()
        self._process.join()
        self.seconds = seconds
        if not ok:
            raise BackgroundJobError(f"{self.name} failed in its process:\n{value}")
        return value

    def cancel(self) -> None:
        """Stop the job (when the build fails before it needs the result)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._feeder.join()
        self._answer.close()


def _run(fn: Callable[..., Any], inbox, send) -> None:
    start = time.perf_counter()
    try:
        args = inbox.recv()
        inbox.close()
        answer = (True, fn(*args), time.perf_counter() - start)
    except BaseException:  # noqa: BLE001 - the parent re-raises it with this traceback
        answer = (False, traceback.format_exc(), time.perf_counter() - start)
    send.send(answer)
    send.close()
