"""The Textual screens: one per file, each with its .tcss beside it.

Only ``dispatch_tui.app`` and the screens import Textual; the store, rules and
services below them never do (tests/test_import_hygiene.py checks it).
"""
