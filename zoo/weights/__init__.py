"""Weights: fetch, verify, cache and load every model's checkpoint.

One concern per module: ``options`` (FetchOptions), ``select`` (which source: card,
hub or auto), ``sources`` (cache -> mirrors -> card URL, or a local file), ``hub`` (the
Hugging Face Hub file timm loads, proven by the Hub's SHA-256), ``download`` (HTTP transport with retries and resume),
``cache`` (atomic partial files, per-entry locks), ``integrity`` (hash prefix, size,
SHA-256 while streaming), ``lockfile`` (metadata/weights.lock), ``checkpoint``
(weights-only loading, unwrapping, exact fit) and ``errors``.
"""

from zoo.weights.options import FetchOptions
from zoo.weights.sources import FetchResult, WeightsRequest, fetch_request, fetch_weights

__all__ = ["FetchOptions", "FetchResult", "WeightsRequest", "fetch_request", "fetch_weights"]
