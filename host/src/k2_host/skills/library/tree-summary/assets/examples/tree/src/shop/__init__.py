"""The shop package."""

__version__ = "0.3.0"
