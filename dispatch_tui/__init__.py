"""dispatch-tui: a keyboard-driven service desk for the dispatcher of a managed service provider."""

__version__ = "0.1.0"
