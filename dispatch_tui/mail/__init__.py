"""Reading e-mail: parsing messages and finding them in files, folders, mboxes and Maildirs.

Pure input handling; ``dispatch_tui.services.importer`` turns parsed messages into
tickets and notes. Nothing in this package touches the database or the screens.
"""

from dispatch_tui.mail.message import Attachment, MailParseError, ParsedMessage, parse_message
from dispatch_tui.mail.sources import MailItem, SourceKind, detect_kind, iter_items
from dispatch_tui.mail.watch import MailWatcher

__all__ = [
    "Attachment",
    "MailItem",
    "MailParseError",
    "MailWatcher",
    "ParsedMessage",
    "SourceKind",
    "detect_kind",
    "iter_items",
    "parse_message",
]
