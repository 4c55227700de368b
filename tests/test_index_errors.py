"""Bad input is named clearly (file, line and column, model, field, what to do), and is that
file's or that card's problem: the rest of the index is still read."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from index_worlds import line_of, model_yaml, write
from zoo.errors import InputError, UnknownModelError
from zoo.index import load_index


def only_problem(index):
    """The one problem of ``index`` (of a file, or of a card), as ``pytest.raises`` would give it."""
    found = list(index.problems) + [p for card in index.models for p in card.problems]
    assert len(found) == 1, [str(p) for p in found]
    return SimpleNamespace(value=found[0])


def test_malformed_yaml_names_file_line_and_column(tmp_path):
    path = write(tmp_path / "bad.yml", "Models:\n- Name: a\n  Metadata: {FLOPs: 1\n")
    info = only_problem(load_index([path]))
    message = str(info.value)
    assert str(path.name) in message and "malformed" in message
    assert info.value.source.line in (3, 4) and info.value.column is not None


def test_malformed_yaml_inside_markdown_comment_reports_the_file_line(tmp_path):
    path = write(tmp_path / "card.md", "# T\n\ntext\n<!--\nType: model-index\nModels:\n- Name: a\n  Metadata: [unclosed\n-->\n")
    info = only_problem(load_index([path]))
    assert info.value.source.path.endswith("card.md")
    assert info.value.source.line >= line_of(path, "Metadata: [unclosed")


def test_model_without_name(tmp_path):
    path = write(tmp_path / "i.yml", "Models:\n- Name: ok\n- Metadata:\n    FLOPs: 1\n")
    index = load_index([path])
    info = only_problem(index)
    assert index.names() == ["ok"]
    assert info.value.source.line == line_of(path, "- Metadata:")
    assert info.value.field == "Name" and "i.yml:3" in str(info.value)


@pytest.mark.parametrize(
    "field,value",
    [("Parameters", "'lots'"), ("FLOPs", "1.5"), ("File Size", "[1, 2]")],
)
def test_claim_that_is_not_a_number_names_file_line_model_field(tmp_path, field, value):
    text = f"Models:\n- Name: tiny\n  Metadata:\n    {field}: {value}\n    Image Size: 224\n"
    path = write(tmp_path / "i.yml", text)
    index = load_index([path])
    info = only_problem(index)
    assert list(index.get("tiny").claims) == ["image_size"]  # the card is read, without the claim it cannot read
    message = info.value.message
    assert f"i.yml:{line_of(path, field + ':')}" in message
    assert "'tiny'" in message and repr(field) in message


def test_accuracy_that_is_not_a_percentage(tmp_path):
    text = "Models:\n- Name: tiny\n  Results:\n  - Dataset: ImageNet\n    Metrics:\n      Top 1 Accuracy: 172%\n"
    path = write(tmp_path / "i.yml", text)
    info = only_problem(load_index([path]))
    assert "Top 1 Accuracy" in info.value.message and info.value.metric == "top1"
    assert info.value.source.line == 6


def test_same_model_twice_names_both_places(tmp_path):
    write(tmp_path / "a.yml", model_yaml())
    b = write(tmp_path / "b.yml", model_yaml().replace("- Name: Tiny\n", "- Name: Tiny2\n").replace("In Collection: Tiny", "In Collection: Tiny2"))
    root = write(tmp_path / "model-index.yml", "Import: [a.yml, b.yml]\n")
    index = load_index([root])
    info = only_problem(index)
    assert index.get("test_efficientnet").source.path.endswith("a.yml")  # the first stays
    message = str(info.value)
    a_line = line_of(tmp_path / "a.yml", "- Name: test_efficientnet")
    assert f"a.yml:{a_line}" in message and f"b.yml:{line_of(b, '- Name: test_efficientnet')}" in message


def test_import_that_matches_nothing(tmp_path):
    write(tmp_path / "a.yml", model_yaml())
    root = write(tmp_path / "model-index.yml", "Import:\n- missing/*.yml\n- a.yml\n")
    index = load_index([root])
    info = only_problem(index)
    assert "missing/*.yml" in str(info.value) and index.names() == ["test_efficientnet"]
    assert info.value.source.line == 1 and info.value.field == "Import"


def test_import_loop_is_named(tmp_path):
    write(tmp_path / "a.yml", "Import: [b.yml]\n")
    write(tmp_path / "b.yml", "Import: [a.yml]\n")
    info = only_problem(load_index([tmp_path / "a.yml"]))
    assert "loops back to" in str(info.value) and "a.yml" in str(info.value)


def test_unknown_collection(tmp_path):
    path = write(tmp_path / "i.yml", "Models:\n- Name: m\n  In Collection: Nope\n  Metadata:\n    Parameters: 1000\n")
    index = load_index([path])
    info = only_problem(index)
    assert "unknown collection 'Nope'" in info.value.message and "model 'm'" in info.value.message
    assert info.value.source.line == 3 and index.get("m").number("parameters") == 1000


def test_folder_without_root_and_missing_path(tmp_path):
    with pytest.raises(InputError, match="has no model-index"):
        load_index([tmp_path])
    with pytest.raises(InputError, match="does not exist"):
        load_index([tmp_path / "nope.yml"])


def test_markdown_without_index_data(tmp_path):
    index = load_index([write(tmp_path / "card.md", "# Just prose\n<!-- a comment -->\n")])
    assert "no model-index data" in str(only_problem(index).value) and index.models == []


def test_unknown_model_lists_known_ones(tmp_path):
    index = load_index([write(tmp_path / "i.yml", model_yaml())])
    with pytest.raises(UnknownModelError, match="test_efficientnet"):
        index.get("nope")
    with pytest.raises(InputError, match="--all"):
        index.select([], all_models=False)


def test_weights_must_be_one_url(tmp_path):
    path = write(tmp_path / "i.yml", "Models:\n- Name: m\n  Weights: [a.pth, b.pth]\n")
    info = only_problem(load_index([path]))
    assert "expected one URL" in info.value.message
    assert info.value.source.line == 3 and info.value.field == "Weights"


def test_an_index_without_models_cannot_verify_all(tmp_path):
    index = load_index([write(tmp_path / "i.yml", "Collections:\n- Name: Empty\n")])
    with pytest.raises(InputError, match="defines no models"):
        index.select([], all_models=True)


@pytest.mark.parametrize(
    "bad_line, column",
    [
        ("    Image Size", 5),  # a key without its colon: PyYAML notices it on the next line
        ("    Weights: 'http://x/w.pth", 14),  # an unclosed quote: noticed at the end of the file
        ("    Crop Pct: [0.9, 0.8", 15),  # an unclosed bracket
        ("   Image Size: 224", 4),  # a key indented one space short
        ("    Image Size: 224: 3", 20),
    ],
)
def test_a_yaml_syntax_error_is_reported_at_the_line_that_holds_it(tmp_path, bad_line, column):
    from zoo.judge.policy import load_policy
    from zoo.weights.lockfile import load_lock

    text = f"Models:\n- Name: a\n  Metadata:\n    Parameters: 10\n{bad_line}\n    FLOPs: 3\n  Results: []\n"
    path = write(tmp_path / "i.yml", text)
    info = only_problem(load_index([path]))
    assert (info.value.source.line, info.value.column) == (5, column), str(info.value)
    for load in (load_policy, load_lock):  # the other YAML files zoo reads say the same place
        with pytest.raises(InputError) as info:
            load(path)
        assert info.value.source.line == 5, str(info.value)
