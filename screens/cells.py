"""Turning values into table cells: client text stays literal, times read as people say them."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from rich.text import Text

from dispatch_tui.textsafe import one_line


def cell(value: object, style: str = "") -> Text:
    """A cell that shows ``value`` exactly: never parsed as markup, control characters
    neutralised, folded onto one line."""
    return Text(
        one_line("" if value is None else str(value)),
        style=style,
        no_wrap=True,
        overflow="ellipsis",
    )


def local_time(moment: datetime | None, zone: tzinfo) -> Text:
    """The moment in the shop's zone (``DeskScreen.shop_zone``): a dispatcher working
    from home in another zone still talks to clients in shop time."""
    if moment is None:
        return Text("")
    return Text(moment.astimezone(zone).strftime("%a %d %b %H:%M"))


def short_time(moment: datetime | None, zone: tzinfo) -> Text:
    """ "07 May 14:05" in shop time, for narrow columns."""
    if moment is None:
        return Text("")
    return Text(moment.astimezone(zone).strftime("%d %b %H:%M"))


def age(moment: datetime | None, now: datetime | None = None) -> Text:
    """How long ago, in the two largest units ("2d 4h", "3h 12m", "7m")."""
    if moment is None:
        return Text("")
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return Text(f"{days}d {hours}h")
    if hours:
        return Text(f"{hours}h {minutes}m")
    return Text(f"{minutes}m")
