"""Where things live, and the dispatcher's own settings file.

- Database: ``--db`` or ``DISPATCH_TUI_DB``, else ``dispatch.db`` in the user data
  directory (``~/.local/share/dispatch-tui`` on Linux, ``~/Library/Application
  Support/dispatch-tui`` on macOS, ``%LOCALAPPDATA%\\dispatch-tui`` on Windows).
  A value starting with ``postgresql://`` names a PostgreSQL database instead.
- Config: ``DISPATCH_TUI_CONFIG`` or ``config.toml`` in the user config directory
  (``~/.config/dispatch-tui`` on Linux). It holds per-person settings only; what
  the whole shop shares (time zone, SLA targets, holidays) lives in the database.

Example ``config.toml``::

    name = "Alice"        # recorded on every audit event (default: OS login name)
    keymap = "vim"        # "default", "vim" or a path to a TOML keymap

    [keys]                # single overrides on top of the chosen keymap
    "app.help" = "f1"
"""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from dispatch_tui.errors import InvalidInput

APP_NAME = "dispatch-tui"
DB_ENV = "DISPATCH_TUI_DB"
CONFIG_ENV = "DISPATCH_TUI_CONFIG"
#: Values of --db / DISPATCH_TUI_DB taken as a server URL (the same list as store's).
DB_URL_PREFIXES = ("postgresql://", "postgresql+psycopg://", "postgres://")


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "dispatch.db"


class _NoFolder:
    """The "folder" of a server database: there is nothing to create on our side."""

    def mkdir(self, *_args: object, **_kwargs: object) -> None:
        return None


class DatabaseURL(str):
    """A ``postgresql://`` URL given as the database: kept as text (a Path would fold
    its ``//``), answering the two questions the commands ask of a path."""

    def exists(self) -> bool:
        """Whether the database already holds a dispatch-tui desk (``init`` and ``--demo``
        ask, to know whether they are setting up a new one)."""
        from dispatch_tui.store.postgres_backend import holds_desk

        return holds_desk(self)

    @property
    def parent(self) -> _NoFolder:
        # The database belongs to the server's administrator; we never create it.
        return _NoFolder()


def resolve_db_path(cli_value: str | None) -> Path | DatabaseURL:
    value = cli_value or os.environ.get(DB_ENV)
    if value and value.startswith(DB_URL_PREFIXES):
        return DatabaseURL(value)
    return Path(value).expanduser() if value else default_db_path()


def config_path() -> Path:
    value = os.environ.get(CONFIG_ENV)
    if value:
        return Path(value).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def os_login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "dispatcher"


@dataclass(frozen=True)
class UserConfig:
    name: str | None = None
    keymap: str = "default"
    keys: dict[str, str] = field(default_factory=dict)
    path: Path | None = None


def load_user_config(path: Path | None = None) -> UserConfig:
    """Read the config file; a missing file means defaults, a broken one is an error."""
    path = path or config_path()
    if not path.exists():
        return UserConfig(path=path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"config file {path} is not valid TOML: {exc}") from None
    known = {"name", "keymap", "keys"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(
            f"config file {path}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InvalidInput(f"config file {path}: 'name' must be a non-empty string")
    keymap = data.get("keymap", "default")
    if not isinstance(keymap, str):
        raise InvalidInput(f"config file {path}: 'keymap' must be a string")
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise InvalidInput(f"config file {path}: [keys] must map binding ids to key strings")
    return UserConfig(name=name, keymap=keymap, keys=dict(keys), path=path)
