"""Model cards as plain JSON-ready data (for ``zoo list --format json`` and ``zoo show``)."""

from __future__ import annotations

from typing import Any

from zoo.records import Claim, ModelCard, UncheckedClaim


def claim_json(claim: Claim) -> dict[str, Any]:
    return {
        "value": claim.value,
        "raw": claim.raw,
        "precision": claim.precision,
        "unit": claim.unit,
        "field": claim.field,
        "source": str(claim.source),
        "line": claim.source.line,
    }


def unchecked_json(item: UncheckedClaim) -> dict[str, Any]:
    return {"field": item.field, "raw": item.raw, "source": str(item.source), "line": item.source.line, "reason": item.reason}


def card_json(card: ModelCard, with_metadata: bool = False) -> dict[str, Any]:
    """``{name, collection, source, origin, library, claims: {metric: {value, source, line, ...}}, not_claimed,
    not_checked, problems}``."""
    data: dict[str, Any] = {
        "name": card.name,
        "collection": card.collection,
        "source": str(card.source),
        "origin": card.origin,
        "library": card.library or None,
        "builds": card.builds or card.name,
        "claims": {metric: claim_json(claim) for metric, claim in card.claims.items()},
        "not_claimed": list(card.not_claimed),
        "not_checked": [unchecked_json(item) for item in card.unchecked],
        "problems": [problem.message for problem in card.problems],
    }
    if with_metadata:
        data["metadata"] = card.metadata
    return data
