"""The pinned FLOPs conventions of a zoo: ``flops-conventions.yml`` beside the index.

``zoo conventions fit`` writes it (:mod:`zoo.verify.fit` measures every card, then
:func:`zoo.judge.conventions.fit_table`); ``verify``, ``gate`` and ``report`` read it and never
fit. It is zoo data like the cards: reviewed in a pull request, each convention with its
evidence (claims explained, the claim/reference spread, the models it was fitted on)::

    # FLOPs conventions of this zoo's cards ...
    fitted_over: [model-index.yml]    # the index it was fitted over, relative to this file
    tolerance: 0.02
    fitted_with: {timm: 1.0.31, torch: 2.14.1}
    zoo:
      convention: 1.279x fvcore @image
      claims: 259
      explained: 186
      claim_reference_iqr: [1.247, 1.284]
      models: [adv_inception_v3, ...]
    collections:
      EfficientNet Pruned:
        convention: macs @resize
        claims: 3
        explained: 3
        zoo_explains: 0
        models: [efficientnet_b1_pruned, ...]

Where it is looked for: ``--conventions FILE`` (``$ZOO_CONVENTIONS``), else
``flops-conventions.yml`` in the index's folder (the folder given, or the one holding the root
model-index file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

import yaml

from zoo.atomic import write_atomic
from zoo.errors import InputError
from zoo.index.documents import display_path
from zoo.index.loader import file_digest
from zoo.yaml_input import LocatedMap, read_yaml_mapping
from zoo.records import Convention, ConventionTable, FileDigest, SourceRef

FILE_NAME = "flops-conventions.yml"
ENV = "ZOO_CONVENTIONS"
PIN_HINT = "pin them with `zoo conventions fit{index}` (writes {path}) and commit the file"


@dataclass(frozen=True)
class PinnedConventions:
    """A conventions file as read: the table, the file's digest and the index it names."""

    table: ConventionTable
    digest: FileDigest
    fitted_over: list[str]
    """The index roots it was fitted over, relative to the file (for the reader: the file applies to
    the index it lies beside, or to the one it is given for)."""


def default_path(index_roots: Sequence[str]) -> Path:
    """``flops-conventions.yml`` in the folder of the first index root (the folder itself, or the
    folder holding the root model-index file)."""
    first = Path(index_roots[0].rstrip("/")) if index_roots else Path("metadata")
    folder = first if (index_roots and index_roots[0].endswith("/")) or first.is_dir() else first.parent
    return folder / FILE_NAME


def find_pinned(index_roots: Sequence[str], explicit: Union[str, Path, None] = None) -> Optional[PinnedConventions]:
    """The pinned conventions for an index: ``explicit`` (or ``$ZOO_CONVENTIONS``), which must
    exist, else the file beside the index when there is one; None when nothing is pinned."""
    chosen = explicit or os.environ.get(ENV) or None
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise InputError(
                f"FLOPs conventions file {display_path(path)} does not exist",
                field="--conventions", hint="pass an existing file, or write one with `zoo conventions fit --out FILE`",
            )
        return read_conventions(path)
    beside = default_path(index_roots)
    return read_conventions(beside) if beside.is_file() else None


def pin_hint(index_roots: Sequence[str]) -> str:
    """What to run to pin the conventions of this index."""
    given = "" if list(index_roots) in ([], ["metadata/model-index.yml"]) else " --index " + " ".join(index_roots)
    return PIN_HINT.format(index=given, path=display_path(default_path(index_roots)))


# --------------------------------------------------------------------------- reading


def read_conventions(path: Union[str, Path]) -> PinnedConventions:
    """Read and check a conventions file; InputError naming the file, line and field when it is bad."""
    path = Path(path)
    shown = display_path(path)
    data = read_yaml_mapping(
        path, shown, what="FLOPs conventions file", expected="a mapping with zoo and collections",
        hint="fix the file, or write it again with `zoo conventions fit`",
    )
    reader = _Reader(shown)
    tolerance = reader.number(data, "tolerance", default=0.02)
    zoo_entry = data.get("zoo")
    zoo = reader.convention(data, "zoo", "the zoo's") if zoo_entry is not None else None
    collections: dict[str, Convention] = {}
    section = data.get("collections") or LocatedMap()
    if not isinstance(section, dict):
        raise reader.fail(data, "collections", "collections must map a collection name to its convention")
    for name in section:
        collections[str(name)] = reader.convention(section, name, f"collection {name}'s")
    fitted_over = data.get("fitted_over") or []
    if not isinstance(fitted_over, list) or not all(isinstance(p, str) for p in fitted_over):
        raise reader.fail(data, "fitted_over", "fitted_over must be a list of paths")
    table = ConventionTable(zoo=zoo, collections=collections, source=f"pinned in {shown}", tolerance=tolerance)
    return PinnedConventions(table=table, digest=file_digest(path), fitted_over=list(fitted_over))


