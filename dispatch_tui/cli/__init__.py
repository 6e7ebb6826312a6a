"""The ``dispatch-tui`` command line (Typer)."""
