"""Domain rules as plain functions over plain values: no database, no terminal.

The gate, the priority matrix, the SLA clock, suggestions and health checks live
here so they can be unit-tested exhaustively and reused by the TUI and the CLI.
"""
