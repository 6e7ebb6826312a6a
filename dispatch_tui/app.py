"""The Textual application: five sections as modes, opened on whatever needs doing first.

Scripts and benchmarks run it headless: ``async with DispatchApp(path).run_test() as pilot``.
"""

from __future__ import annotations

import os
from typing import ClassVar
from zoneinfo import ZoneInfo

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from dispatch_tui.config import os_login_name
from dispatch_tui.errors import DispatchError
from dispatch_tui.screens.base import DeskScreen
from dispatch_tui.screens.commands import DeskCommands
from dispatch_tui.screens.dashboard import DashboardScreen
from dispatch_tui.screens.dispatch import DispatchScreen
from dispatch_tui.screens.help import HelpScreen
from dispatch_tui.screens.intake import IntakeScreen
from dispatch_tui.screens.schedule import ScheduleScreen
from dispatch_tui.screens.startup import DatabaseErrorScreen, StartupScreen
from dispatch_tui.screens.triage import TriageScreen
from dispatch_tui.screens.widgets.desk_header import error_line
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.settings import shop_timezone
from dispatch_tui.services.tickets import desk_counts
from dispatch_tui.store import Database, StoreError

OPEN_GROUP = "open-database"


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
    MODES: ClassVar[dict[str, type[DeskScreen]]] = {  # type: ignore[assignment]
        "intake": IntakeScreen,
        "triage": TriageScreen,
        "dispatch": DispatchScreen,
        "schedule": ScheduleScreen,
        "dashboard": DashboardScreen,
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
    ) -> None:
        super().__init__()
        self._db_source = db
        self._owns_db = not isinstance(db, Database)
        self.actor = actor or os_login_name()
        self.desk: Desk | None = None
        #: The shop's time zone, read once at opening: every time on screen is shop time,
        #: whatever zone the dispatcher's machine is set to.
        self.shop_zone: ZoneInfo = ZoneInfo("UTC")
        self._initial_keymap = dict(keymap or {})
        self._reported_clashes: set[tuple[str, ...]] = set()

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
        self.call_from_thread(self._desk_opened, desk, counts.untriaged > 0, zone)

    def _desk_opened(self, desk: Desk, untriaged: bool, zone: ZoneInfo) -> None:
        self.desk = desk
        self.shop_zone = zone
        # Triage all before dispatching any: open where the work must start.
        self.switch_mode("triage" if untriaged else "dispatch")

    def _show_open_error(self, message: str) -> None:
        self.push_screen(DatabaseErrorScreen(message))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Anything else that broke opening (a bug) still gets a screen, not a traceback.
        if event.worker.group == OPEN_GROUP and event.state == WorkerState.ERROR:
            self._show_open_error(error_line(event.worker.error))

    def on_unmount(self) -> None:
        if self._owns_db and self.desk is not None:
            self.desk.db.dispose()

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
