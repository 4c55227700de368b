"""zoo's ``fvcore`` FLOPs count beside the ``infer_gmacs`` of timm's published benchmark tables.

timm's ``benchmark.py`` profiles each model with fvcore 0.1.5 (batch 1, eval mode, the model's
default build) and writes ``round(macs / 1e9, 2)`` per model and input size. This script counts
each model on the meta device, as ``zoo verify`` does, at the table's ``infer_img_size``, and prints
how many rows agree at 2 decimals. Every mismatch is listed with a class:

- ``attention``: the table equals zoo's ``fvcore+attention`` counter, fvcore's count plus the matmuls of
  ``scaled_dot_product_attention`` (fvcore has no rule for that op; the table was made with timm's
  attention run as matmuls, as ``TIMM_FUSED_ATTN=0`` does);
- ``reparam``: the table equals either count of the model after timm's ``reparameterize_model`` (branches
  and batch norms fused into single convs: the table was made with ``benchmark.py --reparam``);
- ``not built``: timm cannot build the architecture, or it does not take the table's size;
- ``other``: anything else (timm's model code may have changed since the table was made).

Run from the repository root:

    python benchmarks/bench_flops_vs_timm.py --table RESULTS.csv [--cards FOLDER | --models a,b,c]

``--cards`` takes a model-index folder (timm's ``hfdocs/source/models/``): each card is resolved to
its architecture as ``zoo verify`` does. Without ``--cards`` or ``--models``, every model of the table.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional


@dataclass(frozen=True)
class Row:
    model: str
    size: int
    gmacs: float


@dataclass(frozen=True)
class Outcome:
    row: Row
    fvcore: Optional[int]
    attention: int = 0
    error: str = ""
    reparam: tuple[int, ...] = ()
    """fvcore and fvcore+attention of the reparameterized model, counted only where the table differs."""

    @property
    def ours(self) -> Optional[float]:
        return None if self.fvcore is None else round(self.fvcore / 1e9, 2)

    def kind(self) -> str:
        if self.fvcore is None:
            return "not built"
        if self.ours == self.row.gmacs:
            return "equal"
        if self.attention and round((self.fvcore + self.attention) / 1e9, 2) == self.row.gmacs:
            return "attention"
        if any(round(n / 1e9, 2) == self.row.gmacs for n in self.reparam):
            return "reparam"
        return "other"


def read_table(path: Path) -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            if record.get("infer_gmacs") not in (None, ""):
                rows[record["model"]].append(Row(record["model"], int(record["infer_img_size"]), float(record["infer_gmacs"])))
    return rows


def card_architectures(folder: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Architecture -> the card names that resolve to it; and the cards zoo cannot resolve."""
    from zoo.errors import ZooError
    from zoo.index.loader import load_index
    from zoo.verify.build import resolve_target

    by_arch: dict[str, list[str]] = defaultdict(list)
    unresolved = []
    for card in load_index([folder]).models:
        try:
            target = resolve_target(card)
        except ZooError as exc:
            unresolved.append(f"{card.name}: {exc}")
            continue
        if target.mismatch:
            unresolved.append(f"{card.name}: {target.mismatch}")
            continue
        by_arch[target.architecture].append(card.name)
    return by_arch, unresolved


