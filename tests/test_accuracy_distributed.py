"""`torchrun --nproc-per-node 2` on gloo scores disjoint shards and merges them into
exactly the single-process result, on every rank."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import fast_eval_options
from accuracy_world import TORCHRUN_CASES, torchrun_models, write_noise_folders

from zoo.measure.accuracy import distributed
from zoo.runs.predictions import read_predictions
from zoo.measure.accuracy.measure import measure_accuracy
from zoo.records import to_json_dict

WORLD = Path(__file__).with_name("accuracy_world.py")


def test_shards_are_disjoint_cover_everything_and_are_not_padded():
    positions = np.arange(3, 3 + 23)
    shards = [distributed.shard(positions, distributed.DistContext(rank, 4, "gloo")) for rank in range(4)]
    assert [len(s) for s in shards] == [6, 6, 6, 5]
    assert np.array_equal(np.concatenate(shards), positions)
    assert distributed.shard(positions, distributed.DistContext()) is positions
    with pytest.raises(RuntimeError, match="rank 1 returned 4 results for a shard of 5"):
        distributed.merge_blocks([np.zeros(5), np.zeros(4)], [5, 5])


@pytest.mark.slow
def test_torchrun_two_ranks_on_gloo_equal_one_process(tmp_path):
    data = write_noise_folders(tmp_path / "val", classes=5, per_class=7)  # 35 images: uneven shards
    out = tmp_path / "ranks"
    env = dict(
        os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([str(WORLD.parent.parent), str(WORLD.parent)])
    )
    env.pop("WORLD_SIZE", None)
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        str(WORLD),
        str(data),
        str(out),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]

    for case, (_, limit) in TORCHRUN_CASES.items():
        single = measure_accuracy(
            torchrun_models(), fast_eval_options(data, batch_size=5, limit=limit, device="cpu"), tmp_path / case
        )
        expected = {k: [to_json_dict(m) for m in v] for k, v in single.measurements.items()}
        for rank in (0, 1):
            payload = json.loads((out / case / f"rank{rank}.json").read_text())
            assert payload["world_size"] == 2 and payload["backend"] == "gloo"
            assert payload["artifacts"] == {"predictions": "predictions.parquet"}
            for model in ("a", "b"):
                for got, want in zip(payload["measurements"][model], expected[model]):
                    got, want = dict(got), dict(want)
                    got_conditions, want_conditions = got.pop("conditions"), want.pop("conditions")
                    assert got == want  # value, interval, method, notes
                    assert got_conditions["world_size"] == 2 and want_conditions["world_size"] == 1
                    for key in ("images", "correct", "dataset_fingerprint", "transform", "unreadable", "limit"):
                        assert got_conditions[key] == want_conditions[key]
        merged = read_predictions(out / case / "predictions.parquet")
        alone = read_predictions(tmp_path / case / "predictions.parquet")
        for model in ("a", "b"):
            assert merged[model].names == alone[model].names
            assert np.array_equal(merged[model].labels, alone[model].labels)
            assert np.array_equal(merged[model].topk, alone[model].topk)
        assert len(merged["a"].names) == (limit or 35) == len(set(merged["a"].names))
