"""Writing view files so that an interrupted write never leaves half a file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Union


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_atomic(path: Union[str, Path], data: Union[bytes, str]) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then move it into place.

    Text is written as UTF-8. The file gets the usual permissions (0666 less the umask).
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600; reports are for others to read
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path
