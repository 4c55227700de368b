"""FetchOptions: where weights come from and how hard to try, from flags and environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Optional

from zoo.flags import FromEnvironment, option

DEFAULT_LOCK_PATH = Path("metadata") / "weights.lock"
WEIGHTS_SOURCES = ("card", "hub", "auto")
"""card: the card's URL (after the cache and mirrors); hub: the Hugging Face Hub; auto: card, then Hub."""


def default_cache_dir() -> Path:
    """torch.hub's checkpoint folder (``$TORCH_HOME/hub/checkpoints``): the cache when
    ``--cache-dir`` and ``$ZOO_CACHE`` are not given.

    Sharing torch.hub's folder means files timm or torch.hub already downloaded are reused.
    """
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def parse_mirrors(text: str) -> tuple[str, ...]:
    """Split a ``$ZOO_MIRROR`` value into mirrors (base URLs or folders).

    Entries are comma-separated; ``os.pathsep`` separates them too unless an entry is
    a URL (``:`` appears inside URLs, so with URLs only commas split).

    >>> parse_mirrors("https://a.example/w, /srv/weights")
    ('https://a.example/w', '/srv/weights')
    """
    separators = [","]
    if "://" not in text or os.pathsep != ":":
        separators.append(os.pathsep)
    parts = [text]
    for sep in separators:
        parts = [piece for part in parts for piece in part.split(sep)]
    return tuple(p.strip() for p in parts if p.strip())


def is_url(location: str) -> bool:
    """True for an http(s) URL; anything else (a path, ``file://``) is a local folder."""
    return location.startswith(("http://", "https://"))


def mirror_folder(location: str) -> Path:
    """The folder a non-URL mirror names (``file://`` prefix allowed)."""
    if location.startswith("file://"):
        location = location[len("file://") :]
    return Path(location).expanduser()


