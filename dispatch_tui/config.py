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

Background work the app does while it runs (all off unless set):

- ``backup_every_minutes``: make a rolling backup of the database this often
  (a number of minutes, at least 1). ``backup_folder`` is where (default: ``backups``
  in the user data directory; keep it on a LOCAL disk, not the share the database
  is on); ``backup_keep`` is how many of the newest to keep (default 7).
  SQLite files only: a PostgreSQL server is backed up with ``pg_dump``.
- ``mail_watch``: a folder of .eml files or a Maildir; the app imports what is there
  and whatever arrives while it runs, as ``dispatch-tui import --watch`` does.

::

    backup_every_minutes = 30
    backup_folder = "~/dispatch-backups"
    backup_keep = 7
    mail_watch = "~/Maildir"
"""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from dispatch_tui.errors import InvalidInput

#: How many rolling backups are kept when ``backup_keep`` is not set.
DEFAULT_BACKUP_KEEP = 7
#: More often than this, a backup of a big file on a share would make others' saves
#: wait most of the time (see store/backup.py).
MIN_BACKUP_MINUTES = 1.0

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


def default_backup_folder() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "backups"


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
    #: Rolling backups: off while ``backup_every_minutes`` is None.
    backup_every_minutes: float | None = None
    backup_folder: Path = field(default_factory=default_backup_folder)
    backup_keep: int = DEFAULT_BACKUP_KEEP
    #: A folder of .eml files or a Maildir imported in the background, or None.
    mail_watch: Path | None = None


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
    known = {
        "name",
        "keymap",
        "keys",
        "backup_every_minutes",
        "backup_folder",
        "backup_keep",
        "mail_watch",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(
            f"config file {path}: unknown setting {unknown[0]!r} "
            f"(known: {', '.join(sorted(known))})"
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
    return UserConfig(
        name=name,
        keymap=keymap,
        keys=dict(keys),
        path=path,
        **_background_settings(data, path),
    )


def _folder(data: dict[str, object], key: str, path: Path) -> Path | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"config file {path}: {key!r} must be a folder path (a string)")
    return Path(value.strip()).expanduser()


def _background_settings(data: dict[str, object], path: Path) -> dict[str, object]:
    """The rolling-backup and mail-watch settings, checked; only those that were set."""
    settings: dict[str, object] = {}
    minutes = data.get("backup_every_minutes")
    if minutes is not None:
        # bool is an int to Python, but "backup_every_minutes = true" is a mistake.
        if isinstance(minutes, bool) or not isinstance(minutes, int | float):
            raise InvalidInput(
                f"config file {path}: 'backup_every_minutes' must be a number of minutes"
            )
        if minutes < MIN_BACKUP_MINUTES:
            raise InvalidInput(
                f"config file {path}: 'backup_every_minutes' must be at least "
                f"{MIN_BACKUP_MINUTES:g} (it is {minutes:g})"
            )
        settings["backup_every_minutes"] = float(minutes)
    folder = _folder(data, "backup_folder", path)
    if folder is not None:
        if minutes is None:
            # A folder alone would silently never get a backup; say what is missing.
            raise InvalidInput(
                f"config file {path}: 'backup_folder' is set but 'backup_every_minutes' "
                "is not; say how often to back up"
            )
        settings["backup_folder"] = folder
    keep = data.get("backup_keep")
    if keep is not None:
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise InvalidInput(
                f"config file {path}: 'backup_keep' must be a whole number of backups, at least 1"
            )
        settings["backup_keep"] = keep
    mail = _folder(data, "mail_watch", path)
    if mail is not None:
        settings["mail_watch"] = mail
    return settings
