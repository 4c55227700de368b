"""zoo: check a model zoo's documented numbers against reality."""

__version__ = "0.1.0"
