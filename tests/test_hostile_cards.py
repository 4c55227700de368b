"""Hostile cards against the index: YAML bombs, deep nesting, huge numbers and runaway
Import globs are bad input (exit 2) naming the file and line, never a crash or a hang
(issue #10, items 11-13)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from hostile_world import snapshot
from zoo.cli import list_cmd

CARD = """\
Models:
- Name: tiny
  Metadata:
    Parameters: 1000
{extra}"""


def list_index(path: Path):
    return CliRunner().invoke(list_cmd.command, ["--index", str(path)])


def write(tmp_path: Path, text: str, name: str = "model-index.yml") -> Path:
    path = tmp_path / "index" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_billion_laughs_is_refused_quickly_naming_the_line(tmp_path):
    levels = ["    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"    l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = write(tmp_path, CARD.format(extra="\n".join(levels) + "\n"))
    before = snapshot(tmp_path)
    result = list_index(path)
    assert result.exit_code == 2, result.output
    assert "model-index.yml:" in result.output and "expand" in result.output and "refused" in result.output
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("form", ["flow", "block"])
def test_lists_nested_a_thousand_deep_are_refused(tmp_path, form):
    if form == "flow":
        extra = "    Deep: " + "[" * 1000 + "]" * 1000 + "\n"
    else:
        extra = "    Deep:\n" + "".join("  " * (i + 2) + "-\n" for i in range(1000))
    path = write(tmp_path, CARD.format(extra=extra))
    result = list_index(path)
    assert result.exit_code == 2, result.output
    assert "model-index.yml:" in result.output and "nested more than" in result.output


@pytest.mark.parametrize("raw", ["1e400", "1e999999999", "9" * 5000, "'1e999999999'", "-1e400"])
def test_huge_numbers_are_bad_input_naming_model_and_line(tmp_path, raw):
    path = write(tmp_path, CARD.format(extra=f"    FLOPs: {raw}\n"))
    result = list_index(path)
    assert result.exit_code == 2, result.output
    assert "model-index.yml:5" in result.output


def test_huge_number_in_an_integer_claim_names_the_model(tmp_path):
    path = write(tmp_path, "Models:\n- Name: tiny\n  Metadata:\n    Parameters: 1e400\n")
    result = list_index(path)
    assert result.exit_code == 2, result.output
    assert "model-index.yml:4" in result.output and "tiny" in result.output and "Parameters" in result.output


def test_bad_timestamp_is_bad_input(tmp_path):
    path = write(tmp_path, CARD.format(extra="    Date: 2024-13-45\n"))
    result = list_index(path)
    assert result.exit_code == 2, result.output
    assert "model-index.yml" in result.output


def test_recursive_import_does_not_follow_symlink_loops_or_links_out(tmp_path):
    root = write(tmp_path, "Import:\n- cards/**/*.yml\n")
    cards = root.parent / "cards" / "a"
    cards.mkdir(parents=True)
    (cards / "tiny.yml").write_text(CARD.format(extra=""), encoding="utf-8")
    (cards / "loop").symlink_to(root.parent / "cards", target_is_directory=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "other.yml").write_text(CARD.format(extra="").replace("tiny", "other"), encoding="utf-8")
    (cards / "out").symlink_to(outside, target_is_directory=True)
    result = list_index(root)
    assert result.exit_code == 0, result.output
    assert "tiny" in result.output and "other" not in result.output


def test_import_of_everything_under_an_absolute_tree_ends(tmp_path, monkeypatch):
    from zoo.index.sources import model_index as loader

    tree = tmp_path / "big"
    for i in range(30):
        (tree / f"d{i}").mkdir(parents=True)
        for j in range(5):
            (tree / f"d{i}" / f"f{j}.txt").write_text("x")
    monkeypatch.setattr(loader, "MAX_IMPORT_ENTRIES", 100)
    root = write(tmp_path, f"Import:\n- {tree}/**/*.yml\n")
    result = list_index(root)
    assert result.exit_code == 2, result.output
    assert "model-index.yml:1" in result.output and "walks through more than 100" in result.output


def test_card_outside_the_index_folder_is_named_in_a_warning(tmp_path, monkeypatch):
    import io

    from zoo import progress

    stream = io.StringIO()
    monkeypatch.setattr(progress, "_channel", progress.Channel("lines", stream))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "far.yml").write_text(CARD.format(extra=""), encoding="utf-8")
    root = write(tmp_path, f"Import:\n- {elsewhere}/*.yml\n")
    from zoo.index import load_index

    assert load_index([root]).names() == ["tiny"]
    assert "far.yml" in stream.getvalue() and "outside the index folder" in stream.getvalue()
    assert "model-index.yml:1" in stream.getvalue()


@pytest.mark.parametrize("suffix", ["yml", "md"])
def test_a_card_that_is_not_utf8_names_the_line_and_column_of_the_bad_byte(tmp_path, suffix):
    text = CARD.format(extra='    Notes: "Mob@ile"\n')
    if suffix == "md":
        text = "# MobileNet\n\n<!--\n" + text + "-->\n"
    path = write(tmp_path, "", name=f"card.{suffix}")
    path.write_bytes(text.encode("utf-8").replace(b"@", b"\xed\xa0\x80"))  # an encoded lone surrogate
    line = text.splitlines().index('    Notes: "Mob@ile"') + 1
    column = '    Notes: "Mob@ile"'.index("@") + 1
    result = list_index(path)
    assert result.exit_code == 2, result.output
    assert f"card.{suffix}:{line}:{column}:" in result.output and "not UTF-8" in result.output, result.output
    assert "save the file as UTF-8" in result.output
