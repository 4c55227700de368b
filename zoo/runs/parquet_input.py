"""One checked reader for the parquet files zoo reads back: baselines and a run's per-image
predictions. Either may have been altered or crafted, so before a column is decoded the file
must be a regular file of bounded size whose footer promises a bounded number of rows and
bytes, with exactly the expected columns of the expected types; once read, no cell may be null
and each data page must match its checksum where the writer stored one (zoo's writers do).

A refusal is a :class:`ParquetInputError` whose text is the reason; callers name the file::

    table = read_checked(path, text_columns=("image",), id_columns=("label", "pred1"), max_rows=5_000_000)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Sequence

MAX_FILE_BYTES = 512 << 20
"""Largest parquet file read (a 50,000-image baseline is about 450 KB; 5,000,000 rows about 45 MB)."""
MAX_UNCOMPRESSED_BYTES = 1 << 30
"""Most bytes the columns may take once decompressed (what a zstd bomb would inflate to)."""
ID_TYPES = ("int8", "int16", "int32")
"""Class ids are small integers; int64 (whose values would wrap when narrowed) and floats are refused."""


class ParquetInputError(ValueError):
    """A parquet file zoo will not use; the text says why."""


def read_checked(path: Path, *, text_columns: Sequence[str], id_columns: Sequence[str], max_rows: int,
                 metadata_bytes: int = 1 << 20, max_file_bytes: int = MAX_FILE_BYTES,
                 max_uncompressed: int = MAX_UNCOMPRESSED_BYTES) -> tuple[Any, dict[bytes, bytes]]:
    """``(table, key-value metadata)`` of ``path`` holding exactly ``text_columns`` (UTF-8 strings)
    and ``id_columns`` (see :data:`ID_TYPES`), or :class:`ParquetInputError`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise ParquetInputError("it is not a regular file (a FIFO, a device or a folder)")
    if info.st_size > max_file_bytes:
        raise ParquetInputError(f"it is {info.st_size:,} bytes, more than the {max_file_bytes:,} accepted")
    try:
        handle = pq.ParquetFile(path, page_checksum_verification=True)
        footer = handle.metadata
        schema = handle.schema_arrow
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ParquetInputError(f"not a readable parquet file ({exc})") from None
    metadata = dict(schema.metadata or {})
    too_long = [key for key, value in metadata.items() if len(value) > metadata_bytes]
    if too_long:
        raise ParquetInputError(f"its metadata {too_long[0]!r} is more than the {metadata_bytes:,} bytes accepted")
    rows = footer.num_rows
    if rows > max_rows:
        raise ParquetInputError(f"it holds {rows:,} rows, more than the {max_rows:,} accepted")
    inflated = sum(footer.row_group(i).total_byte_size for i in range(footer.num_row_groups))
    if inflated > max_uncompressed:
        raise ParquetInputError(f"its columns take {inflated:,} bytes decompressed, more than the {max_uncompressed:,} accepted")
    expected = [*text_columns, *id_columns]
    missing = [name for name in expected if name not in schema.names]
    if missing:
        raise ParquetInputError(f"it lacks column(s) {', '.join(missing)}")
    for name in expected:
        kind = schema.field(name).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        text_ok = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        ok = text_ok if name in text_columns else str(kind) in ID_TYPES
        if not ok:
            wanted = "text (UTF-8 strings)" if name in text_columns else "class ids (" + ", ".join(ID_TYPES) + ")"
            raise ParquetInputError(f"column {name} holds {kind}, not {wanted}")
    try:
        table = handle.read(columns=expected)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ParquetInputError(f"its data cannot be read ({exc})") from None
    if table.num_rows != rows:
        raise ParquetInputError(f"its footer announces {rows:,} rows, its pages hold {table.num_rows:,}")
    for name in expected:
        nulls = table.column(name).null_count
        if nulls:
            raise ParquetInputError(f"column {name} has {nulls:,} empty (null) cells")
    return table, metadata


def text_column(table: Any, name: str) -> list[str]:
    """A text column as Python strings (a dictionary-encoded one decoded)."""
    column = table.column(name)
    if hasattr(column.type, "value_type"):
        column = column.cast(column.type.value_type)
    return column.to_pylist()


def duplicate(names: Sequence[str]) -> tuple[str, int] | None:
    """The first name that appears more than once and how often, or None."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name, sum(1 for other in names if other == name)
        seen.add(name)
    return None


__all__ = ["ID_TYPES", "MAX_FILE_BYTES", "MAX_UNCOMPRESSED_BYTES", "ParquetInputError", "duplicate", "read_checked", "text_column"]