def count(model_name: str, rows: list[Row]) -> list[Outcome]:
    """Build the architecture once on the meta device (as benchmark.py builds it) and count each row's size."""
    import timm
    import torch
    from timm.utils.model import reparameterize_model

    from zoo.measure.flops import FVCORE_ATTENTION, REFERENCE, count_operators

    try:
        with warnings.catch_warnings(), torch.device("meta"):
            warnings.simplefilter("ignore")
            model = timm.create_model(model_name, pretrained=False).eval()
    except Exception as exc:  # a removed or renamed architecture is one row's result, not the script's end
        return [Outcome(r, None, error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}") for r in rows]
    outcomes = []
    for row in rows:
        try:
            counts = count_operators(model, row.size)
        except Exception as exc:  # a fixed-size model may not take this row's size
            outcomes.append(Outcome(row, None, error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"))
            continue
        outcomes.append(Outcome(row, counts.counter(REFERENCE), counts.counter(FVCORE_ATTENTION) - counts.counter(REFERENCE)))
    if all(o.kind() in ("equal", "attention", "not built") for o in outcomes):
        return outcomes
    try:
        with warnings.catch_warnings(), torch.device("meta"):  # the fused kernels it makes are meta tensors too
            warnings.simplefilter("ignore")
            fused = reparameterize_model(model)  # a copy
    except Exception:  # a model timm cannot reparameterize keeps its rows as they are
        return outcomes
    again = []
    for o in outcomes:
        if o.kind() == "other":
            counts = count_operators(fused, o.row.size)
            o = dataclasses.replace(o, reparam=(counts.counter(REFERENCE), counts.counter(FVCORE_ATTENTION)))
        again.append(o)
    return again


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", type=Path, required=True, help="a timm results CSV with infer_img_size and infer_gmacs")
    parser.add_argument("--cards", type=Path, help="a model-index folder: its cards' architectures")
    parser.add_argument("--models", help="comma-separated architecture names")
    args = parser.parse_args()

    table = read_table(args.table)
    unresolved: list[str] = []
    cards: dict[str, list[str]] = {}
    if args.cards:
        cards, unresolved = card_architectures(args.cards)
        names = sorted(cards)
    elif args.models:
        names = [n.strip() for n in args.models.split(",") if n.strip()]
    else:
        names = sorted(table)
    missing = [n for n in names if n not in table]
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    for name in names:
        if name in table:
            outcomes.extend(count(name, table[name]))
    elapsed = time.perf_counter() - started

    kinds = Counter(o.kind() for o in outcomes)
    print(f"table: {args.table.name}")
    if args.cards:
        print(f"cards: {sum(len(v) for v in cards.values())} models on {args.cards} -> {len(cards)} architectures "
              f"({len(unresolved)} cards not resolved)")
    print(f"architectures counted: {len(names) - len(missing)} ({len(missing)} not in the table); "
          f"rows: {len(outcomes)}; {elapsed:.0f} s on the meta device")
    print(f"equal at 2 decimals: {kinds['equal']} of {len(outcomes)} rows "
          f"({100 * kinds['equal'] / max(1, len(outcomes)):.1f}%) under fvcore; "
          f"{kinds['equal'] + kinds['attention']} under fvcore+attention")
    for kind in ("attention", "reparam", "other", "not built"):
        print(f"  {kind}: {kinds[kind]}")
    for kind in ("attention", "reparam", "other", "not built"):
        listed = [o for o in outcomes if o.kind() == kind]
        if not listed:
            continue
        print(f"\n{kind}:")
        for o in listed:
            if o.fvcore is None:
                print(f"  {o.row.model} @{o.row.size}: table {o.row.gmacs:.2f}; {o.error}")
                continue
            delta = 100 * (o.fvcore / 1e9 - o.row.gmacs) / o.row.gmacs if o.row.gmacs else float("nan")
            extra = f", with attention {(o.fvcore + o.attention) / 1e9:.4f}" if o.attention else ""
            if o.reparam:
                extra += f", reparameterized {o.reparam[0] / 1e9:.4f}" + (f" / {o.reparam[1] / 1e9:.4f}" if o.reparam[1] != o.reparam[0] else "")
            print(f"  {o.row.model} @{o.row.size}: table {o.row.gmacs:.2f}, zoo fvcore {o.fvcore / 1e9:.4f} ({delta:+.2f}%){extra}")
    if missing:
        print(f"\nnot in the table ({len(missing)}): {', '.join(missing)}")
    for line in unresolved:
        print(f"not resolved: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
