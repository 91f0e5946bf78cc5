"""initlint: static analysis of neural-network weight initialization."""

__version__ = "0.1.0"
