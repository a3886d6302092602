"""Issue 13, trust boundary: paths in a manifest or checksums.sha1 stay inside the build for every reader;
verify sees extra files, artifacts and the manifest's own checksum line; the trainer verifies first;
queries are read-only unless --allow-external; checkpoints load with weights_only=True."""
from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from emodata import connect, load
from emodata.cli import main
from emodata.core.errors import EmodataError, VerificationError
from emodata.export import export
from emodata.core.manifest import Manifest, dumps
from emodata.query import run_query
from emodata.core.safepath import inside_build
from emodata.verify import verify, write_checksums

SHARD = "data/goemotions/train.parquet"


def _point_shard_at(manifest_path: Path, target: str) -> None:
    """Make the manifest's goemotions train shard point at `target` (SHA-1 and rows of the real file, so
    only the path check can catch it)."""
    data = json.loads(manifest_path.read_text())
    shard = next(s for s in data["shards"] if s["path"] == SHARD)
    shard["path"] = target
    manifest_path.write_text(dumps(data))


@pytest.fixture(params=["../outside/train.parquet", "ABSOLUTE", "data/link.parquet"])
def escaping(request, build_copy, tmp_path):
    """A build whose manifest lists a shard outside it: by `../`, an absolute path, or a symlink out."""
    root = build_copy.parents[1]
    outside = root.parent / "outside"
    outside.mkdir()
    os.replace(root / SHARD, outside / "train.parquet")
    target = request.param
    if target == "ABSOLUTE":
        target = str(outside / "train.parquet")
    elif target == "data/link.parquet":
        os.symlink(outside / "train.parquet", root / target)
    _point_shard_at(build_copy, target)
    return build_copy, target


def _refuses(call, manifest, target):
    with pytest.raises(EmodataError) as info:
        call()
    assert str(manifest.name) in str(info.value) and repr(target) in str(info.value)


def test_verify_refuses_a_shard_outside_the_build(escaping):
    manifest, target = escaping
    _refuses(lambda: verify(manifest), manifest, target)
    assert main(["verify", str(manifest)]) == 2


def test_load_export_query_refuse_a_shard_outside_the_build(escaping, tmp_path):
    manifest, target = escaping
    _refuses(lambda: load(manifest), manifest, target)
    _refuses(lambda: export(manifest, "jsonl", out=tmp_path / "exp"), manifest, target)
    _refuses(lambda: connect(manifest), manifest, target)


def test_trainer_and_report_refuse_a_shard_outside_the_build(escaping, tmp_path):
    from emodata.core.reader import read_split
    from emodata.report import write_report
    from trainer.data import load_records

    manifest, target = escaping
    _refuses(lambda: load_records(manifest), manifest, target)
    _refuses(lambda: read_split(Manifest.load(manifest), "train"), manifest, target)
    _refuses(lambda: write_report(manifest, tmp_path / "rep"), manifest, target)


def test_checksums_path_outside_the_build_is_refused(build_copy):
    root = build_copy.parents[1]
    with open(root / "checksums.sha1", "a", encoding="utf-8") as handle:
        handle.write(f"{'0' * 40}  ../../etc/passwd\n")
    with pytest.raises(EmodataError, match=r"checksums\.sha1, line \d+: path '\.\./\.\./etc/passwd' resolves to"):
        verify(build_copy)


def test_inside_build_rules(tmp_path):
    (tmp_path / "data").mkdir()
    assert inside_build(tmp_path, "data/x.parquet", "m.json") == (tmp_path / "data" / "x.parquet").resolve()
    for bad in ("/etc/passwd", "../x", "data/../../x", "", "a\\..\\b", 7, "~/x"):
        with pytest.raises(EmodataError, match="m.json: path"):
            inside_build(tmp_path, bad, "m.json")


def test_verify_reports_extra_files_and_links(build_copy, tmp_path):
    root = build_copy.parents[1]
    (root / "data" / "goemotions" / "smuggled.parquet").write_bytes(b"x")
    (root / "report").mkdir()
    (root / "report" / "report.html").write_text("not part of the build")
    os.symlink(tmp_path, root / "data" / "elsewhere")
    assert verify(build_copy) == ["data/elsewhere: extra file, not listed in checksums.sha1",
                                  "data/goemotions/smuggled.parquet: extra file, not listed in checksums.sha1",
                                  "report/report.html: extra file, not listed in checksums.sha1"]


def test_verify_checks_artifacts_against_the_manifest(build_copy):
    root = build_copy.parents[1]
    artifact = json.loads(build_copy.read_text())["artifacts"][0]["path"]
    assert artifact.startswith("artifacts/") and artifact.endswith(".npz")
    (root / artifact).write_bytes(b"changed")
    write_checksums(root)  # even with checksums.sha1 rewritten to match, the manifest's SHA-1 catches it
    problems = verify(build_copy)
    assert any(p.startswith(f"{artifact}: SHA-1") for p in problems), problems


