"""The report world's run records have the shapes the real pipeline writes.

``tests/fixtures/runs/world.py`` makes measurements by hand, so views and the gate can be
tested on every verdict. Each of its measurements is held here against a measurement zoo
made: params, FLOPs and the config from a record ``zoo verify`` wrote
(``fixtures/runs/v1/shard-1-of-3.json``), the rest measured now on the tiny test worlds.
Same unit, same kind of value, the same uncertainty kind, conditions and FLOPs conventions
named the way the pipeline names them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accuracy_world import SCORED, write_noise_folders
from bench_world import IMAGE_SIDE
from conftest import TinyNet, card, accuracy_entry, fast_bench_options, fast_eval_options, fast_fetch_options, measured_flops, measured_throughput
from fixtures.runs.world import CLAIMS, Outcome, measurements
from weights_world import FaultyServer, checkpoint_bytes, hashed_name, trained_state
from zoo.measure.accuracy.measure import measure_accuracy
from zoo.measure.weights import measure_weights
from zoo.records import Measurement
from zoo.runs.store import load_run

V1_SHARD = Path(__file__).parent / "fixtures" / "runs" / "v1" / "shard-1-of-3.json"


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> dict[str, Measurement]:
    """metric -> a measurement the pipeline made."""
    found = {m.metric: m for m in load_run(V1_SHARD).models[0].measurements}
    found["flops"] = measured_flops(card(image_size=224, crop_pct=0.875), TinyNet().eval())  # today's counter and names
    tmp = tmp_path_factory.mktemp("real")
    with FaultyServer() as server:
        data = checkpoint_bytes(trained_state(), tmp)
        url = server.serve(f"/{hashed_name('tiny', data)}", data)
        found.update({m.metric: m for m in measure_weights(card("tiny", weights=url, file_size=len(data)), TinyNet(), fast_fetch_options(tmp)).measurements})
    found.update({m.metric: m for m in measured_throughput(card(image_size=IMAGE_SIDE), TinyNet(), fast_bench_options())})
    root = write_noise_folders(tmp / "val", classes=5, per_class=2)
    scored = measure_accuracy([accuracy_entry(card(**SCORED), TinyNet(5))], fast_eval_options(root), None)
    found.update({m.metric: m for m in scored.measurements["tiny"]})
    assert all(m.status == "ok" for m in found.values()), {m.metric: m.reason for m in found.values() if m.status != "ok"}
    return found


def _kind(value: object) -> str:
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_world_measurements_have_the_pipelines_shape(name: str, real: dict[str, Measurement]) -> None:
    for made in measurements(name, Outcome()):
        truth = real[made.metric]
        assert made.unit == truth.unit, made.metric
        assert _kind(made.value) == _kind(truth.value), made.metric
        assert isinstance(made.value, int) == isinstance(truth.value, int), made.metric
        assert set(made.conditions) <= set(truth.conditions), (made.metric, set(made.conditions) - set(truth.conditions))
        assert (made.uncertainty.kind if made.uncertainty else None) == (truth.uncertainty.kind if truth.uncertainty else None)
        conventions = {a.convention for a in truth.alternatives}
        assert {a.convention for a in made.alternatives} <= conventions, made.metric
    weights = next(m for m in measurements(name, Outcome()) if m.metric == "weights")
    assert re.fullmatch(r"[0-9a-f]{64}", str(weights.value)) and weights.conditions["sha256"] == weights.value
