"""The single place where sigprop's version is defined."""

__version__ = "0.1.0"
