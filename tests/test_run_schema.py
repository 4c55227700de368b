"""Version-1 run records (written by zoo before the schema bump) still load, upgraded to v2.

The files in ``tests/fixtures/runs/v1/`` were written by the version-1 code itself: shards 1/3
and 2/3 of ``zoo verify --all --only params,flops,config`` on ``metadata/`` (shard 2 with an
explicit ``--tolerances``), their merge, and the gate's re-judging of the merge.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from zoo.errors import InputError
from zoo.judge.gate import missing_shards, rejudge, run_exit_code
from zoo.judge.policy import load_policy
from zoo.records import SCHEMA_VERSION, GateInfo, MergeInfo
from zoo.runs.merge import merge_runs
from zoo.runs.schema import MERGE_KEYS_V1, upgrade
from zoo.runs.store import load_run, save_run
from zoo.views.html import render_html
from zoo.views.markdown import render_markdown

V1 = Path(__file__).parent / "fixtures" / "runs" / "v1"


def raw(name: str) -> dict:
    return json.loads((V1 / name).read_text(encoding="utf-8"))


def test_the_fixtures_are_version_1_with_the_old_side_channel() -> None:
    merged = raw("merged.json")
    assert merged["schema_version"] == 1
    assert merged["options"]["merged_shards"] == "1/3,2/3" and merged["options"]["shards_missing"] == "3/3"
    assert raw("gated.json")["options"]["judged_on"] == "2026-12-01"


def test_a_v1_shard_record_loads_and_gains_the_flops_convention() -> None:
    run = load_run(V1 / "shard-1-of-3.json")
    assert run.schema_version == SCHEMA_VERSION == 3 and run.merge is None and run.gate is None
    flops = [v for v in run.verdicts() if v.metric == "flops"]
    assert flops and all(v.convention for v in flops)
    for result in run.models:
        for verdict in result.verdicts:
            # the convention named is the alternative holding the value the v1 verdict compared with
            if verdict.convention:
                chosen = next(a for a in verdict.measurement.alternatives if a.convention == verdict.convention)
                assert chosen.value == verdict.compared_value


def test_a_v1_merged_record_has_typed_merge_facts() -> None:
    run = load_run(V1 / "merged.json")
    assert run.merge == MergeInfo(
        merged_from=raw("merged.json")["options"]["merged_from"].split(","),
        shards=["1/3", "2/3"],
        missing=["3/3"],
        hosts=[],
        options_differ=["tolerances"],
    )
    assert not set(MERGE_KEYS_V1) & set(run.options)
    assert missing_shards(run) == ["3/3"] and run_exit_code(run) == 3
    text = render_markdown([run])
    assert "shards 1/3,2/3" in text and "**Missing shards:** 3/3" in text
    page = " ".join(render_html([run]).split())
    assert "(shards 1/3, 2/3; missing 3/3)" in page and "<th>options differing between shards</th><td>tolerances</td>" in page


def test_a_v1_gated_record_has_typed_gate_facts() -> None:
    run = load_run(V1 / "gated.json")
    assert run.gate == GateInfo(gate_metrics=["top1", "top5"], judged_on="2026-12-01")
    assert "judged_on" not in run.options and "gate_metrics" not in run.options
    assert run.merge is not None and run.merge.missing == ["3/3"]


def test_v2_records_keep_merge_and_gate_through_disk(tmp_path: Path) -> None:
    shards = [load_run(V1 / "shard-1-of-3.json")]
    merged = merge_runs(shards)
    gated = rejudge(merged, load_policy(None), today=dt.date(2026, 12, 2)).run
    again = load_run(save_run(gated, tmp_path))
    assert again == gated and again.gate == GateInfo(["top1", "top5"], "2026-12-02")
    assert again.merge.shards == ["1/3"] and again.merge.missing == ["2/3", "3/3"]


def test_upgrade_leaves_its_input_alone_and_refuses_unknown_versions(tmp_path: Path) -> None:
    data = raw("merged.json")
    before = copy.deepcopy(data)
    assert upgrade(data)["schema_version"] == SCHEMA_VERSION
    assert data == before
    with pytest.raises(ValueError):
        upgrade({"schema_version": 4})
    future = tmp_path / "run.json"
    future.write_text(json.dumps({**data, "schema_version": 4}), encoding="utf-8")
    with pytest.raises(InputError, match="schema 4"):
        load_run(future)


@pytest.mark.parametrize("alternatives", [5, True, 1.5, {"value": 1}])
def test_a_damaged_v1_verdict_is_named_by_validation_not_a_crash(tmp_path: Path, alternatives) -> None:
    # "Damaged input is passed on unchanged for validation to name the bad field": a v1 record
    # whose measurement alternatives are not a list must be bad input (exit 2), not a TypeError (4).
    data = raw("gated.json")
    verdict = data["models"][0]["verdicts"][0]
    verdict.pop("convention", None)
    verdict["compared_value"] = 1.0
    verdict["measurement"] = {**(verdict.get("measurement") or {}), "alternatives": alternatives}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="run record field"):
        load_run(path)
