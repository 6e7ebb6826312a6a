"""Turning what a mail client sent into plain text: broken charsets and HTML-only bodies.

Pure functions over strings and bytes; nothing here touches the database.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: The fallback for text whose declared charset is unknown or wrong. Windows-1252
#: decodes every latin-1 byte the same way and adds the quotes and dashes Outlook
#: sends, so it is the most likely guess for Western mail that is not UTF-8.
FALLBACK_CHARSET = "cp1252"

_SURROGATES = re.compile("[\ud800-\udfff]")


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """``data`` as text: the declared charset, else UTF-8, else windows-1252; never raises."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    if charset:
        try:
            # A known charset with a few bad bytes: keep what decodes.
            return data.decode(charset, errors="replace")
        except LookupError:
            pass
    return data.decode(FALLBACK_CHARSET, errors="replace")


def has_raw_bytes(value: str) -> bool:
    """Does ``value`` carry undecoded bytes as surrogate escapes?"""
    return _SURROGATES.search(value) is not None


def repair(value: str) -> str:
    """Re-decode raw bytes the email package smuggled through as surrogate escapes.

    A header in an unknown charset comes back with lone surrogates, which SQLite
    cannot store; they are the original bytes, so decode those properly instead.
    """
    if not has_raw_bytes(value):
        return value
    data = value.encode("utf-8", errors="surrogateescape")
    return decode_bytes(data)


# -- HTML to text -----------------------------------------------------------------

#: Elements whose content is never shown to a reader of the mail.
_HIDDEN = frozenset({"script", "style", "head", "title", "template"})
#: Elements that start and end a line of their own.
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "table",
        "tr",
        "ul",
        "ol",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "hr",
        "address",
        "center",
        "dl",
        "dt",
        "dd",
        "form",
        "fieldset",
    }
)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_PRE = "\ue000"


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._pre = 0
        self._links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in _BLOCKS:
            self.parts.append("\n\n" if tag in ("p", "h1", "h2", "h3", "table") else "\n")
            if tag == "pre":
                self._pre += 1
        elif tag == "a":
            self._links.append(dict(attrs).get("href"))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and not self._hidden:
                self.parts.append(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HIDDEN:  # a self-closed <script/> hides nothing after it
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS or tag == "li":
            self.parts.append("\n")
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag == "a" and self._links:
            href = self._links.pop()
            # A dispatcher needs the address a client pasted, not only its label.
            if href and href.startswith(("http:", "https:")) and href not in self._tail():
                self.parts.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._pre:
            # Preformatted lines keep their indentation; the marker tells the final
            # clean-up not to strip them. It cannot come from the HTML: data holding
            # it is stripped of it first.
            data = data.replace(_PRE, "")
            self.parts.append(_PRE + data.replace("\n", "\n" + _PRE))
        else:
            self.parts.append(_SPACES.sub(" ", data.replace(_PRE, "")))

    def _tail(self) -> str:
        return "".join(self.parts[-3:])


def html_to_text(html: str) -> str:
    """Readable text from an HTML mail body; scripts, styles and the head are dropped."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = []
    for line in "".join(parser.parts).replace("\xa0", " ").split("\n"):
        kept = line.replace(_PRE, "")
        lines.append(kept.rstrip() if _PRE in line else kept.strip())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
