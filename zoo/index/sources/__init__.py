"""Every source of claims the index reads, one module each (see :mod:`zoo.index.sources.base`).

=================  ===========================================================  =========================
source             reads                                                        ``--index``
=================  ===========================================================  =========================
``model-index``    Papers-with-Code model-index YAML (timm cards, OpenMMLab     a file, a folder, its
                   metafiles, ``zoo import torchvision`` output)                 root model-index.yml
``hf-model-card``  a README.md's front matter ``model-index`` (the Hub's        README.md, a folder of
                   schema)                                                      model folders
``hf-model-card``  the same README fetched from the Hub at a pinned commit      ``hf:ORG/NAME[@REV]``
=================  ===========================================================  =========================
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from zoo.index.sources.base import ClaimSource, Reading, SourceInput
from zoo.index.sources.hf_card import SOURCE as HF_CARD
from zoo.index.sources.hf_hub import SOURCE as HF_HUB
from zoo.index.sources.model_index import SOURCE as MODEL_INDEX

SOURCES: tuple[ClaimSource, ...] = (HF_HUB, HF_CARD, MODEL_INDEX)
"""In the order a file is offered to them: the first that owns it reads it; model-index owns the rest."""


def source_of_spec(given: str) -> Optional[ClaimSource]:
    """The source whose own form ``--index given`` is (``hf:ORG/NAME``), or None for a path."""
    return next((s for s in SOURCES if s.owns_spec(given)), None)


def source_of_file(path: Path, text: str) -> ClaimSource:
    """The source that reads a file found through ``--index``."""
    return next(s for s in SOURCES if s.owns_file(path, text))


__all__ = ["ClaimSource", "Reading", "SOURCES", "SourceInput", "source_of_file", "source_of_spec"]
