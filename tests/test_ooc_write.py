"""Shard files are written by the task that encoded them when it shares the client's disk (issue #18
item 3); the client only assembles the manifest. Same bytes either way."""
from __future__ import annotations

import emodata.freeze as freeze_module
from emodata.build import build
from emodata.engines.local import LocalEngine
from emodata.shards import EncodedShard, WrittenShard

from tests.conftest import sample_config


class RemoteLikeEngine(LocalEngine):
    """In-process, but behaves like a remote cluster: tasks send their bytes back."""

    shares_disk = False


def test_tasks_write_their_shard_files_and_the_bytes_equal_the_client_written_ones(tmp_path, monkeypatch):
    kinds = []
    put = freeze_module._put

    def recording(tmp, rel, encoded, *args):
        kinds.append(type(encoded))
        return put(tmp, rel, encoded, *args)

    monkeypatch.setattr(freeze_module, "_put", recording)
    (task_written,) = build(sample_config(tmp_path / "tasks", cache_dir=str(tmp_path / "cache"), shard_rows=9))
    record_files = len([s for s in task_written.manifest["shards"] if s["role"] != "pairs"])
    assert kinds.count(WrittenShard) == record_files + 1 and record_files > 3  # + the pairs shard, streamed here
    assert EncodedShard not in kinds
    kinds.clear()
    monkeypatch.setattr("emodata.build.open_engine", lambda config: RemoteLikeEngine())
    (client_written,) = build(sample_config(tmp_path / "client", cache_dir=str(tmp_path / "cache"), shard_rows=9))
    assert kinds.count(WrittenShard) == 1 and kinds.count(EncodedShard) == record_files  # pairs: written here
    assert client_written.manifest_path.read_bytes() == task_written.manifest_path.read_bytes()
    assert (client_written.root / "checksums.sha1").read_bytes() == (task_written.root / "checksums.sha1").read_bytes()
