"""Model-index parsing: every claim with its value, precision and source line."""

from zoo.index.loader import DEFAULT_INDEX, Index, load_index

__all__ = ["DEFAULT_INDEX", "Index", "load_index"]
