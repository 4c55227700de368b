"""Sharding (--shard K/N) and merging shard run records back into one run."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from fixtures.runs.world import Outcome, make_run, write_index, write_tolerances

from zoo.errors import InputError
from zoo.judge.gate import run_exit_code
from zoo.index import load_index
from zoo.runs.merge import combine_runs, latest_shard_set, merge_runs
from zoo.judge.policy import load_policy
from zoo.records import FileDigest, JudgedAgainst, ModelCard, SourceRef
from zoo.runs.shard import Shard, parse_shard
from zoo.verify.shard import select_shard


def _cards(names: list[str]) -> list[ModelCard]:
    return [ModelCard(name=n, source=SourceRef("index.yml", i + 1)) for i, n in enumerate(names)]


# --------------------------------------------------------------------------- parse_shard


@pytest.mark.parametrize("text, expected", [("1/1", (1, 1)), ("2/4", (2, 4)), (" 4 / 4 ", (4, 4))])
def test_parse_shard_reads_k_of_n(text: str, expected: tuple[int, int]) -> None:
    shard = parse_shard(text)
    assert shard == Shard(*expected)
    assert str(shard) == f"{expected[0]}/{expected[1]}"


@pytest.mark.parametrize(
    "text, message",
    [
        ("3", "not of the form K/N"),
        ("a/b", "not of the form K/N"),
        ("-1/4", "not of the form K/N"),
        ("0/4", "shards are numbered 1 to 4"),
        ("5/4", "shard 5 does not exist"),
        ("1/0", "at least 1"),
    ],
)
def test_parse_shard_explains_bad_input(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_shard(text)
    assert message in str(caught.value)
    assert "--shard" in str(caught.value)
    assert caught.value.exit_code == 2


# --------------------------------------------------------------------------- select_shard


def test_every_model_lands_in_exactly_one_shard() -> None:
    cards = _cards([f"model_{i:03d}" for i in range(200)])
    for n in (1, 2, 3, 7):
        shards = [select_shard(cards, k, n) for k in range(1, n + 1)]
        names = [c.name for shard in shards for c in shard]
        assert sorted(names) == sorted(c.name for c in cards)
        assert len(names) == len(set(names))
        sizes = [len(shard) for shard in shards]
        assert max(sizes) - min(sizes) <= 1  # balanced


def test_shards_keep_the_given_order() -> None:
    cards = _cards([f"m{i}" for i in range(50)])
    for k in (1, 2, 3):
        chosen = select_shard(cards, k, 3)
        positions = [cards.index(c) for c in chosen]
        assert positions == sorted(positions)


def test_shards_do_not_depend_on_the_index_order() -> None:
    names = [f"net_{i}" for i in range(11)]
    forward, backward = _cards(names), _cards(names[::-1])
    for k in range(1, 4):
        assert {c.name for c in select_shard(forward, k, 3)} == {c.name for c in select_shard(backward, k, 3)}


def test_four_models_split_evenly_over_two_shards() -> None:
    cards = _cards(["mobilenetv2_100", "mobilenetv2_110d", "mobilenetv2_120d", "mobilenetv2_140"])
    assert [c.name for c in select_shard(cards, 1, 2)] == ["mobilenetv2_100", "mobilenetv2_120d"]
    assert [c.name for c in select_shard(cards, 2, 2)] == ["mobilenetv2_110d", "mobilenetv2_140"]


# --------------------------------------------------------------------------- merge


def _world(tmp_path: Path) -> Path:
    write_index(tmp_path)
    write_tolerances(tmp_path)
    return tmp_path


def _outcomes() -> dict[str, Outcome]:
    return {
        "mobilenetv2_100": Outcome(),
        "mobilenetv2_110d": Outcome(top1_delta=-1.15),
        "mobilenetv2_120d": Outcome(accuracy_reason="no ImageNet data configured"),
        "mobilenetv2_140": Outcome(params=6200000),
    }


def _shard_runs(root: Path, n: int) -> list:
    cards = load_index([root / "metadata"]).models
    runs = []
    for k in range(1, n + 1):
        names = {c.name for c in select_shard(cards, k, n)}
        runs.append(make_run(
            root, {name: o for name, o in _outcomes().items() if name in names},
            run_id=f"20250601T12000{k}Z-shard{k}", started=f"2025-06-01T12:0{k}:00+00:00",
            finished=f"2025-06-01T12:1{k}:00+00:00", shard=f"{k}/{n}", host=f"runner-{k}",
        ))
    return runs


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_merge_of_shards_equals_the_unsharded_run(tmp_path: Path, n: int) -> None:
    root = _world(tmp_path)
    whole = make_run(root, _outcomes())
    merged = merge_runs(_shard_runs(root, n)[::-1])  # the order given does not matter
    assert merged.models == whole.models  # same cards, measurements and verdicts, in index order
    assert merged.verdicts() == whole.verdicts()
    assert merged.shard is None
    assert run_exit_code(merged) == run_exit_code(whole) == 1
    assert merged.merge.shards == [f"{k}/{n}" for k in range(1, n + 1)]
    assert merged.merge.missing == []
    assert merged.started == "2025-06-01T12:01:00+00:00"
    assert merged.finished == f"2025-06-01T12:1{n}:00+00:00"


def test_merge_of_shards_of_the_real_pipeline_equals_the_unsharded_run(tmp_path: Path) -> None:
    """zoo.verify.pipeline on tiny timm test models (params and config): shards merged == one run."""
    from zoo.verify.plan import choose_kinds
    from zoo.verify.pipeline import VerifyRequest, run_verify

    folder = tmp_path / "metadata"
    folder.mkdir()
    names = ["test_resnet", "test_efficientnet", "test_byobnet", "test_efficientnet_gn"]
    (folder / "model-index.yml").write_text(
        "Models:\n" + "".join(f"- Name: {n}\n  Metadata:\n    Parameters: {1000 + i}\n    Image Size: '160'\n" for i, n in enumerate(names)),
        encoding="utf-8",
    )
    index = load_index([folder])
    policy = load_policy(None)
    kinds = choose_kinds(["params,config"])

    def verify(cards: list[ModelCard], shard: str | None) -> object:
        request = VerifyRequest(cards=cards, kinds=kinds, policy=policy, results=None, index_paths=index.roots,
                                shard=shard, today=dt.date(2025, 6, 1))
        return run_verify(request)[0]

    whole = verify(index.models, None)
    shards = [verify(select_shard(index.models, k, 3), f"{k}/3") for k in (1, 2, 3)]
    merged = merge_runs(shards)
    assert [m.card.name for m in merged.models] == names
    assert merged.models == whole.models
    assert merged.verdicts() == whole.verdicts()
    assert merged.judged_against == whole.judged_against and merged.judged_against is not None
    assert {v.status for v in merged.verdicts()} >= {"drift"}  # 1000-odd parameters is far off


def test_merge_keeps_common_options_and_notes_the_rest(tmp_path: Path) -> None:
    runs = _shard_runs(_world(tmp_path), 2)
    runs[1] = dataclasses.replace(runs[1], options={**runs[1].options, "batch_size": 64, "shard": "2/2"},
                                  artifacts={"predictions": "predictions.csv"})
    merged = merge_runs(runs)
    assert merged.options["device"] == "cpu"
    assert "batch_size" not in merged.options
    assert merged.merge.options_differ == ["batch_size"]
    assert merged.merge.hosts == ["runner-1", "runner-2"]
    assert merged.artifacts == {f"{runs[1].run_id}/predictions": f"../{runs[1].run_id}/predictions.csv"}
    assert merged.run_id.startswith("merged-") and merged.run_id == merge_runs(runs[::-1]).run_id


def test_merge_notes_missing_shards_and_the_gate_calls_them_incomplete(tmp_path: Path) -> None:
    root = _world(tmp_path)
    runs = _shard_runs(root, 3)
    passing = [dataclasses.replace(r, models=[m for m in r.models if m.card.name == "mobilenetv2_100"]) for r in runs]
    merged = merge_runs([passing[0], passing[2]])
    assert merged.merge.missing == ["2/3"]
    assert all(v.status == "pass" for v in merged.verdicts())
    assert run_exit_code(merged) == 3


def test_a_single_unsharded_run_merges_to_itself(tmp_path: Path) -> None:
    run = make_run(_world(tmp_path), _outcomes())
    assert merge_runs([run]) is run
    assert merge_runs([run, run]) is run


@pytest.mark.parametrize(
    "case, message",
    [
        ("unsharded", "cannot merge unsharded run"),
        ("counts", "different numbers of shards"),
        ("twice", "appears twice"),
        ("model", "is in two shard runs"),
        ("kinds", "shards measured different things"),
        ("empty", "no run records"),
        ("zoo data", "judged against different zoo data: metadata/zoo.yml"),
    ],
)
def test_merge_refuses_records_that_are_not_one_run(tmp_path: Path, case: str, message: str) -> None:
    root = _world(tmp_path)
    one, two = _shard_runs(root, 2)
    records = {
        "unsharded": [one, make_run(root, _outcomes(), run_id="whole")],
        "counts": [one, dataclasses.replace(two, shard="2/3")],
        "twice": [one, dataclasses.replace(one, run_id="another")],
        "model": [one, dataclasses.replace(two, models=two.models + one.models[:1])],
        "kinds": [one, dataclasses.replace(two, measurements_requested=["params"])],
        "empty": [],
        "zoo data": [  # a card changed between two shards of one job
            dataclasses.replace(one, judged_against=JudgedAgainst(cards=[FileDigest("metadata/zoo.yml", "aa" * 32)])),
            dataclasses.replace(two, judged_against=JudgedAgainst(cards=[FileDigest("metadata/zoo.yml", "bb" * 32)])),
        ],
    }[case]
    with pytest.raises(InputError, match=message):
        merge_runs(records)


def test_combine_runs_merges_shards_and_keeps_other_runs_apart(tmp_path: Path) -> None:
    root = _world(tmp_path)
    shards = _shard_runs(root, 2)
    earlier = make_run(root, _outcomes(), run_id="20250501T000000Z-old", started="2025-05-01T00:00:00+00:00",
                       finished="2025-05-01T00:10:00+00:00")
    runs = combine_runs([shards[1], earlier, shards[0]])
    assert [r.run_id for r in runs][0] == "20250501T000000Z-old"
    assert len(runs) == 2
    assert runs[1].merge.shards == ["1/2", "2/2"]


def test_latest_shard_set_takes_the_newest_record_of_each_shard(tmp_path: Path) -> None:
    root = _world(tmp_path)
    first = _shard_runs(root, 2)
    again = [dataclasses.replace(r, run_id=r.run_id + "-again", finished=r.finished.replace("2025-06-01", "2025-06-02")) for r in first]
    chosen = latest_shard_set(first + again[:1])
    assert [r.run_id for r in chosen] == [again[0].run_id, first[1].run_id]
    assert latest_shard_set([]) == []
