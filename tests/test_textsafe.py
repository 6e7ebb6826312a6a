from dispatch_tui.textsafe import REPLACEMENT, one_line, plain


def test_escape_sequences_are_neutralised() -> None:
    assert plain("\x1b[31mred") == f"{REPLACEMENT}[31mred"


def test_c0_c1_and_del_are_replaced_but_tab_and_newline_kept() -> None:
    assert plain("a\x00b\x07c\x7fd\x9be\tf\ng") == (
        f"a{REPLACEMENT}b{REPLACEMENT}c{REPLACEMENT}d{REPLACEMENT}e\tf\ng"
    )


def test_bidi_overrides_are_replaced() -> None:
    assert plain("abc\u202edef") == f"abc{REPLACEMENT}def"


def test_markup_and_unicode_pass_through_unchanged() -> None:
    assert plain("[bold]x[/bold] café ✓") == "[bold]x[/bold] café ✓"


def test_none_and_empty() -> None:
    assert plain(None) == ""
    assert plain("") == ""


def test_one_line_folds_whitespace() -> None:
    assert one_line("printer\n  jammed\tagain\r") == f"printer jammed again{REPLACEMENT}"
