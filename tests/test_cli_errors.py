"""The CLI never shows a traceback for a user error: one line on stderr, exit 2 (Ctrl-C: exit 130);
results on stdout, progress and logs on stderr; fixed help texts."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from emodata.cli import main, parser


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m emodata ARGS` in a subprocess (what a user's shell sees)."""
    return subprocess.run([sys.executable, "-m", "emodata", *args], capture_output=True, text=True, timeout=timeout,
                          env=os.environ.copy())


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert re.match(r"emodata \w+: error: ", lines[0]), lines[0]
    return lines[0]


def test_sql_error_is_one_line(sample_build):
    done = _run("query", "SELEC nonsense FROM train", "--manifest", str(sample_build.manifest_path))
    assert done.returncode == 2 and done.stdout == ""
    assert "syntax error" in _one_error_line(done.stderr).lower()


def test_unknown_view_is_one_line(sample_build, capsys):
    assert main(["query", "SELECT * FROM no_such_view", "--manifest", str(sample_build.manifest_path)]) == 2
    assert "no_such_view" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("args, message", [
    (["build", "--mix", "30:30", "--sample"], "must sum to 100"),
    (["build", "--mix", "20:80", "--data-dir", "/nonexistent/emodata-data"], "folder does not exist"),
    (["verify", "/nonexistent/manifest.json"], "manifest not found"),
    (["report", "/nonexistent/manifest.json"], "not found"),
])
def test_user_errors_are_one_line(args, message, capsys):
    assert main(args) == 2
    assert message in _one_error_line(capsys.readouterr().err)


def test_out_naming_a_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "a-file"
    path.write_text("x", encoding="utf-8")
    assert main(["build", "--sample", "--out", str(path)]) == 2
    assert "is a file" in _one_error_line(capsys.readouterr().err)


def test_export_refuses_to_overwrite(sample_build, tmp_path, capsys):
    out = tmp_path / "exp"
    manifest = str(sample_build.manifest_path)
    assert main(["export", manifest, "--format", "jsonl", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    before = (out / "train.jsonl").read_bytes()
    (out / "train.jsonl").write_text("edited\n", encoding="utf-8")
    assert main(["export", manifest, "--format", "jsonl", "--out", str(out)]) == 2
    assert "--overwrite" in _one_error_line(capsys.readouterr().err)
    assert (out / "train.jsonl").read_text(encoding="utf-8") == "edited\n"      # untouched
    assert main(["export", manifest, "--format", "jsonl", "--out", str(out), "--overwrite"]) == 0
    assert (out / "train.jsonl").read_bytes() == before


def test_export_default_is_beside_the_build(sample_build, tmp_path, capsys):
    import shutil

    root = tmp_path / sample_build.root.name
    shutil.copytree(sample_build.root, root)
    assert main(["export", str(root / "manifests" / f"{root.name}.json"), "--format", "sft"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == str(tmp_path / f"{root.name}-derived" / "exports" / "sft")
    assert not (root / "exports").exists()


def test_qc_prints_a_table_and_json(sample_build, capsys):
    assert main(["qc", str(sample_build.manifest_path)]) == 0
    out = capsys.readouterr().out
    assert "{" not in out and "overall" in out and "PASSED" in out and "record" in out
    assert main(["qc", str(sample_build.manifest_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["success"] is True and "record" in summary["suites"]


def test_verify_json(sample_build, capsys):
    assert main(["verify", str(sample_build.manifest_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_help_texts_are_clean():
    top = parser()
    for name, sub in top.get_default("_subparsers").items():
        text = sub.format_help()
        assert "--no-no-" not in text, name
        flat = " ".join(text.split())
        assert not re.search(r"\(default: [^)]*\) \(default:", flat), (name, flat)
        assert "(default: )" not in flat and "(default: None)" not in flat, name
    build_help = " ".join(top.get_default("_subparsers")["build"].format_help().split())
    assert "--no-cache " in build_help and "--no-probe" in build_help


def test_build_prints_the_manifest_path_on_stdout(tmp_path, capsys):
    assert main(["build", "--sample", "--out", str(tmp_path), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{tmp_path / 'mix_20_80' / 'manifests' / 'mix_20_80.json'}\n"
    assert main(["build", "--sample", "--out", str(tmp_path), "--overwrite", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["name"] == "mix_20_80" and summary["qc_success"] is True and summary["rows"]["train"] > 0


@pytest.mark.parametrize("after", ["✓ annotate ", "✓ end model mix_20_80 (start)"])
def test_ctrl_c_during_a_build_publishes_nothing(tmp_path, after):
    import psutil

    # SIGINT at its default in the child: a test run started in the background by a non-interactive shell
    # inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler.
    process = subprocess.Popen([sys.executable, "-m", "emodata", "build", "--sample", "--no-cache", "--out",
                                str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # Inside the build: once a stage is done (a fixed sleep raced the whole sample build, which can finish
    # within seconds of its imports); after the end model's start, its child process is running too.
    seen = []
    for line in process.stderr:
        seen.append(line)
        if line.startswith(after):
            break
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGINT)
    out, rest = process.communicate(timeout=120)
    err = "".join(seen) + rest
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted: nothing was published" in err
    assert out == ""
    assert not (tmp_path / "mix_20_80").exists()
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]  # no child left


def test_progress_prints_plain_lines_when_not_a_terminal(monkeypatch):
    import io

    from rich.console import Console

    import emodata.progress as progress

    buffer = io.StringIO()
    monkeypatch.setattr(progress, "PLAIN_EVERY", 0.0)
    reporter = progress.Reporter(console=Console(file=buffer, force_terminal=False, width=200))
    with reporter.stage("annotate goemotions", total=10) as advance:
        advance(4)
        advance(6)
    lines = buffer.getvalue().splitlines()
    assert re.match(r"annotate goemotions: 4/10 \([\d,]+/s, ETA \d+s\)$", lines[0]), lines
    assert lines[1].startswith("annotate goemotions: 10/10") and lines[-1].startswith("✓ annotate goemotions")
