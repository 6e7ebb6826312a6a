"""Keymaps: TOML files that map binding ids to keys, checked before the app starts.

A keymap file holds one table::

    [bindings]
    "screen.triage" = "f3"
    "table.cursor_down" = "j,down"     # several keys: comma-separated

``load_keymap`` starts from the shipped ``default`` keymap, lays the chosen keymap
over it, then the user's single overrides (config ``[keys]``), and validates the
result against the bindings the code declares. Validation happens here rather than
in Textual because Textual silently ignores unknown ids and bad key names, and only
reports clashes once a key is pressed.

Which bindings exist is discovered, not listed by hand: every class with
``BINDINGS`` in the ``dispatch_tui.screens`` package (and the App) is found by
walking the package, so a screen added later is covered without touching this file.
"""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from dispatch_tui.errors import InvalidInput

if TYPE_CHECKING:
    from textual.binding import Binding

SHIPPED = ("default", "vim")
MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})


# -- key names -----------------------------------------------------------------------


@cache
def _named_keys() -> frozenset[str]:
    from textual.keys import Keys

    names = {key.value.rpartition("+")[2] for key in Keys}
    # "<any>"-style entries are internal markers, not keys a person can press.
    return frozenset(name for name in names if not name.startswith("<"))


def _char_name(char: str) -> str:
    """The name Textual gives a symbol key ("?" -> "question_mark"), from public tables."""
    from textual.keys import KEY_NAME_REPLACEMENTS

    if char.isalnum():
        return char
    try:
        name = unicodedata.name(char).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return char
    return KEY_NAME_REPLACEMENTS.get(name, name)


def _is_named_symbol(name: str) -> bool:
    """True for names of printable symbols such as "question_mark", "slash" or "plus"."""
    from textual.keys import KEY_TO_UNICODE_NAME, REPLACED_KEYS

    original = REPLACED_KEYS.get(name, name)
    unicode_name = KEY_TO_UNICODE_NAME.get(original, original.replace("_", " ").upper())
    try:
        char = unicodedata.lookup(unicode_name)
    except KeyError:
        return False
    return len(char) == 1 and char.isprintable()


def normalise_key(key: str) -> str | None:
    """The key as Textual names it ("?" -> "question_mark"), or None if it is no key."""
    key = key.strip()
    if not key:
        return None
    if len(key) == 1:
        return _char_name(key) if key.isprintable() else None
    *modifiers, base = key.split("+")
    if not base or any(m not in MODIFIERS for m in modifiers):
        return None
    if len(modifiers) != len(set(modifiers)):
        return None
    if len(base) == 1:
        # Textual only translates a lone symbol; "ctrl+?" would never match a key press.
        if not base.isalnum():
            return None
        return key
    if base in _named_keys() or _is_named_symbol(base):
        return key
    return None


def split_keys(value: str) -> list[str]:
    return [part.strip() for part in value.split(",")]


# -- where the bindings are ----------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Bindings that are live at the same time, so no key may appear twice among them."""

    name: str
    bindings: tuple[Binding, ...]


def _expanded(bindings: Iterable[object]) -> list[Binding]:
    from textual.binding import Binding

    return list(Binding.make_bindings(bindings))  # type: ignore[arg-type]


def class_bindings(cls: type) -> list[Binding]:
    """A DOM class's bindings after inheritance: a subclass's binding replaces a base's
    binding for the same key, as Textual merges them."""
    by_key: dict[str, list[Binding]] = {}
    for base in reversed(cls.__mro__):
        own = base.__dict__.get("BINDINGS")
        if not own:
            continue
        layer: dict[str, list[Binding]] = {}
        for binding in _expanded(own):
            layer.setdefault(binding.key, []).append(binding)
        by_key.update(layer)
    return [binding for group in by_key.values() for binding in group]


def _screen_modules() -> Iterator[str]:
    import dispatch_tui.screens as package

    yield "dispatch_tui.app"
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        yield info.name


@cache
def _discovered_classes() -> tuple[type, ...]:
    from textual.dom import DOMNode

    found: dict[str, type] = {}
    for module_name in _screen_modules():
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, DOMNode)
                and value.__module__ == module_name
            ):
                found[f"{module_name}.{value.__qualname__}"] = value
    return tuple(found[name] for name in sorted(found))


def binding_scopes() -> list[Scope]:
    """The App, every screen (with the App bindings active beneath it), every widget."""
    from textual.app import App
    from textual.screen import ModalScreen, Screen

    from dispatch_tui.app import DispatchApp

    app_bindings = class_bindings(DispatchApp)
    # A modal screen cuts the binding chain: only the App's priority bindings reach it.
    app_priority = [b for b in app_bindings if b.priority]
    scopes = [Scope("app", tuple(app_bindings))]
    for cls in _discovered_classes():
        if issubclass(cls, App):
            continue
        own = class_bindings(cls)
        if issubclass(cls, ModalScreen):
            scopes.append(Scope(cls.__name__, tuple(app_priority + own)))
        elif issubclass(cls, Screen):
            scopes.append(Scope(cls.__name__, tuple(app_bindings + own)))
        else:
            scopes.append(Scope(cls.__name__, tuple(own)))
    return scopes


def all_binding_ids() -> set[str]:
    """Every binding id the app declares, on the App, its screens and its widgets."""
    return {b.id for scope in binding_scopes() for b in scope.bindings if b.id}


# -- reading and checking -------------------------------------------------------------


