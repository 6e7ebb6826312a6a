"""The Textual application: five sections as modes, opened on whatever needs doing first.

Scripts and benchmarks run it headless: ``async with DispatchApp(path).run_test() as pilot``.

Once the database is open the App also runs what every section shares: live refresh
(screens/live_refresh.py), this dispatcher's "being triaged by" claim
(screens/claim_keeper.py), and, when config.toml asks, rolling backups and the mail
watcher (screens/background_jobs.py). All of their database work runs on workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from dispatch_tui.config import UserConfig, os_login_name
from dispatch_tui.errors import DispatchError
from dispatch_tui.screens import background_jobs, live_refresh
from dispatch_tui.screens.background_jobs import (
    BackgroundTrouble,
    BackupDone,
    MailArrived,
    MailWatch,
    RollingBackups,
)
from dispatch_tui.screens.base import NOT_READ, DeskScreen
from dispatch_tui.screens.claim_keeper import RENEW_SECONDS, ClaimKeeper
from dispatch_tui.screens.commands import DeskCommands
from dispatch_tui.screens.help import HelpScreen
from dispatch_tui.screens.live_refresh import DeskChanged, LiveRefresh
from dispatch_tui.screens.rest_timer import RestTimer
from dispatch_tui.screens.startup import DatabaseErrorScreen, StartupScreen
from dispatch_tui.screens.widgets.desk_header import error_line
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.settings import shop_timezone
from dispatch_tui.services.tickets import desk_counts
from dispatch_tui.store import Database, StoreError
from dispatch_tui.store.changes import ChangeWatcher
from dispatch_tui.store.queries import DeskCounts
from dispatch_tui.textsafe import one_line

if TYPE_CHECKING:
    from dispatch_tui.services.importer import Outcome

OPEN_GROUP = "open-database"
CLAIM_GROUP = "claims"
#: Moving down the queue with the arrow keys should not write a claim per row passed.
CLAIM_SETTLE_SECONDS = 0.3
#: Mail arriving in a burst gets one notification, not one per message.
MAIL_NOTICE_SECONDS = 1.0
#: Worker group -> the title its failures are shown under.
BACKGROUND_GROUPS = {
    live_refresh.GROUP: "Live refresh",
    CLAIM_GROUP: "Triage claim",
    background_jobs.BACKUP_GROUP: "Rolling backup failed",
    background_jobs.MAIL_GROUP: "Mail watch stopped",
    background_jobs.SLA_GROUP: "SLA figures not brought up to date",
}
#: On the way out, how long releasing the claim and closing the watcher may take
#: before the app exits anyway (the claim then lapses by itself).
EXIT_WAIT_SECONDS = 3.0


#: mode -> (module in dispatch_tui.screens, class) of each section's screen.
SECTION_SCREENS: dict[str, tuple[str, str]] = {
    "intake": ("intake", "IntakeScreen"),
    "triage": ("triage", "TriageScreen"),
    "dispatch": ("dispatch", "DispatchScreen"),
    "schedule": ("schedule", "ScheduleScreen"),
    "dashboard": ("dashboard", "DashboardScreen"),
}


def _freeze_imports() -> None:
    """Leave what is loaded by now out of every later garbage collection (once).

    Textual, SQLAlchemy, pydantic and the tables are some 100,000 objects that live as
    long as the process; every full collection walked them all again, and the first one
    came while the first section was being built (80-180 ms on the bench machine). Frozen
    objects are never freed, so this is done once, before the first app starts, while
    nearly everything alive is a module, a class or a constant.
    """
    global _FROZEN
    if not _FROZEN:
        _FROZEN = True
        gc.freeze()


_FROZEN = False


@dataclass(frozen=True)
class ReadAhead:
    """A section's first data, read by the worker that opened the desk."""

    screen_class: type[DeskScreen]
    data: object


def section_class(mode: str) -> type[Screen[None]]:
    """The screen class of a section, its module imported now if it was not yet.

    Only the section opened first is needed before anything shows; the others (and
    their charts, forms and panels) are imported when F2-F6 first reaches them.
    Keymap validation finds every binding by walking the package (keymap.py), not
    through ``MODES``, so a bad keymap is still caught at launch.
    """
    module, name = SECTION_SCREENS[mode]
    screen_class: type[Screen[None]] = getattr(
        importlib.import_module(f"dispatch_tui.screens.{module}"), name
    )
    return screen_class


def section(mode: str) -> Callable[[], Screen[None]]:
    """A mode's screen factory that imports the section's module on first use."""

    def make() -> Screen[None]:
        return section_class(mode)()

    make.__qualname__ = make.__name__ = SECTION_SCREENS[mode][1]
    return make


