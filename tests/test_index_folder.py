"""An index folder without a root file stands for every card in it; libyaml keeps the lines right."""

from __future__ import annotations

from index_worlds import line_of, model_yaml, write
from zoo.index import load_index
from zoo import yaml_input as located_yaml
from click.testing import CliRunner

from zoo.cli.main import cli

CARD = """\
# A card

Some prose.

<!--
Type: model-index
{body}
-->
"""


def test_folder_without_root_reads_every_card_and_says_which(tmp_path):
    cards = tmp_path / "models"
    write(cards / "b.mdx", CARD.format(body=model_yaml("test_resnet").replace("Tiny", "TinyB")))
    write(cards / "a.md", CARD.format(body=model_yaml("test_efficientnet")))
    write(cards / "README.md", "# no index here\n")
    write(cards / "notes.txt", "ignored: not a card suffix\n")
    index = load_index([cards])
    assert index.names() == ["test_efficientnet", "test_resnet"]  # files in name order
    assert index.from_folder and [f.rsplit("/", 1)[-1] for f in index.files] == ["a.md", "b.mdx"]
    assert [f.rsplit("/", 1)[-1] for f in index.skipped] == ["README.md"]
    flops = index.get("test_resnet").claims["flops"]
    assert flops.source.line == line_of(cards / "b.mdx", "FLOPs:")

    result = CliRunner().invoke(cli, ["list", "--index", str(cards), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "read 2 file(s)" in result.output and "a.md" in result.output and "skipped 1" in result.output


def test_folder_with_neither_root_nor_cards_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["list", "--index", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "no card" in result.output


def test_libyaml_loader_is_used_and_keeps_lines():
    import yaml

    text = "a: 1\nb:\n  c: '0.875'\n  d: [1, 2]\n"
    if getattr(yaml, "__with_libyaml__", False):
        assert issubclass(located_yaml._FastLocatingLoader, yaml.CSafeLoader)
        assert located_yaml._plainly_shallow(text)
    assert not located_yaml._plainly_shallow("a: &x [1]\nb: *x\n")  # aliases: the checking loader
    assert not located_yaml._plainly_shallow("a: " + "[" * 40 + "]" * 40 + "\n")  # maybe deep: the checking loader
    data = located_yaml.load_located(text, line_offset=10)
    assert data.line_of("b") == 12 and data["b"].line_of("c") == 13 and data["b"].raw["c"] == "0.875"
    assert data["b"].line_of("d") == 14


def test_a_large_folder_is_named_once_and_a_misspelt_model_gets_suggestions(tmp_path):
    cards = tmp_path / "models"
    for k in range(60):
        write(cards / f"card{k:02d}.md", CARD.format(body=model_yaml(f"net{k:02d}_wide").replace("Tiny", f"Tiny{k}")))
    write(cards / "resnet.md", CARD.format(body=model_yaml("resnet50").replace("Tiny", "TinyR")))
    listed = CliRunner().invoke(cli, ["list", "--index", str(cards), "--format", "json"])
    note = next(line for line in listed.output.splitlines() if line.startswith("zoo: read"))
    assert note.endswith(f"read 61 files in {cards}") and "card07.md" not in note
    misspelt = CliRunner().invoke(cli, ["show", "resnet5O", "--index", str(cards)])
    assert misspelt.exit_code == 2
    assert "did you mean resnet50?" in misspelt.output and "shows all 61 models" in misspelt.output
    assert "net59_wide" not in misspelt.output and len(misspelt.output) < 400
