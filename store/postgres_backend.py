"""The PostgreSQL side of ``Database``, for shops that outgrow one shared file.

Same tables, same row versions, same ``read()``/``write()`` contract as on SQLite:

- Writers are serialised by a transaction-level advisory lock taken first thing in
  every ``write()`` (``pg_advisory_xact_lock``), the counterpart of SQLite's
  ``BEGIN IMMEDIATE``. Why not SERIALIZABLE with a retry: ``write()`` is a context
  manager, so the body of a failed transaction cannot be run again; a serialization
  failure at commit could only be reported, never retried. Serialising writers up
  front keeps every read-check-write (the triage gate, queue positions, the version
  check) race-free exactly as on SQLite, and what is retried is only the wait for the
  lock. Writes run at READ COMMITTED so each statement sees everything committed
  before the lock was granted (a REPEATABLE READ snapshot would be taken while
  waiting, before the previous writer's commit).
- Reads run at REPEATABLE READ: one consistent snapshot per ``read()``, as a
  deferred SQLite transaction gives; read-only, they can never fail to serialise.
- Audit ids are allocated and committed under that lock, so they become visible in
  id order and the change log can be followed by "id greater than the last seen".
- Every write transaction that changed something sends ``NOTIFY dispatch_changes``
  (delivered at commit only); store/pg_changes.py listens for it.

The lock key includes ``current_schema()``, so several desks can share one database
in separate schemas (each a ``search_path``) without blocking each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import SQLModel, create_engine

from dispatch_tui.store.errors import DatabaseUnusable

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlmodel import Session

    from dispatch_tui.store.changes import ChangeFeed

#: URL schemes taken as a PostgreSQL server rather than a file name.
URL_PREFIXES = ("postgresql://", "postgresql+psycopg://", "postgres://")

#: NOTIFY channel for the change feed; the payload is the desk's schema name.
CHANNEL = "dispatch_changes"

#: First key of the two-key advisory lock: a fixed number that says "dispatch-tui
#: writer", so the lock never collides with another application's advisory locks.
WRITE_LOCK_CLASS = 0x0D15_7C4

#: SQLSTATEs that mean "someone else holds what we need; nothing was done": lock wait
#: timed out, serialization failure, deadlock.
_LOCK_STATES = {"55P03", "40001", "40P01"}

#: Connections kept open per process. A dispatcher's app runs one query at a time plus
#: a worker or two; more would only hold server slots.
POOL_SIZE = 3

_NOTIFY = text(
    "SELECT pg_notify(:channel, current_schema()) "
    "WHERE pg_current_xact_id_if_assigned() IS NOT NULL"
)


def is_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(URL_PREFIXES)


def _parse(target: str) -> URL:
    try:
        url = make_url(target)
    except ArgumentError:
        raise DatabaseUnusable(f"cannot read {target!r} as a PostgreSQL URL") from None
    # A bare postgresql:// would pick SQLAlchemy's default driver (psycopg2); the
    # project depends on psycopg 3.
    return url.set(drivername="postgresql+psycopg")


def holds_desk(target: str) -> bool:
    """Whether the database at ``target`` already has dispatch-tui's tables.

    False as well when it cannot be reached: opening it next says why, in one line.
    """
    try:
        import psycopg
    except ImportError:
        return False
    url = _parse(target).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()
    except psycopg.Error:
        return False
    return bool(row and row[0])


class PostgresBackend:
    """Connecting to, locking and notifying on one PostgreSQL database (or schema)."""

    kind = "postgresql"
    driver_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, target: str, *, lock_timeout: float) -> None:
        self.url = _parse(target)
        #: Shown in messages and on screen: the password is never printed.
        self.path: str = self.url.set(drivername="postgresql").render_as_string(hide_password=True)
        #: What to pass to ``Database()`` to open the same database again (secret).
        self.target: str = self.url.render_as_string(hide_password=False)
        self.lock_timeout = lock_timeout

    @property
    def libpq_url(self) -> str:
        """The URL for a plain psycopg connection (the change feed's listener)."""
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)

    # -- opening -----------------------------------------------------------------

    def check_target(self, create: bool) -> None:
        if not self.url.database:
            raise DatabaseUnusable(f"{self.path} names no database; add /DBNAME to the URL")

    def exists(self) -> bool:
        # A server database is created by its administrator, never by us; "create"
        # only means "set up the tables if there are none".
        return True

    def make_engine(self, create: bool) -> Engine:
        try:
            import psycopg  # noqa: F401 - only to give a clear line when it is missing
        except ImportError:
            raise DatabaseUnusable(
                "PostgreSQL needs the psycopg driver: pip install 'dispatch-tui[postgres]'"
            ) from None
        from dispatch_tui.store.models import share_partial_indexes

        share_partial_indexes(SQLModel.metadata)
        # libpq wants whole seconds, at least 2.
        connect_timeout = max(2, round(self.lock_timeout))
        engine = create_engine(
            self.url,
            pool_size=POOL_SIZE,
            max_overflow=10,
            # A server restart or an idle timeout on the network must not surface as
            # an error on the next save: test the pooled connection first.
            pool_pre_ping=True,
            connect_args={"connect_timeout": connect_timeout, "application_name": "dispatch-tui"}
            | self._url_connect_args(),
        )
        event.listen(engine, "begin", self._on_begin)
        return engine

    def _url_connect_args(self) -> dict[str, str]:
        # application_name given in the URL (tests use it to find their connections)
        # wins over ours.
        name = self.url.query.get("application_name")
        return {"application_name": str(name)} if name else {}

    def _on_begin(self, conn) -> None:
        options = conn.get_execution_options()
        if not options.get("dispatch_immediate", False):
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return
        wait = float(options.get("dispatch_lock_wait", self.lock_timeout))
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(wait * 1000))}")
        conn.exec_driver_sql(
            f"SELECT pg_advisory_xact_lock({WRITE_LOCK_CLASS}, hashtext(current_schema()))"
        )
        # Row locks a non-dispatch-tui writer holds get the full timeout, like SQLite's
        # busy timeout, rather than what was left of the wait for the writer lock.
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(self.lock_timeout * 1000)}")

    def open_check(self) -> list[str]:
        # The server checks its own pages (data checksums, crash recovery); there is
        # no file of ours to read here.
        return []

    def damaged(self, problem: str) -> DatabaseUnusable:
        return DatabaseUnusable(f"{self.path} reports a problem ({problem})")

    def unusable(self, reason: object) -> DatabaseUnusable:
        first = str(reason).strip().splitlines()[0] if str(reason).strip() else "no reason given"
        return DatabaseUnusable(
            f"cannot use the PostgreSQL database {self.path} ({first}); check the URL, that "
            "the server runs, and the password (PGPASSWORD or ~/.pgpass)"
        )

    def foreign(self) -> DatabaseUnusable:
        return DatabaseUnusable(
            f"{self.path} holds tables of another program, not a dispatch-tui database; "
            "give dispatch-tui an empty database or schema of its own"
        )

    # -- transactions ------------------------------------------------------------

    @staticmethod
    def is_lock_error(exc: BaseException) -> bool:
        state = getattr(getattr(exc, "orig", None), "sqlstate", None)
        return state in _LOCK_STATES

    def before_commit(self, session: Session) -> None:
        """Tell listeners, at commit, that this transaction changed something.

        Flushed first so the ORM's pending changes count; a transaction that wrote
        nothing has no transaction id yet and sends nothing, as on SQLite, where a
        commit that changed nothing leaves ``data_version`` alone.
        """
        session.flush()
        self.notify_changes(session.connection())

    def notify_changes(self, conn: Connection) -> None:
        """``before_commit`` for a Core write (``Database.write_core``): nothing to flush."""
        conn.execute(_NOTIFY, {"channel": CHANNEL})

    def change_feed(self) -> ChangeFeed:
        from dispatch_tui.store.pg_changes import NotifyFeed

        return NotifyFeed(self.libpq_url, connect_timeout=max(2, round(self.lock_timeout)))

    # -- checks ------------------------------------------------------------------

    def connect_raw(self, *, readonly: bool = False):
        raise DatabaseUnusable(
            f"{self.path} is a PostgreSQL database: file checks and copies are for SQLite "
            "files; use pg_dump to back it up"
        )

    def quick_check(self, *, max_errors: int = 10) -> list[str]:
        return self.open_check()

    def integrity_check(self, *, max_errors: int = 10) -> list[str]:
        return self.open_check()
