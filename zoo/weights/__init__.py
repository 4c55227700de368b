"""Weights: fetch, verify, cache and load every model's checkpoint.

One concern per module: ``options`` (FetchOptions), ``select`` (which source: card,
hub or auto), ``sources`` (cache -> mirrors -> card URL, or a local file), ``hub/`` (the
Hugging Face Hub file timm loads, proven by the Hub's SHA-256: refs, fetch, guards around
huggingface_hub's client), ``results`` (what a fetch hands back, whichever path), ``download``
(HTTP transport with retries and resume), ``stall`` (the one stall rule of both paths),
``failures`` (the one vocabulary both paths turn transport errors into), ``cache`` (atomic
partial files, per-entry locks), ``integrity`` (hash prefix, size, SHA-256 while streaming),
``lockfile`` (metadata/weights.lock), ``checkpoint`` (weights-only loading, unwrapping, exact fit)
and ``errors``.
"""

from zoo.weights.options import FetchOptions
from zoo.weights.results import FetchResult
from zoo.weights.sources import WeightsRequest, fetch_request, fetch_weights

__all__ = ["FetchOptions", "FetchResult", "WeightsRequest", "fetch_request", "fetch_weights"]
