"""Parsing real-shaped mail: charsets, encodings, HTML-only bodies and attachments.

Pure functions over the committed corpus in tests/fixtures/mail; no database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dispatch_tui.mail import Attachment, MailParseError, parse_message
from dispatch_tui.mail.subjects import normalise, similar, summary_line, ticket_tag
from dispatch_tui.mail.text import decode_bytes, html_to_text

CORPUS = Path(__file__).parent / "fixtures" / "mail"


def parse(name: str):
    return parse_message((CORPUS / name).read_bytes())


def test_utf8_rfc2047_headers_and_quoted_printable_body() -> None:
    m = parse("01-utf8-qp.eml")
    assert m.subject == "Drucker im Büro – Fehler 0x80070005"
    assert (m.from_name, m.from_email) == ("Zoë Müller", "zoe@harbordental.com")
    assert m.from_domain == "harbordental.com"
    assert m.date == datetime(2026, 3, 2, 7, 15, tzinfo=UTC)
    assert m.message_id == m.source_ref == "<m1.zoe@harbordental.com>"
    assert m.body == (
        "Hallo,\n\nder Drucker im Büro druckt nicht mehr. Die Meldung lautet "
        "„Zugriff verweigert“ und die Ersatzkartusche hat 49 € gekostet.\n\nGrüße, Zoë"
    )
    assert not m.body_was_html and m.attachments == ()


def test_latin1_headers_and_base64_body() -> None:
    m = parse("02-latin1-base64.eml")
    assert m.subject == "Contraseña caducada"
    assert m.from_name == "José García"
    assert m.body == "La contraseña de José ha caducado. ¿Pueden ayudar?"
    assert m.date == datetime(2026, 3, 2, 14, 40, tzinfo=UTC)


def test_windows_1252_8bit_body() -> None:
    assert parse("03-cp1252-8bit.eml").body == (
        "The VPN “drops” every hour – we lose €200 of work each time."
    )


def test_iso_2022_jp() -> None:
    m = parse("04-iso2022jp.eml")
    assert m.subject == "プリンターが動きません"
    assert m.from_name == "田中太郎"
    assert m.body == "プリンターが動きません。\n至急お願いします。"
    assert m.date == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)


def test_html_only_becomes_readable_text_without_scripts_or_styles() -> None:
    m = parse("05-html-only.eml")
    assert m.body_was_html
    assert m.body == (
        "Hi team,\n\nPlease set up a laptop for Ana Silva:\n\n- Office & Teams\n\n- VPN access"
        "\n\nDetails: the form <https://intranet.harbordental.com/starters/42>"
    )
    for hidden in ("alert", "pwned", "color", "Newsletter", "document.write"):
        assert hidden not in m.body


def test_multipart_prefers_plain_text_and_lists_both_attachments() -> None:
    m = parse("06-multipart-attachments.eml")
    assert m.body == "The scanner says the invoice is unreadable. Two files attached."
    assert m.attachments == (
        Attachment("invoice 2026-03.pdf", 1536, "application/pdf"),
        Attachment("écran.png", 300, "image/png"),
    )


def test_reply_carries_its_tag_and_what_it_answers() -> None:
    m = parse("07-reply-tagged.eml")
    assert ticket_tag(m.subject) == 1
    assert m.replies_to == ("<reply-from-desk-1@msp.example>",)


def test_missing_message_id_gets_a_content_hash_stable_across_relays() -> None:
    first, again = parse("09-no-message-id.eml"), parse("10-no-message-id-again.eml")
    assert first.message_id is None
    assert first.source_ref.startswith("sha256:") and len(first.source_ref) == 7 + 64
    assert first.source_ref == again.source_ref
    assert first.source_ref != parse("11-possible-duplicate.eml").source_ref


def test_hostile_text_is_kept_exactly() -> None:
    m = parse("13-hostile.eml")
    assert m.subject == "[bold]x[/] \x1b[2J urgent"
    assert m.body == "\x1b]0;pwned\x07[red]alert[/red] \x1b[31mred\x1b[0m"


def test_missing_and_garbled_dates_say_why() -> None:
    missing = parse("14-long-subject-no-date.eml")
    assert missing.date is None and missing.date_problem == "the message has no Date header"
    garbled = parse("15-broken-charset.eml")
    assert garbled.date is None and "'yesterday-ish' is unreadable" in (garbled.date_problem or "")


def test_unknown_charsets_and_raw_8bit_headers_decode_with_a_fallback() -> None:
    m = parse("15-broken-charset.eml")
    assert m.subject == "Café Wi-Fi"
    assert m.from_name == "René"
    assert m.body == "Le Wi-Fi du café est coupé."


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \r\n", "empty"),
        ((CORPUS / "12-broken.eml").read_bytes(), "not an e-mail message"),
        (b"just some words\nand more\n", "not an e-mail message"),
    ],
)
def test_what_is_not_mail_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(MailParseError, match=reason):
        parse_message(data)


def test_bad_bytes_in_a_declared_charset_are_replaced_not_fatal() -> None:
    m = parse_message(
        b"From: a@b.example\nSubject: x\nContent-Type: text/plain; charset=utf-8\n\n"
        b"ok \xff\xfe end\n"
    )
    assert m.body == "ok \ufffd\ufffd end"


def test_no_sender_address_keeps_whatever_name_there_is() -> None:
    m = parse_message(b"From: Undisclosed\nSubject: hi\n\nbody\n")
    assert (m.from_name, m.from_email) == ("Undisclosed", None)


def test_forwarded_message_is_listed_as_an_attachment() -> None:
    inner = b"From: x@y.example\nSubject: Original\n\nold text\n"
    outer = (
        b"From: a@b.example\nSubject: Fwd: Original\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\n'
        b"see below\n--B\nContent-Type: message/rfc822\n\n" + inner + b"--B--\n"
    )
    m = parse_message(outer)
    assert m.body == "see below"
    assert [a.name for a in m.attachments] == ["forwarded message: Original"]


# -- pure helpers ------------------------------------------------------------------


def test_decode_bytes_falls_back_without_raising() -> None:
    assert decode_bytes("é".encode("latin-1"), "no-such-charset") == "é"
    assert decode_bytes(b"caf\xc3\xa9", None) == "café"
    assert decode_bytes(b"\x81", "utf-8") == "\ufffd"


def test_html_to_text_keeps_pre_blocks_and_skips_self_closed_script() -> None:
    html = "<div>a</div><script/>b<pre>  x\n  y</pre><br>c &lt;d&gt;"
    assert html_to_text(html) == "a\nb\n  x\n  y\n\nc <d>"


def test_subject_rules() -> None:
    assert ticket_tag("Re: [#123] printer") == 123
    assert ticket_tag("printer [123]") is None
    assert normalise("RE: Fwd: AW[2]: [#9]  VPN  Down") == "vpn down"
    assert similar("VPN drops every hour", "Re: VPN drops every hour!")
    assert not similar("VPN drops every hour", "New laptop for Ana")
    assert not similar("", "")


def test_summary_line_cuts_at_a_word_and_says_so() -> None:
    assert summary_line("  short\r\n subject ", 200) == ("short subject", False)
    assert summary_line("", 200) == ("(no subject)", False)
    long = " ".join(f"word{i:03d}" for i in range(40))
    cut, shortened = summary_line(long, 200)
    assert shortened and len(cut) <= 200 and cut.endswith("word023…")
    assert summary_line("\x1b[2J x", 200) == ("\x1b[2J x", False)