class DispatchApp(App[None]):
    """The dispatcher's desk on one database file.

    ``db`` is a path (opened on a worker thread; an unusable file shows an error
    screen) or an open ``Database``. ``actor`` is the name recorded on every change
    (default: the OS login name). ``keymap`` maps binding ids to keys and must
    already be validated (``dispatch_tui.keymap.load_keymap``).
    """

    TITLE = "dispatch-tui"
    #: mode -> (title, what it is for); the order is the F-key order.
    SECTIONS: ClassVar[dict[str, tuple[str, str]]] = {
        "intake": ("Intake", "Record and review incoming requests"),
        "triage": ("Triage", "Work the queue of new tickets, oldest first"),
        "dispatch": ("Dispatch", "Assign triaged work to technicians"),
        "schedule": ("Schedule", "Technician calendars and service calls"),
        "dashboard": ("Dashboard", "The desk's health in numbers"),
    }
    MODES: ClassVar[dict[str, str | Callable[[], Screen]]] = {
        mode: section(mode) for mode in SECTION_SCREENS
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: the section keys must work from any field; TextArea, for one,
        # binds f6 to "select line" and would otherwise swallow the Dashboard key.
        Binding("f2", "switch_mode('intake')", "Intake", id="screen.intake", priority=True),
        Binding("f3", "switch_mode('triage')", "Triage", id="screen.triage", priority=True),
        Binding("f4", "switch_mode('dispatch')", "Dispatch", id="screen.dispatch", priority=True),
        Binding("f5", "switch_mode('schedule')", "Schedule", id="screen.schedule", priority=True),
        Binding(
            "f6", "switch_mode('dashboard')", "Dashboard", id="screen.dashboard", priority=True
        ),
        Binding("question_mark", "help", "Help", id="app.help"),
        # Textual's own quit and palette bindings have no id, so they could not be
        # remapped; declaring them here replaces them.
        Binding(
            "ctrl+p", "command_palette", "Commands", show=False, priority=True, id="app.commands"
        ),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
    ]
    COMMANDS = App.COMMANDS | {DeskCommands}

    def __init__(
        self,
        db: str | os.PathLike[str] | Database,
        *,
        actor: str | None = None,
        keymap: dict[str, str] | None = None,
        config: UserConfig | None = None,
    ) -> None:
        super().__init__()
        _freeze_imports()
        self._db_source = db
        self._config = config or UserConfig()
        self._owns_db = not isinstance(db, Database)
        self.actor = actor or os_login_name()
        self.desk: Desk | None = None
        #: The shop's time zone, read once at opening: every time on screen is shop time,
        #: whatever zone the dispatcher's machine is set to.
        self.shop_zone: ZoneInfo = ZoneInfo("UTC")
        self._initial_keymap = dict(keymap or {})
        self._reported_clashes: set[tuple[str, ...]] = set()
        self.live: LiveRefresh | None = None
        self.claims: ClaimKeeper | None = None
        self.backups: RollingBackups | None = None
        self.mail: MailWatch | None = None
        self._claim_rest = RestTimer(self, self._sync_claim)
        self._mail_counts: dict[Outcome, int] = {}
        self._mail_timer: Timer | None = None
        self._reported_background: set[str] = set()
        self._ahead: ReadAhead | None = None
        self._opening_counts: DeskCounts | None = None

    # -- start-up -------------------------------------------------------------------------

    def get_default_screen(self) -> StartupScreen:
        source = self._db_source.path if isinstance(self._db_source, Database) else self._db_source
        return StartupScreen(os.fspath(source))

    def on_mount(self) -> None:
        if self._initial_keymap:
            self.set_keymap(self._initial_keymap)
        self._open_desk()

    @work(thread=True, exclusive=True, group=OPEN_GROUP, exit_on_error=False)
    def _open_desk(self) -> None:
        # Opening checks and may migrate the file, and a shared file may be locked:
        # neither may freeze the terminal.
        source = self._db_source
        try:
            db = source if isinstance(source, Database) else Database(source)
            desk = Desk(db, self.actor)
            counts = desk_counts(desk)
        except (StoreError, DispatchError) as exc:
            # Expected: a wrong path, a locked or foreign file. Their message is the advice.
            self.call_from_thread(self._show_open_error, error_line(exc))
            return
        try:
            zone = shop_timezone(desk)
        except DispatchError as exc:
            # A zone name edited into the file by hand should not lock the desk; say so.
            self.call_from_thread(
                self.notify, f"{error_line(exc)}; showing UTC", severity="warning", markup=False
            )
            zone = ZoneInfo("UTC")
        try:
            watcher: ChangeWatcher | None = ChangeWatcher(desk.db)
        except (StoreError, DispatchError) as exc:
            # The desk works without it; others' changes then show on ctrl+r.
            watcher = None
            self.call_from_thread(
                self.notify,
                f"{error_line(exc)}; press ctrl+r to see others' changes",
                title="Live refresh is off",
                severity="warning",
                markup=False,
            )
        # Triage all before dispatching any: open where the work must start.
        mode = "triage" if counts.untriaged > 0 else "dispatch"
        ahead = self._read_ahead(mode, desk)
        self.call_from_thread(self._desk_opened, desk, mode, zone, watcher, ahead, counts)

    def _read_ahead(self, mode: str, desk: Desk) -> ReadAhead | None:
        """(Worker thread.) The first section's data, read before the section is built.

        The section is then drawn once, with its data, instead of empty with a loading
        indicator and again when its own first load comes back. Read after the change
        watcher was made, so anything committed since reaches the section by live
        refresh like any other change.
        """
        try:
            screen_class = section_class(mode)
            if not issubclass(screen_class, DeskScreen):
                return None
            data = screen_class.read_ahead(desk)
        except Exception:  # noqa: BLE001 - reported by the section's own load instead
            # Whatever went wrong, the section loads as usual once shown, and says why
            # there the way it always does (a notification over a usable screen).
            return None
        return None if data is NOT_READ else ReadAhead(screen_class, data)

    def _desk_opened(
        self,
        desk: Desk,
        mode: str,
        zone: ZoneInfo,
        watcher: ChangeWatcher | None,
        ahead: ReadAhead | None = None,
        counts: DeskCounts | None = None,
    ) -> None:
        self.desk = desk
        self.shop_zone = zone
        self._ahead = ahead
        self._opening_counts = counts
        self._start_background(desk, watcher)
        self.switch_mode(mode)

    def take_opening_counts(self) -> DeskCounts | None:
        """The desk counts read as the desk opened, for the first header (once).

        Read after the change watcher was made: a commit since then refreshes the
        header like any other change, and its own timer reads them again anyway."""
        counts, self._opening_counts = self._opening_counts, None
        return counts

    def take_read_ahead(self, screen: DeskScreen) -> object:
        """The data read ahead for ``screen``'s first showing (once), or ``NOT_READ``."""
        ahead = self._ahead
        if ahead is None or type(screen) is not ahead.screen_class:
            return NOT_READ
        self._ahead = None
        return ahead.data

    def _start_background(self, desk: Desk, watcher: ChangeWatcher | None) -> None:
        if watcher is not None:
            self.live = LiveRefresh(self, watcher)
            self.live.start()
        self.claims = ClaimKeeper(desk)
        self.set_interval(RENEW_SECONDS, self._renew_claim, name="claim renewal")
        config = self._config
        if config.backup_every_minutes is not None:
            if desk.db.kind == "sqlite":
                self.backups = RollingBackups(
                    self,
                    desk,
                    config.backup_folder,
                    minutes=config.backup_every_minutes,
                    keep=config.backup_keep,
                )
                self.backups.start()
            else:
                self.notify(
                    "Rolling backups copy SQLite files; back a PostgreSQL server up with pg_dump.",
                    title="Backups are off",
                    severity="warning",
                    markup=False,
                )
        if config.mail_watch is not None:
            self.mail = MailWatch(self, desk, config.mail_watch)
            self.mail.start()
        # Not needed for the first frame: started once the first section is painted,
        # rather than competing with building it for the one interpreter lock.
        self.call_after_refresh(background_jobs.catch_up_sla, self, desk)

    def _show_open_error(self, message: str) -> None:
        self.push_screen(DatabaseErrorScreen(message))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        group, error = event.worker.group, error_line(event.worker.error)
        if group == OPEN_GROUP:
            # Anything else that broke opening (a bug) still gets a screen, not a traceback.
            self._show_open_error(error)
        elif group in BACKGROUND_GROUPS:
            # Expected failures come as BackgroundTrouble; this is a bug, still one line.
            self.post_message(BackgroundTrouble(BACKGROUND_GROUPS[group], error, once=True))

    def on_background_trouble(self, message: BackgroundTrouble) -> None:
        if message.once:
            if message.error in self._reported_background:
                return
            self._reported_background.add(message.error)
        self.notify(message.error, title=message.title, severity="warning", markup=False)

    async def on_unmount(self) -> None:
        if self.mail is not None:
            self.mail.stop()
        self._claim_rest.cancel()
        if self._mail_timer is not None:
            self._mail_timer.stop()
        if self.backups is not None:
            self.backups.stop()
        if self.live is not None:
            self.live.stop()
        # Off the event loop, and bounded: a vanished share must not hang the exit.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.to_thread(self._close_background), EXIT_WAIT_SECONDS)
        if self._owns_db and self.desk is not None:
            self.desk.db.dispose()

    def _close_background(self) -> None:
        if self.claims is not None:
            self.claims.release_all()
        if self.live is not None:
            self.live.close()

    # -- live refresh, claims, background work --------------------------------------------

    def on_desk_changed(self, message: DeskChanged) -> None:
        # The section under any dialog: a colleague's save should update the list even
        # while help or a conflict dialog is open over it.
        section = next((s for s in reversed(self.screen_stack) if isinstance(s, DeskScreen)), None)
        if section is not None:
            section.desk_changed(message.changes)

    def hold_ticket(self, ticket_id: int | None) -> None:
        """Claim ``ticket_id`` for this dispatcher (None: release), shortly, on a worker."""
        if self.claims is None or not self.claims.want(ticket_id):
            return
        # A deadline moved per cursor move, not a timer restarted (screens/rest_timer.py).
        self._claim_rest.arm(CLAIM_SETTLE_SECONDS)

    def _sync_claim(self, *, renew: bool = False) -> None:
        claims = self.claims
        if claims is None:
            return

        def sync() -> None:
            try:
                claims.sync(renew=renew)
            except (StoreError, DispatchError) as exc:
                # Claims only inform: a locked file costs the "being triaged" notice,
                # never the dispatcher's work. The next renewal tries again.
                message = f"others may not see what you triage: {error_line(exc)}"
                self.post_message(BackgroundTrouble("Triage claim", message, once=True))

        self.run_worker(
            sync,
            name="claim",
            group=CLAIM_GROUP,
            thread=True,
            exit_on_error=False,
        )

    def _renew_claim(self) -> None:
        if self.claims is not None and self.claims.wanted is not None:
            self._sync_claim(renew=True)

    def on_backup_done(self, message: BackupDone) -> None:
        # Success is the normal case and stays quiet; the log of files is the record.
        message.stop()

    def on_mail_arrived(self, message: MailArrived) -> None:
        # Only when mail is watched: the importer (and its mail parsing) is not
        # needed to open the desk.
        from dispatch_tui.services.importer import Outcome

        result = message.result
        if result.outcome is Outcome.FAILED:
            self.notify(
                one_line(result.line()),
                title="Mail not imported",
                severity="warning",
                markup=False,
            )
            return
        if result.outcome not in (Outcome.IMPORTED, Outcome.THREADED):
            return
        self._mail_counts[result.outcome] = self._mail_counts.get(result.outcome, 0) + 1
        if self._mail_timer is None:
            self._mail_timer = self.set_timer(MAIL_NOTICE_SECONDS, self._notify_mail)

    def _notify_mail(self) -> None:
        self._mail_timer = None
        from dispatch_tui.services.importer import Outcome

        counts, self._mail_counts = self._mail_counts, {}
        imported = counts.get(Outcome.IMPORTED, 0)
        threaded = counts.get(Outcome.THREADED, 0)
        parts = []
        if imported:
            parts.append(f"{imported} new e-mail{'s' if imported != 1 else ''} imported")
        if threaded:
            parts.append(f"{threaded} repl{'ies' if threaded != 1 else 'y'} added to tickets")
        if parts:
            self.notify(", ".join(parts), title="Mail", markup=False)

    # -- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_mode":
            # No section can show anything until the database is open.
            return self.desk is not None
        return True

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen.title or "", self.screen.active_bindings))

    def key_display(self, binding_id: str, default: str) -> str:
        """How the key for ``binding_id`` is shown ("^s", "3"), after the user's keymap;
        for hints written into a screen, so they stay true when keys are remapped."""
        key = self._initial_keymap.get(binding_id, default).split(",")[0].strip()
        return self.get_key_display(Binding(key, ""))

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        # Textual calls this on every key press while the clash stands: report it once.
        names = tuple(sorted(b.id or b.action for b in clashed_bindings))
        if names in self._reported_clashes:
            return
        self._reported_clashes.add(names)
        keys = ", ".join(sorted({b.key for b in clashed_bindings}))
        self.notify(
            f"Your keymap took {keys} from {', '.join(names)} on {type(node).__name__}; "
            "that binding no longer has a key.",
            title="Key clash",
            severity="warning",
            markup=False,
        )
