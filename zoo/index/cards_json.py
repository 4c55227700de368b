"""Model cards as plain JSON-ready data (for ``zoo list --format json`` and ``zoo show``)."""

from __future__ import annotations

from typing import Any

from zoo.records import Claim, ModelCard


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


def card_json(card: ModelCard, with_metadata: bool = False) -> dict[str, Any]:
    """``{name, collection, source, claims: {metric: {value, source, line, ...}}}``."""
    data: dict[str, Any] = {
        "name": card.name,
        "collection": card.collection,
        "source": str(card.source),
        "claims": {metric: claim_json(claim) for metric, claim in card.claims.items()},
    }
    if with_metadata:
        data["metadata"] = card.metadata
    return data
