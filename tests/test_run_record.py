"""Run records: schema on disk, atomic publication, clear errors, exit codes from verdicts."""

from __future__ import annotations

import json

import pytest

from zoo.errors import InputError
from zoo.judge.exit_codes import exit_code
from zoo.records import (
    SCHEMA_VERSION, Claim, Environment, Measurement, ModelCard, ModelResult, RunRecord, SourceRef, Tolerance, Uncertainty, Verdict,
)
from zoo.runs.store import latest_run, list_runs, load_run, publish, save_run, staging

SRC = SourceRef("metadata/zoo.yml", 12)


def environment():
    return Environment(python="3.11", platform="linux", hostname="h", cpu="cpu", cpu_threads=2, torch="2.x", packages={"timm": "1.0"})


def record(run_id="20260101T000000Z-abcdef", verdicts=None):
    claim = Claim("top1", "Top 1 Accuracy", 72.95, "72.95%", SRC, "%", 0.01)
    measurement = Measurement(
        metric="top1", status="ok", value=72.9, unit="%", method="timm eval",
        conditions={"images": 50000, "device": "cpu"}, uncertainty=Uncertainty("wilson-95", 72.5, 73.3, 0.95),
    )
    verdict = Verdict(model="m", metric="top1", status="pass", explanation="ok", claim=claim, measurement=measurement,
                      difference=-0.05, relative_difference=-0.05 / 72.95, tolerance=Tolerance("top1", absolute=0.25, gate=True), gating=True)
    card = ModelCard(name="m", source=SRC, collection="C", claims={"top1": claim}, metadata={"LR": 0.1})
    return RunRecord(
        run_id=run_id, started="2026-01-01T00:00:00+00:00", finished="2026-01-01T00:01:00+00:00",
        environment=environment(), index=["metadata/model-index.yml"], measurements_requested=["accuracy"],
        models=[ModelResult(card=card, measurements=[measurement], verdicts=verdicts if verdicts is not None else [verdict])],
    )


def test_round_trip_and_schema_keys(tmp_path):
    path = save_run(record(), tmp_path)
    assert path == tmp_path / "20260101T000000Z-abcdef" / "run.json"
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION == 3
    assert set(data) >= {"run_id", "started", "finished", "environment", "index", "measurements_requested", "models", "artifacts"}
    model = data["models"][0]
    assert model["card"]["claims"]["top1"]["source"] == {"path": "metadata/zoo.yml", "line": 12}
    assert model["measurements"][0]["uncertainty"]["low"] == 72.5
    assert model["verdicts"][0]["status"] == "pass"
    assert set(data["environment"]) >= {"python", "torch", "packages", "cpu", "cpu_threads", "hostname", "cuda", "gpus", "git_commit"}
    assert load_run(path) == record()
    assert load_run(path.parent) == record()


def test_interrupted_run_leaves_nothing_behind(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with staging(tmp_path, "r1") as folder:
            (folder / "predictions.npz").write_bytes(b"half")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    assert list_runs(tmp_path) == []


def test_publish_moves_the_folder_into_place_with_artifacts(tmp_path):
    with staging(tmp_path, "20260101T000000Z-abcdef") as folder:
        (folder / "predictions.npz").write_bytes(b"data")
        path = publish(record(), folder)
    assert sorted(p.name for p in path.parent.iterdir()) == ["predictions.npz", "run.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["20260101T000000Z-abcdef"]
    assert latest_run(tmp_path) == path


def test_damaged_records_are_named(tmp_path):
    bad = tmp_path / "run.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="cannot read run record"):
        load_run(bad)
    data = json.loads(json.dumps({"schema_version": 1, "run_id": 3}))
    bad.write_text(json.dumps(data))
    with pytest.raises(InputError, match="run record field"):
        load_run(bad)
    bad.write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(InputError, match="schema 99"):
        load_run(bad)
    with pytest.raises(InputError, match="no run record"):
        load_run(tmp_path / "missing")


def v(status, metric="top1", gating=True):
    return Verdict(model="m", metric=metric, status=status, explanation="", gating=gating)


@pytest.mark.parametrize(
    "verdicts,code",
    [
        ([v("pass"), v("waived")], 0),
        ([v("pass"), v("drift")], 1),
        ([v("drift", gating=False)], 0),
        ([v("unverified")], 3),
        ([v("drift"), v("unverified"), v("error")], 1),
        ([v("error"), v("unverified")], 2),
    ],
)
def test_exit_codes(verdicts, code):
    assert exit_code(verdicts) == code


def test_unrequested_measurements_do_not_make_a_run_incomplete():
    verdicts = [v("pass", "parameters"), v("unverified", "top1")]
    assert exit_code(verdicts, {"parameters"}) == 0
    assert exit_code(verdicts, {"parameters", "top1"}) == 3
