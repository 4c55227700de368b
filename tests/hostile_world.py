"""Helpers for the hostile-input tests: a snapshot of every file outside the folders zoo
owns, so a test can prove nothing there was created, changed or deleted."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable


def snapshot(root: Path, owned: Iterable[Path] = ()) -> dict[str, str]:
    """``relative path -> sha256 of content (or link target)`` for everything under ``root``
    except the ``owned`` folders (zoo's cache and results) and the folders leading to them."""
    owned_real = [Path(os.path.realpath(p)) for p in owned]
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        if any(here == o or o in here.parents for o in owned_real):
            dirs[:] = []
            continue
        for name in files + [d for d in dirs if (here / d).is_symlink()]:
            path = here / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                found[key] = "link:" + os.readlink(path)
            else:
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        for name in dirs:
            real = Path(os.path.realpath(here / name))
            # The roots themselves (and folders above them) are made by zoo on purpose.
            if not (here / name).is_symlink() and not any(real == o or real in o.parents for o in owned_real):
                found[str((here / name).relative_to(root)) + "/"] = "dir"
    return found
