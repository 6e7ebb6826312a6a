"""Shipped keymaps (``default.toml``, ``vim.toml``), read with importlib.resources."""
