"""Keymaps: the shipped ones cover every binding, overrides apply, and each mistake a
person can make in a keymap is one line naming the file and the entry."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from dispatch_tui.errors import InvalidInput
from dispatch_tui.keymap import all_binding_ids, checked_keymap, load_keymap, normalise_key


def shipped(name: str) -> dict[str, str]:
    text = resources.files("dispatch_tui.keymaps").joinpath(f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)["bindings"]


@pytest.mark.parametrize("name", ["default", "vim"])
def test_shipped_keymaps_cover_every_binding_id(name: str) -> None:
    ids = all_binding_ids()
    assert {"screen.intake", "screen.dashboard", "app.help", "app.quit", "app.commands"} <= ids
    assert sorted(ids - set(shipped(name))) == []
    assert sorted(set(shipped(name)) - ids) == []


@pytest.mark.parametrize("name", ["default", "vim"])
def test_shipped_keymaps_load_cleanly(name: str) -> None:
    # load_keymap trusts the shipped keymaps without overrides because of this test.
    assert checked_keymap(name) == {**shipped("default"), **shipped(name)}
    assert load_keymap(name) == checked_keymap(name)


def test_launching_on_a_shipped_keymap_imports_no_section() -> None:
    # Checking a keymap imports every screen; the shipped ones are checked above, so a
    # plain launch leaves the sections to be imported when first shown.
    code = (
        "import sys; from dispatch_tui.keymap import load_keymap; load_keymap('vim'); "
        "print(sorted(m for m in sys.modules if m.startswith('dispatch_tui.screens.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_overrides_are_always_checked() -> None:
    with pytest.raises(InvalidInput, match="no binding has this id"):
        load_keymap("default", {"screen.nowhere": "f9"})


def test_vim_moves_with_j_and_k() -> None:
    keymap = load_keymap("vim")
    assert "j" in keymap["table.cursor_down"].split(",")
    assert "k" in keymap["table.cursor_up"].split(",")


def test_overrides_apply_over_the_chosen_keymap() -> None:
    keymap = load_keymap("vim", {"app.help": "f1"})
    assert keymap["app.help"] == "f1"
    assert keymap["table.cursor_down"] == shipped("vim")["table.cursor_down"]


def test_a_keymap_file_by_path_lays_over_the_default(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[bindings]\n"screen.triage" = "f7"\n', encoding="utf-8")
    keymap = load_keymap(str(path))
    assert keymap["screen.triage"] == "f7"
    assert keymap["screen.intake"] == "f2"


def one_line_error(excinfo: pytest.ExceptionInfo[InvalidInput]) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_unknown_binding_id() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        load_keymap("default", {"triage.next": "n"})
    assert one_line_error(excinfo) == (
        'keymap config [keys]: "triage.next" = "n": no binding has this id'
    )


@pytest.mark.parametrize("bad", ["ctrl+zz", "F3", "ctrl+", "hyperspace+a", "ctrl+ctrl+a", ""])
def test_bad_key_name(bad: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        load_keymap("default", {"app.help": bad})
    assert one_line_error(excinfo).startswith(f'keymap config [keys]: "app.help" = "{bad}": ')
    assert "is not a key" in str(excinfo.value)


def test_symbol_with_modifier_must_be_named() -> None:
    with pytest.raises(InvalidInput, match=r"ctrl\+question_mark"):
        load_keymap("default", {"app.help": "ctrl+?"})


def test_bad_key_in_a_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "vimish.toml"
    path.write_text('[bindings]\n"table.cursor_down" = "j,ctrl+zz"\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as excinfo:
        load_keymap(str(path))
    assert one_line_error(excinfo) == (
        f'keymap {path}: "table.cursor_down" = "j,ctrl+zz": \'ctrl+zz\' is not a key'
    )


def test_duplicate_key_on_one_screen_blames_the_override() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        load_keymap("default", {"app.help": "f3"})
    assert one_line_error(excinfo) == (
        'keymap config [keys]: "app.help" = "f3": f3 is already bound to "screen.triage" in app'
    )


def test_duplicate_with_a_screen_binding() -> None:
    with pytest.raises(InvalidInput, match=r'"desk.refresh" = "f2".*"screen.intake"'):
        load_keymap("default", {"desk.refresh": "f2"})


def test_duplicate_with_textual_builtin_binding() -> None:
    with pytest.raises(InvalidInput, match="Textual's 'app.focus_next'"):
        load_keymap("default", {"screen.triage": "tab"})


def test_duplicate_inside_a_widget() -> None:
    with pytest.raises(InvalidInput, match=r'"table.cursor_down" = "up".*"table.cursor_up"'):
        load_keymap("default", {"table.cursor_down": "up"})


def test_swapping_two_keys_is_not_a_duplicate() -> None:
    keymap = load_keymap("default", {"screen.intake": "f3", "screen.triage": "f2"})
    assert keymap["screen.intake"] == "f3"


def test_same_key_on_different_screens_is_allowed() -> None:
    # help.close (a modal) and error.quit (another screen) both use escape.
    keymap = load_keymap("default")
    assert "escape" in keymap["help.close"] and "escape" in keymap["error.quit"]


def test_unknown_keymap_name() -> None:
    with pytest.raises(InvalidInput, match="unknown keymap 'emacs'; use default, vim"):
        load_keymap("emacs")


def test_broken_toml_and_wrong_shape(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[bindings\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=f"keymap {broken}: not valid TOML"):
        load_keymap(str(broken))
    shaped = tmp_path / "shaped.toml"
    shaped.write_text('[keys]\n"app.help" = "f1"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="unknown table or key 'keys'"):
        load_keymap(str(shaped))
    typed = tmp_path / "typed.toml"
    typed.write_text('[bindings]\n"app.help" = 1\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match='"app.help" must be a key string'):
        load_keymap(str(typed))


@pytest.mark.parametrize(
    ("key", "normal"),
    [
        ("?", "question_mark"),
        ("question_mark", "question_mark"),
        ("f5", "f5"),
        ("ctrl+shift+up", "ctrl+shift+up"),
        ("G", "G"),
        ("/", "slash"),
        ("ctrl+slash", "ctrl+slash"),
        ("space", "space"),
        ("enter", "enter"),
        ("zz", None),
        ("ctrl+", None),
    ],
)
def test_normalise_key(key: str, normal: str | None) -> None:
    assert normalise_key(key) == normal
