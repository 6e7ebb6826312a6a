"""The dashboard's parts: its data in one fetch, pure chart text, and its panels."""
