"""Files several zoo processes update at once (issue #20, item 1): ``zoo lock`` processes sharing
one lock file, and baselines saved side by side, each read-modify-write under one file lock, so no
process loses another's change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from weights_world import FaultyServer, checkpoint_bytes, hashed_name, trained_state
from zoo.weights.lockfile import load_lock

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def server():
    with FaultyServer() as srv:
        srv.piece_delay = 0.25  # each download takes about 2 s, so the three processes overlap
        yield srv


def test_three_concurrent_zoo_lock_processes_keep_all_three_pins(server, tmp_path):
    entries = []
    names = []
    for i in range(3):
        data = checkpoint_bytes(trained_state(seed=10 + i), tmp_path)
        name = hashed_name(f"net{i}", data)
        url = server.serve("/" + name, data, ["sluggish"])
        entries.append(f"- Name: net{i}\n  Metadata:\n    File Size: {len(data)}\n  Weights: {url}\n")
        names.append(name)
    index = tmp_path / "model-index.yml"
    index.write_text("Models:\n" + "".join(entries), encoding="utf-8")
    lock = tmp_path / "metadata" / "weights.lock"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ZOO_PROGRESS": "0"}
    processes = [
        subprocess.Popen([sys.executable, "-m", "zoo", "lock", f"net{i}", "--index", str(index), "--lock-file", str(lock),
                          "--cache-dir", str(tmp_path / "cache")], env=env, cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for i in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], outputs
    pinned = load_lock(lock)
    assert sorted(pinned.entries) == sorted(names), (sorted(pinned.entries), outputs)
    assert all(pinned.entries[n].models == (f"net{i}",) for i, n in enumerate(names))
    leftovers = [p.name for p in lock.parent.iterdir() if p.name != "weights.lock"]
    assert all(name.startswith(".weights.lock") and name.endswith(".lock") for name in leftovers), leftovers
