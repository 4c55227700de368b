"""One rule combines exit codes everywhere: bug 4, drift 1, bad input 2, incomplete 3, then 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from zoo.cli import fetch_cmd, lock_cmd, main
from zoo.judge.exit_codes import EXIT_CODES_HELP, MEANINGS, worst_code
from zoo.weights.errors import OfflineMissingError, UnsafeCheckpointError
from zoo.weights.results import FetchAttempt

INDEX = """\
Models:
- Name: first
  Weights: https://weights.invalid/first-0123abcd.pth
- Name: second
  Weights: https://weights.invalid/second-0123abcd.pth
"""


def test_bad_input_beats_incomplete_whatever_the_order() -> None:
    assert worst_code([3, 2]) == worst_code([2, 3]) == 2
    assert worst_code([3, 2, 1]) == 1 and worst_code([0, 3]) == 3 and worst_code([]) == 0
    assert worst_code([1, 4]) == 4


@pytest.mark.parametrize("command", [fetch_cmd.command, lock_cmd.command], ids=["fetch", "lock"])
def test_fetch_and_lock_rank_bad_input_over_incomplete(command, monkeypatch, tmp_path: Path) -> None:
    """A refused checkpoint (2) and a file missing offline (3): the command exits 2, not max() = 3."""
    index = tmp_path / "model-index.yml"
    index.write_text(INDEX, encoding="utf-8")
    failures = [
        FetchAttempt("first", error=UnsafeCheckpointError("first-0123abcd.pth needs unpickling")),
        FetchAttempt("second", error=OfflineMissingError("second-0123abcd.pth is not in the cache")),
    ]
    module = fetch_cmd if command is fetch_cmd.command else lock_cmd
    monkeypatch.setattr(module, "fetch_cards", lambda cards, options, **kw: failures)
    args = ["--all", "--index", str(index), "--cache-dir", str(tmp_path / "c"), "--lock-file", str(tmp_path / "w.lock")]
    result = CliRunner().invoke(command, args, env={"ZOO_PROGRESS": "0"})
    assert result.exit_code == 2, result.output


def test_every_command_help_lists_the_meanings_once_written() -> None:
    for name in ("verify", "gate", "fetch", "lock", "list"):
        text = CliRunner().invoke(main.cli, [name, "--help"], terminal_width=200).output
        for code, meaning in MEANINGS.items():
            assert f"{code}  {meaning}" in text, (name, code)
    assert EXIT_CODES_HELP.count("\n") == len(MEANINGS) + 2