def _read_bindings(text: str, label: str) -> dict[str, str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"keymap {label}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"bindings"})
    if extra:
        raise InvalidInput(f"keymap {label}: unknown table or key {extra[0]!r}; use [bindings]")
    table = data.get("bindings", {})
    if not isinstance(table, dict):
        raise InvalidInput(f"keymap {label}: [bindings] must be a table of id = key")
    for binding_id, keys in table.items():
        if not isinstance(keys, str):
            raise InvalidInput(f'keymap {label}: "{binding_id}" must be a key string, like "f3"')
    return dict(table)


def _shipped_text(name: str) -> str:
    return resources.files("dispatch_tui.keymaps").joinpath(f"{name}.toml").read_text("utf-8")


def read_keymap_file(name_or_path: str) -> tuple[dict[str, str], str]:
    """The raw [bindings] of a shipped keymap (by name) or a file, and a label for errors."""
    if name_or_path in SHIPPED:
        label = f"{name_or_path}.toml"
        return _read_bindings(_shipped_text(name_or_path), label), label
    path = Path(name_or_path).expanduser()
    if path.suffix != ".toml" and not path.exists():
        names = ", ".join(SHIPPED)
        raise InvalidInput(
            f"unknown keymap {name_or_path!r}; use {names} or a path to a .toml file"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read keymap {path}: {exc.__class__.__name__}: {exc}") from None
    return _read_bindings(text, str(path)), str(path)


def _check_entry(binding_id: str, keys: str, label: str, known: set[str]) -> None:
    where = f'keymap {label}: "{binding_id}" = "{keys}"'
    if binding_id not in known:
        raise InvalidInput(f"{where}: no binding has this id")
    for key in split_keys(keys):
        if normalise_key(key) is None:
            hint = ""
            if "+" in key and len(key.rpartition("+")[2]) == 1 and not key[-1].isalnum():
                hint = f" (name the symbol, e.g. {key[:-1]}{_char_name(key[-1])})"
            raise InvalidInput(f"{where}: {key!r} is not a key{hint}")


def _check_scopes(keymap: dict[str, str], sources: dict[str, tuple[int, str]]) -> None:
    """No key twice among bindings live at once; blames the entry from the latest layer."""
    for scope in binding_scopes():
        owners: dict[str, Binding] = {}
        for binding in scope.bindings:
            if binding.id and binding.id in keymap:
                keys = split_keys(keymap[binding.id])
            else:
                keys = [binding.key]
            for key in keys:
                normal = normalise_key(key) or key
                other = owners.get(normal)
                if other is None:
                    owners[normal] = binding
                    continue
                if other.id == binding.id and other.action == binding.action:
                    continue
                # Only a clash the keymap made is the keymap's fault, and the entry
                # to fix is the one laid on last (the user's override, not default.toml).
                rank = {b.id: sources[b.id][0] for b in (binding, other) if b.id in sources}
                if not rank:
                    continue
                blamed = max((binding, other), key=lambda b: rank.get(b.id, -1) if b.id else -1)
                partner = other if blamed is binding else binding
                what = f'"{partner.id}"' if partner.id else f"Textual's {partner.action!r}"
                label = sources[blamed.id or ""][1]
                raise InvalidInput(
                    f'keymap {label}: "{blamed.id}" = "{keymap[blamed.id or ""]}": '
                    f"{key} is already bound to {what} in {scope.name}"
                )


def load_keymap(
    name_or_path: str = "default",
    overrides: dict[str, str] | None = None,
    *,
    overrides_label: str = "config [keys]",
) -> dict[str, str]:
    """The validated id -> keys mapping to hand to ``DispatchApp(keymap=...)``.

    ``name_or_path`` is "default", "vim" or a path to a TOML keymap; ``overrides``
    are single ids from the user's config. Raises ``InvalidInput`` with one line
    naming the file and the entry at fault.

    A shipped keymap without overrides is returned unchecked: tests/test_keymap.py
    checks every shipped keymap with ``checked_keymap``, and checking again here
    would import every screen (to find their bindings) before the app's first
    screen, which needs only one. A file or any override is always checked.
    """
    if name_or_path in SHIPPED and not overrides:
        merged: dict[str, str] = {}
        for bindings, _label in _layers(name_or_path, None, overrides_label):
            merged.update(bindings)
        return merged
    return checked_keymap(name_or_path, overrides, overrides_label=overrides_label)


def _layers(
    name_or_path: str, overrides: dict[str, str] | None, overrides_label: str
) -> list[tuple[dict[str, str], str]]:
    """The keymaps laid over each other, lowest first, each with its label for errors."""
    layers = [read_keymap_file("default")]
    if name_or_path != "default":
        layers.append(read_keymap_file(name_or_path))
    layers.append((dict(overrides or {}), overrides_label))
    return layers


def checked_keymap(
    name_or_path: str = "default",
    overrides: dict[str, str] | None = None,
    *,
    overrides_label: str = "config [keys]",
) -> dict[str, str]:
    """``load_keymap``'s result, always checked against the bindings the code declares."""
    known = all_binding_ids()
    merged: dict[str, str] = {}
    sources: dict[str, tuple[int, str]] = {}
    layers = _layers(name_or_path, overrides, overrides_label)
    for rank, (bindings, label) in enumerate(layers):
        for binding_id, keys in bindings.items():
            _check_entry(binding_id, keys, label, known)
            merged[binding_id] = keys
            sources[binding_id] = (rank, label)
    _check_scopes(merged, sources)
    return merged
