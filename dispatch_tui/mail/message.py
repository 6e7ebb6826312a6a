"""Parsing one e-mail (raw bytes) into the plain values a ticket is made of.

Uses the standard library's ``email`` package with ``policy.default``, which decodes
RFC 2047 headers, quoted-printable and base64 for us. What it cannot decode (an
unknown charset, raw 8-bit headers) falls back to ``text.decode_bytes`` instead of
failing: a dispatcher would rather read a few replacement characters than lose a
request. Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from dispatch_tui.mail.text import decode_bytes, has_raw_bytes, html_to_text, repair

REPLACEMENT = "\N{REPLACEMENT CHARACTER}"
_FOLD = re.compile(r"\r?\n(?=[ \t])")

#: The headers at least one of which makes a byte string an e-mail at all.
_IDENTIFYING = ("from", "subject", "date", "message-id")


class MailParseError(ValueError):
    """The bytes are not an e-mail message we can read; the text says why, in one line."""


@dataclass(frozen=True)
class Attachment:
    name: str
    size: int
    content_type: str


@dataclass(frozen=True)
class ParsedMessage:
    """One message, decoded. Text is stored as received: nothing is escaped or stripped."""

    #: Message-ID, or a sha256 content hash when the sender left it out.
    source_ref: str
    message_id: str | None
    subject: str
    from_name: str
    #: Lower-case address, or None when there is no usable sender address.
    from_email: str | None
    #: The Date header in UTC, or None when it was missing or unreadable.
    date: datetime | None
    #: Why ``date`` is None (shown to the dispatcher in a note), else None.
    date_problem: str | None
    body: str
    body_was_html: bool
    attachments: tuple[Attachment, ...] = ()
    #: Message-IDs this one answers (In-Reply-To, then References, nearest first).
    replies_to: tuple[str, ...] = field(default=())

    @property
    def from_domain(self) -> str | None:
        return self.from_email.rsplit("@", 1)[1] if self.from_email else None


def parse_message(data: bytes) -> ParsedMessage:
    """Parse raw RFC 5322 bytes; raises ``MailParseError`` when they are not a message."""
    if not data.strip():
        raise MailParseError("the file is empty")
    try:
        msg = BytesParser(policy=policy.default).parsebytes(data)
        assert isinstance(msg, EmailMessage)
        if not any(msg.get(name) is not None for name in _IDENTIFYING):
            raise MailParseError("not an e-mail message (no From, Subject, Date or Message-ID)")
        return _read(msg)
    except MailParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser bug must cost one message, not a run
        raise MailParseError(f"unreadable message ({type(exc).__name__}: {exc})") from exc


def _read(msg: EmailMessage) -> ParsedMessage:
    subject = _header_text(msg, "subject")
    from_name, from_email = _sender(msg)
    date, date_problem = _date(msg)
    body_part = msg.get_body(preferencelist=("plain", "html"))
    body, was_html = _body_text(body_part) if body_part is not None else ("", False)
    attachments = tuple(_attachments(msg, body_part))
    message_id = _message_id(_header_text(msg, "message-id"))
    replies_to = _ids(_header_text(msg, "in-reply-to")) + tuple(
        reversed(_ids(_header_text(msg, "references")))
    )
    source_ref = message_id or content_hash(
        from_email or from_name, _header_text(msg, "date"), subject, body
    )
    return ParsedMessage(
        source_ref=source_ref,
        message_id=message_id,
        subject=subject,
        from_name=from_name,
        from_email=from_email,
        date=date,
        date_problem=date_problem,
        body=body,
        body_was_html=was_html,
        attachments=attachments,
        replies_to=tuple(dict.fromkeys(replies_to)),
    )


def content_hash(*parts: str) -> str:
    """A stable reference for a message without a Message-ID.

    Built from what the sender wrote, not from the raw bytes, so the same mail
    found in an mbox (with its "From " line) and as an .eml file matches.
    """
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", errors="surrogatepass"))
    return f"sha256:{digest.hexdigest()}"


def _header_text(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a malformed header reads as absent
        return ""
    if value is None:
        return ""
    text = str(value)
    if REPLACEMENT in text:
        # Raw 8-bit bytes in a header (no RFC 2047): the registry turned them into
        # U+FFFD, but the raw value still holds them; decode those bytes ourselves.
        raw = next((v for k, v in msg.raw_items() if k.lower() == name), None)
        if isinstance(raw, str) and "=?" not in raw and has_raw_bytes(raw):
            text = _FOLD.sub("", raw)
    return repair(text).strip()


def _sender(msg: EmailMessage) -> tuple[str, str | None]:
    for name in ("from", "sender", "reply-to"):
        try:
            header = msg.get(name)
            addresses = getattr(header, "addresses", ()) if header is not None else ()
        except Exception:  # noqa: BLE001 - try the next header
            continue
        for address in addresses:
            email = repair(address.addr_spec).strip().lower()
            display = repair(address.display_name).strip()
            if "@" in email and not email.startswith("@") and not email.endswith("@"):
                return display or email, email
        text = _header_text(msg, name)
        if text:
            return text, None
    return "", None


def _date(msg: EmailMessage) -> tuple[datetime | None, str | None]:
    raw = _header_text(msg, "date")
    if not raw:
        return None, "the message has no Date header"
    try:
        parsed = msg["date"].datetime
    except Exception:  # noqa: BLE001 - treated like any unreadable date
        parsed = None
    if parsed is None:
        return None, f"its Date header {raw!r} is unreadable"
    if parsed.tzinfo is None:
        # RFC 5322 "-0000": the time is UTC but the sender's zone is unknown.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC), None


def _body_text(part: EmailMessage) -> tuple[str, bool]:
    is_html = part.get_content_subtype() == "html"
    try:
        text = part.get_content()
        if not isinstance(text, str):
            raise TypeError("not text")
    except Exception:  # noqa: BLE001 - unknown charset or broken encoding
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        text = decode_bytes(data, part.get_content_charset())
    text = repair(text)
    if is_html:
        text = html_to_text(text)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip(" \t\n"), is_html


def _attachments(msg: EmailMessage, body: EmailMessage | None):
    """Every part that is not the body nor a container: files, images, forwarded mails."""
    for part in _leaves(msg):
        if part is body:
            continue
        name = repair(part.get_filename() or "")
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else None
            subject = _header_text(inner, "subject") if isinstance(inner, EmailMessage) else ""
            name = name or f"forwarded message: {subject or '(no subject)'}"
            size = len(inner.as_bytes()) if isinstance(inner, EmailMessage) else 0
        else:
            if not name and not part.is_attachment() and part.get_content_maintype() == "text":
                continue  # an alternative rendering of the body, not a file
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
        yield Attachment(name or "(unnamed)", size, part.get_content_type())


def _leaves(part: EmailMessage):
    if part.get_content_type() == "message/rfc822":
        yield part  # listed as one attachment, not opened up
    elif part.is_multipart():
        for sub in part.iter_parts():
            yield from _leaves(sub)  # type: ignore[arg-type]
    else:
        yield part


def _message_id(value: str) -> str | None:
    value = value.strip()
    return value or None


def _ids(value: str) -> tuple[str, ...]:
    return tuple(token for token in value.replace(",", " ").split() if token.startswith("<"))