def test_verify_fails_when_the_manifests_own_checksum_line_is_deleted(build_copy):
    root = build_copy.parents[1]
    rel = f"manifests/{build_copy.name}"
    lines = (root / "checksums.sha1").read_text().splitlines()
    (root / "checksums.sha1").write_text("\n".join(l for l in lines if not l.endswith(rel)) + "\n")
    problems = verify(build_copy)
    assert f"checksums.sha1: no line for {rel}" in problems
    assert f"{rel}: extra file, not listed in checksums.sha1" in problems


def test_verify_fails_when_the_manifest_is_edited(build_copy):
    data = json.loads(build_copy.read_text())
    data["seed"] = 1
    build_copy.write_text(dumps(data))
    assert any(p.startswith(f"manifests/{build_copy.name}: SHA-1") for p in verify(build_copy))


def test_trainer_runs_the_same_verification_as_verify(build_copy):
    from trainer.data import load_records

    root = build_copy.parents[1]
    (root / "data" / "extra.jsonl").write_text("{}\n")
    assert verify(build_copy)
    with pytest.raises(VerificationError, match="data/extra.jsonl: extra file"):
        load_records(build_copy)
    (root / "data" / "extra.jsonl").unlink()
    assert load_records(build_copy).train


ATTACKS = ["COPY (SELECT 1 AS x) TO '{tmp}/out.csv'", "ATTACH '{tmp}/db.duckdb' AS other",
           "SELECT * FROM read_text('/etc/passwd')", "SELECT * FROM read_csv('/etc/hostname')",
           "SELECT * FROM read_parquet('{tmp}/../*/data/goemotions/train.parquet')",
           "COPY (SELECT 1 AS x) TO '{shard}' (FORMAT parquet, USE_TMP_FILE false)",
           "SET enable_external_access = true"]


@pytest.mark.parametrize("sql", ATTACKS)
def test_query_is_read_only_by_default(sql, build_copy, tmp_path):
    shard = build_copy.parents[1] / SHARD
    before = shard.read_bytes()
    sql = sql.format(tmp=tmp_path, shard=shard)
    with pytest.raises(Exception) as info:
        run_query(sql, build_copy)
    message = str(info.value)
    assert "\n" not in message and ("disabled" in message or "locked" in message)
    if "configuration" not in sql and "SET" not in sql:
        assert isinstance(info.value, EmodataError) and "--allow-external" in message
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "db.duckdb").exists()
    assert shard.read_bytes() == before and verify(build_copy) == []
    # the build's own views still answer
    assert run_query("SELECT count(*) FROM train", build_copy)[1][0][0] == Manifest.load(build_copy).data["counts"]["train"]


def test_cli_query_refusal_is_one_line_and_allow_external_opts_out(build_copy, tmp_path, capsys):
    target = tmp_path / "out.csv"
    sql = f"COPY (SELECT count(*) AS n FROM train) TO '{target}'"
    assert main(["query", sql, "--manifest", str(build_copy)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "query refused" in err and not target.exists()
    assert main(["query", sql, "--manifest", str(build_copy), "--allow-external"]) == 0
    assert target.read_text().splitlines()[1] == str(Manifest.load(build_copy).data["counts"]["train"])
    con = connect(build_copy, allow_external=True)
    assert con.execute(f"SELECT count(*) FROM read_csv('{target}')").fetchone()[0] == 1


class _Payload:
    """A pickle that would write a file when unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.write_text, (Path(self.path), "pwned"))


def test_crafted_checkpoint_state_does_not_run_code(tmp_path):
    torch = pytest.importorskip("torch")
    from trainer.checkpoint import load_state

    marker = tmp_path / "pwned"
    folder = tmp_path / "step_00000001"
    folder.mkdir()
    torch.save({"model": {}, "evil": _Payload(marker)}, folder / "state.pt")
    with pytest.raises(EmodataError, match=r"state\.pt: not a plain tensor checkpoint, refused"):
        load_state(folder)
    assert not marker.exists()
    with open(folder / "state.pt", "wb") as handle:  # a plain pickle file, not torch's zip format
        pickle.dump(_Payload(marker), handle)
    with pytest.raises(EmodataError):
        load_state(folder)
    assert not marker.exists()


def test_checkpoint_state_with_numpy_rng_round_trips(tmp_path):
    torch = pytest.importorskip("torch")
    import random

    import numpy as np

    from trainer.checkpoint import load_state, save_checkpoint

    np.random.seed(3)
    state = {"numpy": np.random.get_state(), "python": random.getstate(), "pair": np.random.default_rng(5)
             .bit_generator.state, "w": torch.arange(3.0), "x": np.float64(0.5), "h": np.array([1.5, 2.0])}
    path = save_checkpoint(tmp_path, 1, state, {}, keep=1)
    got = load_state(path)
    expected = np.random.random(4)
    np.random.set_state(got["numpy"])
    assert np.array_equal(np.random.random(4), expected)
    assert got["python"] == state["python"] and got["pair"] == state["pair"] and got["x"] == 0.5
    assert torch.equal(got["w"], state["w"]) and got["h"].dtype == np.float64 and got["h"].tolist() == [1.5, 2.0]
