"""FetchOptions: where weights come from and how hard to try, from flags and environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Optional

from zoo.flags import option

DEFAULT_LOCK_PATH = Path("metadata") / "weights.lock"
WEIGHTS_SOURCES = ("card", "hub", "auto")
"""card: the card's URL (after the cache and mirrors); hub: the Hugging Face Hub; auto: card, then Hub."""
_TRUE = {"1", "true", "yes", "on"}


def default_cache_dir() -> Path:
    """``$ZOO_CACHE``, else torch.hub's checkpoint folder (``$TORCH_HOME/hub/checkpoints``).

    Sharing torch.hub's folder means files timm or torch.hub already downloaded are reused.
    """
    if os.environ.get("ZOO_CACHE"):
        return Path(os.environ["ZOO_CACHE"]).expanduser()
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def env_flag(name: str) -> bool:
    """Whether the environment variable ``name`` is set to a true value (1, true, yes, on)."""
    return os.environ.get(name, "").strip().lower() in _TRUE


def env_number(name: str) -> float:
    """The environment variable ``name`` as a number >= 0, or an InputError saying so."""
    from zoo.errors import InputError

    text = os.environ.get(name, "").strip()
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and value < float("inf")):
        raise InputError(f"${name}={text!r} is not a number >= 0", hint=f"unset {name} or set it to e.g. 60")
    return value


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
class FetchOptions:
    """How weights are fetched, verified and cached.

    Build it with :meth:`from_env` so the environment variables are honoured::

        options = FetchOptions.from_env(offline=True, mirrors=("/srv/weights",))
    """

    cache_dir: Path = option(
        flag="--cache-dir",
        env=("ZOO_CACHE", "TORCH_HOME"),
        env_text="ZOO_CACHE",
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
    progress: bool = True
    """Show a byte progress bar on stderr."""
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
        if self.source not in WEIGHTS_SOURCES:
            raise ValueError(f"weights source {self.source!r} is not one of {', '.join(WEIGHTS_SOURCES)}")
        if self.lock_path is not None:
            object.__setattr__(self, "lock_path", Path(self.lock_path))

    @classmethod
    def from_env(cls, **overrides: Any) -> "FetchOptions":
        """Options from the environment, with ``overrides`` (``None`` values are ignored).

        ``ZOO_CACHE`` (else ``$TORCH_HOME/hub/checkpoints``), ``ZOO_MIRROR``,
        ``ZOO_OFFLINE=1`` or ``HF_HUB_OFFLINE=1``, ``ZOO_LOCK`` (lock file path),
        ``ZOO_WEIGHTS_SOURCE`` (card, hub or auto), ``ZOO_MIN_RATE`` and ``ZOO_STALL_SECONDS`` (the stall rule).
        Progress goes to zoo's progress channel (bars on a terminal, lines when piped); ``ZOO_PROGRESS=0`` turns it off.
        """
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown FetchOptions field(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {
            "cache_dir": default_cache_dir(),
            "mirrors": parse_mirrors(os.environ.get("ZOO_MIRROR", "")),
            "offline": env_flag("ZOO_OFFLINE") or env_flag("HF_HUB_OFFLINE"),
            "lock_path": Path(os.environ["ZOO_LOCK"]) if os.environ.get("ZOO_LOCK") else DEFAULT_LOCK_PATH,
            "progress": env_flag("ZOO_PROGRESS") if os.environ.get("ZOO_PROGRESS") else True,
            "source": os.environ.get("ZOO_WEIGHTS_SOURCE", "").strip().lower() or "card",
        }
        for name, variable in (("min_rate", "ZOO_MIN_RATE"), ("stall_seconds", "ZOO_STALL_SECONDS")):
            if os.environ.get(variable, "").strip():
                values[name] = env_number(variable)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values["source"] not in WEIGHTS_SOURCES:
            from zoo.errors import InputError

            raise InputError(
                f"weights source {values['source']!r} (from ZOO_WEIGHTS_SOURCE or --weights-source) is not one of "
                f"{', '.join(WEIGHTS_SOURCES)}",
                hint="use card, hub or auto",
            )
        return cls(**values)


__all__ = ["DEFAULT_LOCK_PATH", "WEIGHTS_SOURCES", "FetchOptions", "default_cache_dir", "env_flag", "is_url", "parse_mirrors"]
