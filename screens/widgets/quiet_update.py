"""Updating a Static without re-arranging the whole screen when its size stays the same.

``Static.update`` asks for a layout by default, and a layout makes Textual re-arrange
and repaint every widget on the screen: on a key that only changes the text of a few
panels (the cursor moved to another ticket) that was most of the key's cost. Here the
new text is measured first; a layout is asked for only when the widget's size would
change, otherwise only the widget itself is repainted.
"""

from __future__ import annotations

from rich.text import Text
from textual.css.scalar import Scalar
from textual.css.styles import RenderStyles
from textual.widget import Widget
from textual.widgets import Static


def _depends_on_content(scalar: Scalar | None, parent_is_auto: bool) -> bool:
    """Whether a width or height rule makes the size follow the content."""
    if scalar is None:
        return False  # fills the container
    # A fraction inside an auto-sized container is sized like auto (Textual's rule).
    return scalar.is_auto or (scalar.is_fraction and parent_is_auto)


def _clamped(height: int, styles: RenderStyles) -> int:
    for limit, pick in ((styles.max_height, min), (styles.min_height, max)):
        if limit is not None and limit.is_cells:
            height = pick(height, int(limit.value))
    return height


def _size_would_change(widget: Static) -> bool:
    """Whether the widget's box, with its new content, differs from the laid-out one."""
    size = widget.size
    if not size:
        return True  # never laid out: let Textual do it
    styles = widget.styles
    parent = widget.parent
    parent_styles = parent.styles if isinstance(parent, Widget) else None
    container = widget.container_size
    viewport = widget.app.size
    auto_width = parent_styles is not None and parent_styles.is_auto_width
    if (
        _depends_on_content(styles.width, auto_width)
        and widget.get_content_width(container, viewport) != size.width
    ):
        return True
    auto_height = parent_styles is not None and parent_styles.is_auto_height
    if _depends_on_content(styles.height, auto_height):
        height = widget.get_content_height(container, viewport, size.width)
        if styles.gutter.height == 0:
            height = _clamped(height, styles)
        # Anything not modelled here (a scrollbar, a relative child) only ever makes
        # this ask for a layout that was not needed: slower, never wrong.
        if height != size.height:
            return True
    return False


def show_text(widget: Static, content: Text) -> None:
    """Show ``content`` in ``widget``; lay the screen out again only if its size changes."""
    current = widget.content
    if (
        isinstance(current, Text)
        and current.plain == content.plain
        and current.spans == content.spans
        and current.style == content.style
        and current.justify == content.justify
        and current.no_wrap == content.no_wrap
        and current.overflow == content.overflow
    ):
        return  # the same text: nothing to repaint
    if not widget.is_mounted or not widget.display:
        widget.update(content)
        return
    widget.update(content, layout=False)
    if _size_would_change(widget):
        widget.refresh(layout=True)
