"""``zoo gate``: re-judging stored runs against the current claims, tolerances and waivers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fixtures.runs.world import CLAIMS, TODAY, Outcome, enter_world, make_run, write_index, write_tolerances

from zoo.cli import gate_cmd
from zoo.judge.gate import run_exit_code
from zoo.index import load_index
from zoo.records import RunRecord
from zoo.runs.store import save_run
from zoo.verify.shard import select_shard

DRIFT = {"mobilenetv2_110d": Outcome(top1_delta=-1.15)}
NO_DATA = "no ImageNet data configured (set ZOO_IMAGENET)"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An index and tolerances under tmp_path/metadata, with tmp_path as the working folder."""
    return enter_world(tmp_path, monkeypatch)


def _outcomes(**changes: Outcome) -> dict[str, Outcome]:
    outcomes = {name: Outcome() for name in CLAIMS}
    outcomes.update(changes)
    return outcomes


def _save(run: RunRecord, root: Path) -> Path:
    return save_run(run, root / "runs")


def _gate(*args: str) -> Result:
    return CliRunner().invoke(gate_cmd.command, ["--today", TODAY.isoformat(), *args], catch_exceptions=False)


def _run_and_gate(root: Path, outcomes: dict[str, Outcome], *args: str) -> Result:
    return _gate(str(_save(make_run(root, outcomes), root)), *args)


def test_pass_exits_0(world: Path) -> None:
    result = _run_and_gate(world, _outcomes())
    assert result.exit_code == 0, result.output
    assert "36 pass" in result.output
    assert result.output.rstrip().endswith("gate: pass (exit 0): every gating claim passes or is waived; every requested measurement was made")


def test_gating_drift_exits_1_and_names_the_claim_and_its_line(world: Path) -> None:
    result = _run_and_gate(world, _outcomes(**DRIFT))
    assert result.exit_code == 1, result.output
    assert "drift: the claim is off" in result.output
    line = next(line for line in result.output.splitlines() if line.startswith("  mobilenetv2_110d"))
    assert "claimed 75.05%" in line and "measured 73.90 %" in line and "(metadata/zoo.yml:34)" in line
    assert "gate: drift (exit 1)" in result.output


def test_live_waiver_turns_drift_into_pass(world: Path) -> None:
    write_tolerances(world, waivers=[{"model": "mobilenetv2_110d", "metric": "top1", "reason": "known, retrained", "expires": "2025-12-31"}])
    result = _run_and_gate(world, _outcomes(**DRIFT))
    assert result.exit_code == 0, result.output
    assert "1 waived" in result.output


def test_expired_waiver_no_longer_waives(world: Path) -> None:
    write_tolerances(world, waivers=[{"model": "mobilenetv2_110d", "metric": "top1", "reason": "known, retrained", "expires": "2025-05-31"}])
    path = _save(make_run(world, _outcomes(**DRIFT)), world)
    expired = _gate(str(path))
    assert expired.exit_code == 1, expired.output
    assert "waiver expired on 2025-05-31" in expired.output
    still_live = CliRunner().invoke(gate_cmd.command, [str(path), "--today", "2025-05-31"])
    assert still_live.exit_code == 0, still_live.output


def test_unavailable_measurement_is_incomplete_exit_3(world: Path) -> None:
    result = _run_and_gate(world, _outcomes(mobilenetv2_140=Outcome(accuracy_reason=NO_DATA)))
    assert result.exit_code == 3, result.output
    assert "incomplete: a requested measurement could not be made" in result.output
    assert NO_DATA in result.output
    assert "drift:" not in result.output and "error:" not in result.output


def test_drift_wins_over_incomplete_and_both_causes_are_listed(world: Path) -> None:
    result = _run_and_gate(world, _outcomes(**DRIFT, mobilenetv2_140=Outcome(accuracy_reason=NO_DATA)))
    assert result.exit_code == 1, result.output
    assert "drift: the claim is off" in result.output
    assert "incomplete: a requested measurement could not be made" in result.output


def test_broken_input_measurement_is_error_exit_2(world: Path) -> None:
    broken = Outcome(weights_error="checkpoint does not match the architecture: missing key 'classifier.weight'")
    result = _run_and_gate(world, _outcomes(mobilenetv2_100=broken, mobilenetv2_140=Outcome(accuracy_reason=NO_DATA)))
    assert result.exit_code == 2, result.output
    assert "error: the input is bad" in result.output
    assert "missing key 'classifier.weight'" in result.output


