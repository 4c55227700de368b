"""Papers with Code's own reader (the ``model-index`` package) reads a card that ``zoo fix`` wrote
to the same models, collections and values as before, except the values changed, which keep
their type (a quoted value stays text, a number stays a number)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import modelindex
import pytest
from click.testing import CliRunner
from fix_world import TODAY, accuracy, config, flops, make_run, params, weights, write_world

from zoo.cli.main import cli


def pwc_reading(card: Path) -> dict[str, Any]:
    """Every model's and collection's fields as model-index reads them."""
    index = modelindex.load(str(card))
    found: dict[str, Any] = {}
    for model in index.models or []:
        found[model.name] = {
            "metadata": dict(model.metadata.data) if model.metadata else {}, "weights": model.weights,
            "collection": model.in_collection, "results": [(r.task, r.dataset, dict(r.metrics)) for r in model.results or []],
        }
    for collection in index.collections or []:
        found[f"collection {collection.name}"] = {"metadata": dict(collection.metadata.data) if collection.metadata else {}}
    return found


def differences(before: dict[str, Any], after: dict[str, Any]) -> dict[tuple[str, str], tuple[Any, Any]]:
    assert before.keys() == after.keys()
    found = {}
    for name, parts in before.items():
        for part, old in parts.items():
            new = after[name][part]
            if part == "metadata":
                assert old.keys() == new.keys()
                found.update({(name, key): (old[key], new[key]) for key in old if old[key] != new[key]})
            elif part == "results":
                for (_, _, a), (_, _, b) in zip(old, new, strict=True):
                    found.update({(name, key): (a[key], b[key]) for key in a if a[key] != b[key]})
            else:
                assert old == new, (name, part)
    return found


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_the_papers_with_code_reader_sees_only_the_changed_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crlf: bool) -> None:
    monkeypatch.chdir(tmp_path)
    card = write_world(tmp_path, name="tiny.md", crlf=crlf)  # model-index reads .md cards' HTML comments
    before = pwc_reading(card)
    run = make_run(tmp_path, {
        "test_efficientnet": [
            *config(224, 0.875, "bilinear"), params(3_438_984), flops(400_000_000),
            *weights("test_efficientnet", size=14_202_999), accuracy("top1", 72.41), accuracy("top5", 90.66),
        ],
    }, kinds=("config", "params", "flops", "weights", "accuracy"))
    result = CliRunner().invoke(cli, ["fix", str(run), "--write", "--today", TODAY.isoformat()], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    changed = differences(before, pwc_reading(card))
    assert changed == {
        ("test_efficientnet", "FLOPs"): (401920448, 500000000),
        ("test_efficientnet", "Parameters"): (3500000, 3400000),
        ("test_efficientnet", "File Size"): (14202571, 14202999),
        ("test_efficientnet", "Top 1 Accuracy"): ("72.95%", "72.41%"),
        ("test_efficientnet", "Top 5 Accuracy"): ("91.0%", "90.7%"),
    }
    assert all(type(old) is type(new) for old, new in changed.values())
