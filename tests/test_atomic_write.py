"""One atomic-write helper: a write interrupted at any point leaves the old file and no litter."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import zoo
from zoo.atomic import atomic_open, atomic_path, write_atomic


def test_ctrl_c_mid_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(target, newline="") as out:
            out.write("new,half")
            raise KeyboardInterrupt
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]


def test_a_path_writer_failing_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "predictions.parquet"
    with pytest.raises(OSError):
        with atomic_path(target) as temp:
            temp.write_bytes(b"PAR1")
            raise OSError("disk full")
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write_atomic(tmp_path / "run.json", "{}\n")
    finally:
        os.umask(old)
    assert path.read_text(encoding="utf-8") == "{}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_no_other_module_makes_its_own_temporary_file() -> None:
    root = Path(zoo.__file__).parent
    writers = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "atomic.py" and "mkstemp" in p.read_text(encoding="utf-8")
    ]
    assert writers == []