def test_unrequested_measurements_do_not_make_the_run_incomplete(world: Path) -> None:
    run = make_run(world, _outcomes(), kinds=["config", "params", "flops", "weights", "throughput"])
    run = dataclasses.replace(run, models=[
        dataclasses.replace(m, measurements=[x for x in m.measurements if x.metric not in ("top1", "top5")]) for m in run.models
    ])
    result = _gate(str(_save(run, world)))
    assert result.exit_code == 0, result.output
    assert "0 unverified" in result.output and "(8 not asked for)" in result.output  # reported apart, not incomplete


@pytest.mark.parametrize(
    "case, message",
    [
        ("damaged run", "cannot read run record"),
        ("run not UTF-8", "cannot read run record"),
        ("bad field", "run record field"),
        ("bad tolerances", "tolerances.yml:2"),
        ("tolerances not UTF-8", "tolerances.yml:2:9: tolerances file is not UTF-8"),
        ("bad gate metric", "--gate-metrics: unknown metric 'top7'"),
        ("bad index", "malformed model-index YAML"),
        ("no runs", "no runs in runs"),
        ("no index", "--stored-claims"),
    ],
)
def test_bad_input_exits_2_with_a_message_for_people(world: Path, case: str, message: str) -> None:
    path = _save(make_run(world, _outcomes()), world)
    args: list[str] = [str(path)]
    if case == "damaged run":
        path.write_text(path.read_text()[:200], encoding="utf-8")
    elif case == "run not UTF-8":
        path.write_bytes(path.read_bytes().replace(b'"models"', b'"mod\xffels"', 1))
    elif case == "bad field":
        data = json.loads(path.read_text())
        data["models"][0]["verdicts"][0]["status"] = "fine"
        path.write_text(json.dumps(data), encoding="utf-8")
    elif case == "bad tolerances":
        (world / "metadata" / "tolerances.yml").write_text("tolerances:\n  top1: {relative: -1}\n", encoding="utf-8")
    elif case == "tolerances not UTF-8":
        (world / "metadata" / "tolerances.yml").write_bytes(b"tolerances:\n  top1: \xe9\n")
    elif case == "bad gate metric":
        args += ["--gate-metrics", "top1,top7"]
    elif case == "bad index":
        (world / "metadata" / "zoo.yml").write_text("Models:\n- Name: [unclosed\n", encoding="utf-8")
    elif case == "no runs":
        args = ["--results", "runs"]
        for child in (world / "runs").iterdir():
            (child / "run.json").unlink()
    elif case == "no index":
        (world / "metadata" / "model-index.yml").rename(world / "index.yml")
        for name in ("zoo.yml", "tolerances.yml"):
            (world / "metadata" / name).unlink()
        (world / "metadata").rmdir()
    result = CliRunner().invoke(gate_cmd.command, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_gate_judges_against_the_current_claims_not_the_stored_verdicts(world: Path) -> None:
    path = _save(make_run(world, _outcomes(**DRIFT)), world)
    assert _gate(str(path)).exit_code == 1
    fixed = dict(CLAIMS)
    fixed["mobilenetv2_110d"] = fixed["mobilenetv2_110d"][:3] + ("73.9%", fixed["mobilenetv2_110d"][4])
    write_index(world, fixed)  # the card now claims what was measured
    assert _gate(str(path)).exit_code == 0
    # ... and the stored claims still drift, when asked for.
    assert _gate(str(path), "--stored-claims").exit_code == 1


def test_gate_metrics_choose_what_fails(world: Path) -> None:
    path = str(_save(make_run(world, _outcomes(mobilenetv2_140=Outcome(params=6200000))), world))
    default = _gate(path)
    assert default.exit_code == 0, default.output
    assert "drift in metrics that do not gate (reported only):" in default.output
    assert _gate(path, "--gate-metrics", "parameters").exit_code == 1
    write_tolerances(world, gate=["top1", "parameters"])
    assert _gate(path).exit_code == 1
    top1_drift = str(_save(make_run(world, _outcomes(**DRIFT), run_id="second"), world))
    assert _gate(top1_drift, "--gate-metrics", "none").exit_code == 0


def test_models_gone_from_the_index_are_named_and_not_judged(world: Path) -> None:
    path = _save(make_run(world, _outcomes(**DRIFT)), world)
    write_index(world, {k: v for k, v in CLAIMS.items() if k != "mobilenetv2_110d"})
    result = _gate(str(path))
    assert result.exit_code == 0, result.output
    assert "not judged (no longer in the index): mobilenetv2_110d" in result.output
    assert "3 models" in result.output


def test_gate_with_no_run_takes_the_latest_and_writes_junit(world: Path) -> None:
    _save(make_run(world, _outcomes(), run_id="20250101T000000Z-aaaaaa", finished="2025-01-01T00:10:00+00:00"), world)
    _save(make_run(world, _outcomes(**DRIFT), run_id="20250601T000000Z-bbbbbb"), world)
    result = _gate("--junit", "out/gate.xml")
    assert result.exit_code == 1, result.output
    assert "run 20250601T000000Z-bbbbbb" in result.output
    text = (world / "out" / "gate.xml").read_text(encoding="utf-8")
    assert 'failures="1"' in text and "mobilenetv2_110d" in text


def _shards(root: Path, outcomes: dict[str, Outcome], n: int) -> list[Path]:
    cards = load_index([root / "metadata"]).models
    paths = []
    for k in range(1, n + 1):
        names = {c.name for c in select_shard(cards, k, n)}
        run = make_run(root, {m: o for m, o in outcomes.items() if m in names}, run_id=f"20250601T12000{k}Z-s{k}", shard=f"{k}/{n}")
        paths.append(_save(run, root).parent)
    return paths


@pytest.mark.parametrize("outcomes, code", [(_outcomes(), 0), (_outcomes(**DRIFT), 1),
                                            (_outcomes(mobilenetv2_100=Outcome(accuracy_reason=NO_DATA)), 3)])
def test_gate_merges_shards_to_the_same_outcome_as_one_run(world: Path, outcomes: dict[str, Outcome], code: int) -> None:
    whole = _gate(str(_save(make_run(world, outcomes, run_id="whole"), world)))
    sharded = _gate(*map(str, _shards(world, outcomes, 2)))
    assert whole.exit_code == sharded.exit_code == code, sharded.output
    assert "merged-" in sharded.output and "4 models, 36 claims" in sharded.output


def test_a_missing_shard_is_incomplete(world: Path) -> None:
    paths = _shards(world, _outcomes(), 3)
    result = _gate(str(paths[0]), str(paths[2]))
    assert result.exit_code == 3, result.output
    assert "missing shards (incomplete): 2/3" in result.output


def test_gate_agrees_with_the_stored_verdicts_when_nothing_changed(world: Path) -> None:
    cases = (_outcomes(), _outcomes(**DRIFT), _outcomes(mobilenetv2_140=Outcome(accuracy_reason=NO_DATA)))
    for number, outcomes in enumerate(cases):
        run = make_run(world, outcomes, run_id=f"run-{number}")
        assert _gate(str(_save(run, world))).exit_code == run_exit_code(run) == (0, 1, 3)[number]


def test_gate_is_registered_in_the_zoo_command(world: Path) -> None:
    from zoo.cli.main import cli

    result = CliRunner().invoke(cli, ["gate", str(_save(make_run(world, _outcomes(**DRIFT)), world)), "--today", "2025-06-01"])
    assert result.exit_code == 1, result.output
    assert "report" in CliRunner().invoke(cli, ["--help"]).output


def test_download_failure_is_incomplete_not_error(world: Path) -> None:
    reason = "weights unreachable: connection refused to example.invalid"
    result = _run_and_gate(world, _outcomes(mobilenetv2_100=Outcome(weights_unavailable=reason)))
    assert result.exit_code == 3, result.output
    lines = [line for line in result.output.splitlines() if "connection refused" in line]
    assert len(lines) == 4  # weights, file size, and top-1/top-5 that could not run without them
    assert "error:" not in result.output


def test_a_bad_file_elsewhere_in_the_index_fails_the_gate_as_bad_input_and_is_named(world: Path) -> None:
    """The run's own cards are judged as ever; the file that cannot be read is the index's bad input."""
    (world / "metadata" / "model-index.yml").write_text("Import:\n- zoo.yml\n- extra.yml\n", encoding="utf-8")
    (world / "metadata" / "extra.yml").write_text("Models:\n- Name: [unclosed\n", encoding="utf-8")
    result = _run_and_gate(world, _outcomes())
    assert result.exit_code == 2, result.output
    assert "36 pass" in result.output and "extra.yml:2:9" in result.output and "malformed model-index YAML" in result.output