@dataclass(frozen=True)
class FetchOptions(FromEnvironment):
    """How weights are fetched, verified and cached.

    Build it with ``from_env`` (:func:`zoo.flags.from_environment`) so the environment
    variables are honoured::

        options = FetchOptions.from_env(offline=True, mirrors=("/srv/weights",))
    """

    cache_dir: Path = option(
        flag="--cache-dir",
        env="ZOO_CACHE",
        default_factory=default_cache_dir,
        kind="dir",
        default_text="$TORCH_HOME/hub/checkpoints",
        help="Weights cache folder.",
    )
    """Where verified files live, by file name."""
    mirrors: tuple[str, ...] = option(
        (),
        flag="--mirror",
        param="mirrors",
        env="ZOO_MIRROR",
        env_text="ZOO_MIRROR, comma-separated",
        env_parse=lambda text: parse_mirrors(text),
        kind="mirror",
        multiple=True,
        default_text="",
        help="Base URL or folder holding weights files by name, tried before the card's URL (repeatable).",
    )
    """Base URLs or local folders tried before the card's URL, looked up by file name."""
    offline: bool = option(
        False,
        flag="--offline",
        off="--online",
        env=("ZOO_OFFLINE", "HF_HUB_OFFLINE"),
        env_text="ZOO_OFFLINE=1 or HF_HUB_OFFLINE=1",
        default_text="",
        help="Use only the cache and mirrors, never the card's URL.",
    )
    """Use the cache and mirrors only; never the card's URL."""
    local_files: Mapping[str, Path] = option(
        flag="--weights",
        param="local_weights",
        kind="model=path",
        multiple=True,
        default_factory=dict,
        help="Use a local checkpoint for one model, checked like a download (repeatable).",
    )
    """Model name -> a local checkpoint used in place of the card's file (checked the same way)."""
    lock_path: Optional[Path] = option(
        DEFAULT_LOCK_PATH,
        flag="--lock-file",
        env="ZOO_LOCK",
        kind="path",
        help="Lock file pinning SHA-256 and size per weights file.",
    )
    """The lock file pinning SHA-256 and size per file; ``None`` ignores it."""
    progress: bool = option(True, env="ZOO_PROGRESS")
    """Show byte progress on zoo's progress channel (bars on a terminal, lines when piped)."""
    connect_timeout: float = 10.0
    """Seconds to wait for a TCP/TLS connection."""
    read_timeout: float = 60.0
    """Seconds a server may stay silent while sending."""
    retries: int = 4
    """Retries after a transient failure (reset, timeout, 429, 5xx); the count restarts
    whenever an attempt made progress, since the next one resumes from there."""
    backoff: float = 1.0
    """Seconds before the first retry; doubled for each further one."""
    max_backoff: float = 30.0
    """Longest wait between retries (also caps a server's Retry-After)."""
    chunk_size: int = 1 << 20
    """Bytes read from the network per step."""
    lock_timeout: Optional[float] = None
    """Seconds to wait for another process fetching the same file; ``None`` waits for ever."""
    source: str = option(
        "card",
        flag="--weights-source",
        aliases=("--source",),
        env="ZOO_WEIGHTS_SOURCE",
        choices=WEIGHTS_SOURCES,
        help="card: the card's URL (after cache and mirrors); hub: the Hugging Face Hub file timm "
        "loads, verified by the Hub's SHA-256; auto: card, then Hub.",
    )
    """Where weights come from: one of :data:`WEIGHTS_SOURCES` (zoo.weights.select)."""
    hub_repos: Mapping[str, str] = option(
        flag="--hub-repo",
        param="hub_repos",
        kind="model=repo",
        multiple=True,
        default_factory=dict,
        help="The Hub repo of one model, over the card's `Weights Hub:` key and timm's pretrained config (repeatable).",
    )
    """Model name -> ``ORG/NAME[@REV]`` on the Hub, over the card's key and timm's config."""
    min_rate: float = option(
        10240.0,
        flag="--min-rate",
        env="ZOO_MIN_RATE",
        kind="float",
        minimum=0,
        metavar="BYTES/S",
        help="Stall rule: a download slower than this over --stall-seconds is retried (resuming), then given up; 0 turns it off.",
    )
    """The stall rule: a transfer slower than this many bytes/s over ``stall_seconds`` is
    stalled, and retried (resuming) like a dropped connection. 0 turns the rule off."""
    stall_seconds: float = option(
        60.0, flag="--stall-seconds", env="ZOO_STALL_SECONDS", kind="float", minimum=0, metavar="S",
        help="The stall rule's window in seconds.",
    )
    """The window of the stall rule, in seconds."""
    set_by: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Where each option that is not its default came from (field -> ``--offline``,
    ``$HF_HUB_OFFLINE``), filled by ``from_env``; messages name what to change."""

    def __post_init__(self) -> None:
        # Frozen: freeze the mapping too, so options can be shared between threads safely.
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        object.__setattr__(
            self,
            "local_files",
            MappingProxyType({k: Path(v) for k, v in dict(self.local_files).items()}),
        )
        object.__setattr__(self, "mirrors", tuple(self.mirrors))
        object.__setattr__(self, "hub_repos", MappingProxyType(dict(self.hub_repos)))
        object.__setattr__(self, "set_by", MappingProxyType(dict(self.set_by)))
        if self.source not in WEIGHTS_SOURCES:
            raise ValueError(f"weights source {self.source!r} is not one of {', '.join(WEIGHTS_SOURCES)}")
        if self.lock_path is not None:
            object.__setattr__(self, "lock_path", Path(self.lock_path))

    def offline_set_by(self) -> str:
        """What made the run offline: ``--offline``, ``$ZOO_OFFLINE`` or ``$HF_HUB_OFFLINE``."""
        return self.set_by.get("offline", "--offline")

    def going_online(self) -> str:
        """What to change to leave offline mode: the flag or the variable that set it."""
        origin = self.offline_set_by()
        return f"unset {origin.lstrip('$')}" if origin.startswith("$") else "drop --offline"


__all__ = ["DEFAULT_LOCK_PATH", "WEIGHTS_SOURCES", "FetchOptions", "default_cache_dir", "is_url", "parse_mirrors"]
