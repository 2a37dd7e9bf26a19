"""Bot texts as the chat widget shows them, for staff pages: its safe Markdown subset.

The subset of widget/src/widget.js (`INLINE`, `LIST_ITEM`, `link`, `markdown`): **bold**,
*italic* and _italic_, `[label](url)` links, paragraphs whose single line breaks are kept,
and lists. Everything else is escaped text, so no HTML a text holds is ever rendered. A link
is shown as its label followed by its target spelled out (staff see where it leads before
anyone clicks it); a target the widget does not link (not an absolute http, https or mailto
URL) is named as such.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape

from retrain.links import SCHEME, SCHEMES

INLINE = re.compile(
    r"\[([^\]\n]+)\]\(((?:[^\s()]|\([^\s()]*\))+)\)"
    r"|\*\*(\S(?:[^\n\r\u2028\u2029]*?\S)?)\*\*"
    r"|\*([^\s*](?:[^*\n]*[^\s*])?)\*"
    r"|(?<![A-Za-z0-9_])_([^_\n]+)_(?![A-Za-z0-9_])"
)
LIST_ITEM = re.compile(r"^\s*(?:([-*])|(\d+)\.)\s+(.*)$")
# What a page adds after a link's target (e.g. that it is refused); nothing by default.
TargetNote = Callable[[str], Markup]


def no_note(target: str) -> Markup:
    """Nothing to add about a link's target."""
    return Markup()


def is_link(target: str) -> bool:
    """True when the widget makes a link of `target`."""
    scheme = SCHEME.fullmatch(target)
    return scheme is not None and scheme.group(1).lower() in SCHEMES


def inline(text: str, note: TargetNote = no_note) -> Markup:
    """The widget's inline Markdown: links, bold, italic; everything else as escaped text."""
    out = Markup()
    while match := INLINE.search(text):
        out += escape(text[: match.start()])
        label, target, bold = match.group(1), match.group(2), match.group(3)
        if label is not None:
            if is_link(target):
                out += Markup(
                    '<span class="as-link">{}</span> <span class="link-target">→ <code>{}</code>'
                    "</span>{}"
                ).format(inline(label, note), target, note(target))
            else:  # the widget shows the label only
                out += escape(label) + Markup(
                    ' <span class="link-target">(not a link in the widget: <code>{}</code>)</span>'
                ).format(target)
        elif bold is not None:
            out += Markup("<strong>{}</strong>").format(inline(bold, note))
        else:
            out += Markup("<em>{}</em>").format(inline(match.group(4) or match.group(5), note))
        text = text[match.end() :]
    return out + escape(text)


def widget_html(text: str, note: TargetNote = no_note) -> Markup:
    """A text as the widget renders it: paragraphs, line breaks and lists."""
    blocks: list[list] = []  # [tag, start, items]
    current: list | None = None
    for line in re.split(r"\r?\n", text):
        item = LIST_ITEM.match(line)
        if item:
            tag = "ul" if item.group(1) else "ol"
            if current is None or current[0] != tag:
                start = int(item.group(2)) if item.group(2) and int(item.group(2)) > 1 else None
                blocks.append(current := [tag, start, []])
            current[2].append(inline(item.group(3), note))
        elif line.strip():
            if current is None or current[0] != "p":
                blocks.append(current := ["p", None, []])
            current[2].append(inline(line.strip(), note))
        else:
            current = None
    html = Markup()
    for tag, start, items in blocks:
        if tag == "p":
            html += Markup("<p>{}</p>").format(Markup("<br>").join(items))
        else:
            attribute = Markup(' start="{}"').format(start) if start else Markup()
            lis = Markup().join(Markup("<li>{}</li>").format(i) for i in items)
            html += Markup("<{}{}>{}</{}>").format(Markup(tag), attribute, lis, Markup(tag))
    return html
