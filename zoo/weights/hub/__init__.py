"""The Hugging Face Hub as a weights source: the file timm itself loads, proven by the Hub's own hash.

One concern per module: ``refs`` (which repo, revision and file a model means; huggingface_hub's
settings), ``fetch`` (model_info, hf_hub_download, the hash check, the offline cache), ``guard``
(zoo's hooks inside huggingface_hub's HTTP client: answers checked, the stall rule, size limits).
"""

from zoo.weights.hub.fetch import checked_commit, fetch_hub, hub_errors, remember_ref
from zoo.weights.hub.guard import transfer
from zoo.weights.hub.refs import CARD_KEY, HubRef, HubRefError, HubSettings, candidate_files, hub_ref_for, parse_hub_ref
from zoo.weights.results import HubFile, hub_lock_key

__all__ = [
    "CARD_KEY",
    "HubFile",
    "HubRef",
    "HubRefError",
    "HubSettings",
    "candidate_files",
    "checked_commit",
    "fetch_hub",
    "hub_ref_for",
    "hub_errors",
    "hub_lock_key",
    "parse_hub_ref",
    "remember_ref",
    "transfer",
]
