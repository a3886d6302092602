"""The end-model check runs in a child process beside the next stages (emodata/background.py): same
figures as inline, its errors come back with their traceback, a failed build stops it, and the caller's
main script is not run again in the child."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from emodata.background import BackgroundJob, BackgroundJobError
from emodata.weak import end_model_task
from labeling_functions.emotion import FINE_LABELS
from labeling_functions.end_model import end_model_check
from labeling_functions.weak_labels import fit_weak_labeler

from tests.test_weak_end_model_inputs import _rows


def test_the_check_in_a_spawned_process_equals_the_check_inline():
    labeler = fit_weak_labeler(np.empty((0, 2), dtype=np.int64), FINE_LABELS, None, 0, "majority_vote")
    task = end_model_task(_rows("t", 3), {"ed/dev": _rows("d", 1)}, labeler, 2, seed=0)
    job = BackgroundJob("end model test", end_model_check, task)
    inline = end_model_check(task)
    assert json.dumps(job.result(), sort_keys=True) == json.dumps(inline, sort_keys=True)
    assert job.seconds is not None and job.seconds > 0 and job.peak_mib > 10
    assert inline["splits"]["ed/dev"]["end_model_weak"]["macro_f1"] == 1.0


def test_an_error_in_the_job_comes_back_with_its_traceback():
    job = BackgroundJob("bad job", int, "not a number")
    with pytest.raises(BackgroundJobError, match=r"bad job failed in its process:(.|\n)*invalid literal"):
        job.result()


def test_a_job_whose_process_dies_is_reported_not_awaited_forever():
    job = BackgroundJob("sleeper", __import__("time").sleep, 60)
    os.kill(job._process.pid, signal.SIGKILL)
    with pytest.raises(BackgroundJobError, match="sleeper: its process died without an answer"):
        job.result()


def test_cancel_stops_a_running_job():
    job = BackgroundJob("sleeper", __import__("time").sleep, 60)
    job.cancel()
    assert job._process.poll() is not None


def test_an_unguarded_main_script_is_not_run_again_in_the_child(tmp_path: Path):
    """A spawned `multiprocessing` process would re-import the caller's script and start its work again."""
    marker = tmp_path / "runs.txt"
    script = tmp_path / "user_script.py"
    script.write_text(textwrap.dedent(f"""
        from pathlib import Path
        from emodata.background import BackgroundJob
        with open({str(marker)!r}, "a") as f:
            f.write("run\\n")
        print(BackgroundJob("sum", sum, [1, 2, 3]).result())
    """))
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": root})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "6"
    assert marker.read_text().splitlines() == ["run"]


def test_the_end_model_child_imports_no_heavy_library():
    """The child unpickles `labeling_functions.end_model`'s task: it must not pull Snorkel, torch or pandas
    (seconds of start-up and ~350 MiB beside the client; sklearn comes only when it fits)."""
    code = ("import sys, labeling_functions.end_model; "
            "print(sorted(m for m in ('torch', 'snorkel', 'pandas', 'spacy', 'sklearn') if m in sys.modules))")
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": root})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