class _Reader:
    """Reads the entries of one conventions file, failing with file:line and field."""

    def __init__(self, shown: str) -> None:
        self.shown = shown

    def fail(self, mapping: LocatedMap, key: Any, message: str) -> InputError:
        line = mapping.line_of(key) if isinstance(mapping, LocatedMap) else 1
        return InputError(
            message, source=SourceRef(self.shown, line or 1), field=str(key),
            hint="fix the entry, or write the file again with `zoo conventions fit`",
        )

    def number(self, mapping: LocatedMap, key: str, default: Optional[float] = None) -> float:
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e12:
            raise self.fail(mapping, key, f"{key} must be a number >= 0, found {value!r}")
        return float(value)

    def convention(self, mapping: LocatedMap, key: Any, scope: str) -> Convention:
        from zoo.judge.conventions import parse_convention

        entry = mapping.get(key)
        if isinstance(entry, str):  # a bare convention, as declared in tolerances.yml
            entry = LocatedMap({"convention": entry})
            entry.line, entry.key_lines, entry.raw = mapping.line_of(key), {}, {}
        if not isinstance(entry, LocatedMap) or not isinstance(entry.get("convention"), str):
            raise self.fail(mapping, key, f"{key}: expected a mapping with a convention such as '1.279x fvcore @image'")
        try:
            parsed = parse_convention(entry["convention"])
        except ValueError as exc:
            raise self.fail(entry, "convention", str(exc)) from None
        spread = entry.get("claim_reference_iqr")
        if spread is not None and not (
            isinstance(spread, list) and len(spread) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spread)
        ):
            raise self.fail(entry, "claim_reference_iqr", "claim_reference_iqr must be [low, high]")
        models = entry.get("models") or []
        if not isinstance(models, list):
            raise self.fail(entry, "models", "models must be a list of model names")
        zoo_explains = entry.get("zoo_explains")
        return Convention(
            key=parsed.key, scale=parsed.scale, scope=scope,
            claims=int(self.number(entry, "claims", 0)), explained=int(self.number(entry, "explained", 0)),
            spread=(float(spread[0]), float(spread[1])) if spread else None,
            zoo_explained=int(self.number(entry, "zoo_explains")) if zoo_explains is not None else None,
            models=[str(m) for m in models],
        )


# --------------------------------------------------------------------------- writing


def render_conventions(table: ConventionTable, fitted_over: Sequence[str], versions: Mapping[str, str], command: str) -> str:
    """The YAML text of a conventions file (see the module doc)."""

    def entry(convention: Convention) -> dict[str, Any]:
        out: dict[str, Any] = {"convention": convention.label(), "claims": convention.claims, "explained": convention.explained}
        if convention.zoo_explained is not None:
            out["zoo_explains"] = convention.zoo_explained
        if convention.spread:
            out["claim_reference_iqr"] = [round(convention.spread[0], 4), round(convention.spread[1], 4)]
        out["models"] = list(convention.models)
        return out

    data: dict[str, Any] = {"fitted_over": list(fitted_over), "tolerance": table.tolerance, "fitted_with": dict(versions)}
    if table.zoo is not None:
        data["zoo"] = entry(table.zoo)
    data["collections"] = {name: entry(c) for name, c in sorted(table.collections.items())}
    header = (
        "# FLOPs counting conventions of this zoo's cards (zoo: README, \"FLOPs conventions\").\n"
        "# verify, gate and report judge every FLOPs claim against this file and never fit: review a\n"
        "# change to it like a change to a card. A collection listed here counts another named way.\n"
        f"# Written by: {command}\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def write_conventions(
    path: Union[str, Path], table: ConventionTable, index_roots: Sequence[str], versions: Mapping[str, str], command: str
) -> Path:
    """Write the conventions file atomically; the index roots it was fitted over are stored relative to its folder."""
    path = Path(path)
    folder = path.resolve().parent
    relative = []
    for root in index_roots:
        target = Path(root.rstrip("/")).resolve()
        try:
            shown = os.path.relpath(target, folder)
        except ValueError:  # another drive
            shown = str(target)
        relative.append(shown + ("/" if root.endswith("/") else ""))
    return write_atomic(path, render_conventions(table, relative, versions, command))
