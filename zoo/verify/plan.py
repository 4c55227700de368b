"""What a run measures: the measurement kinds chosen by ``--only``/``--skip``
(the kinds and the metrics each produces are :data:`zoo.records.MEASUREMENT_KINDS`)."""

from __future__ import annotations

from typing import Sequence

from zoo.errors import InputError
from zoo.records import MEASUREMENT_KINDS


def parse_kinds(text: Sequence[str]) -> list[str]:
    """``["params,flops", "weights"]`` -> ``["params", "flops", "weights"]``, validated."""
    kinds = [k.strip() for part in text for k in part.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in MEASUREMENT_KINDS]
    if unknown:
        raise InputError(f"unknown measurement {', '.join(map(repr, unknown))}", hint=f"choose from {', '.join(MEASUREMENT_KINDS)}")
    return kinds


def choose_kinds(only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[str]:
    """The kinds to measure, in run order, from ``--only`` and ``--skip``."""
    only_kinds, skip_kinds = parse_kinds(only), parse_kinds(skip)
    chosen = [k for k in MEASUREMENT_KINDS if (not only_kinds or k in only_kinds) and k not in skip_kinds]
    if "accuracy" in chosen and "weights" not in chosen:
        if "weights" in skip_kinds:
            raise InputError("accuracy needs the weights: --skip weights cannot go with accuracy", hint="also skip accuracy, or keep weights")
        chosen.insert(chosen.index("accuracy"), "weights")  # accuracy is measured with the card's weights
    if not chosen:
        raise InputError("--only/--skip leave nothing to measure", hint=f"choose from {', '.join(MEASUREMENT_KINDS)}")
    return chosen
