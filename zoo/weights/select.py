"""Which source serves a card's weights: the card's own file, the Hugging Face Hub, or both in turn.

``card`` (the default): the user's ``--weights`` file, the cache, mirrors, then the card's URL
(zoo.weights.sources). ``hub``: the Hub repo timm loads the model from (zoo.weights.hub).
``auto``: the card's file first and, when it cannot be had, the Hub file.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

import requests

from zoo.records import ModelCard
from zoo.weights.errors import WeightsError
from zoo.weights.lockfile import WeightsLock, load_lock
from zoo.weights.options import FetchOptions
from zoo.weights.results import FetchAttempt, FetchResult
from zoo.weights.sources import fetch_weights


def fetch_card(
    card: ModelCard,
    options: FetchOptions,
    *,
    lock: Optional[WeightsLock] = None,
    session: Optional[requests.Session] = None,
) -> FetchResult:
    """``card``'s weights from the source ``options.source`` names; raises a WeightsError.

    In ``auto`` mode a Hub failure also says why the card's file could not be had.
    """
    from zoo.weights.hub import fetch_hub

    if options.source == "hub":
        return fetch_hub(card, options, lock=lock)
    if options.source == "card":
        return fetch_weights(card, options, lock=lock, session=session)
    try:
        return fetch_weights(card, options, lock=lock, session=session)
    except WeightsError as card_error:
        try:
            result = fetch_hub(card, options, lock=lock)
        except WeightsError as hub_error:
            raise hub_error.amended(also=f"The card's own file failed first: {card_error}") from hub_error
        note = f"the card's own file could not be had ({card_error.happened}); the Hub file was used"
        return dataclasses.replace(result, notes=(note, *result.notes))


def fetch_cards(
    cards: Sequence[ModelCard], options: FetchOptions, *, lock: Optional[WeightsLock] = None
) -> list[FetchAttempt]:
    """:func:`fetch_card` for each card, one session, errors collected rather than raised."""
    if lock is None and options.lock_path is not None:
        lock = load_lock(options.lock_path)
    attempts = []
    with requests.Session() as session:
        for card in cards:
            try:
                attempts.append(FetchAttempt(card.name, result=fetch_card(card, options, lock=lock, session=session)))
            except WeightsError as err:
                attempts.append(FetchAttempt(card.name, error=err))
    return attempts


__all__ = ["FetchAttempt", "fetch_card", "fetch_cards"]
