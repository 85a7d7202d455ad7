"""Block Kit as a terminal shows it (with ``rich``): mrkdwn, sections, fields, context, lists;
mentions as names; every button and menu option numbered, so that ``press N`` can press it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
LINK = re.compile(r"<(?:#[A-Z0-9]+\|([^>]*)|!([a-z]+)[^>]*|([^<>|]+)\|([^<>]*)|([^<>|@#!][^<>]*))>")
BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])")
ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])")
CODE = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True)
class Pressable:
    """A button, or one option of a menu, in something Ally showed."""

    label: str
    element: dict[str, Any]
    block_id: str
    option: dict[str, Any] | None = None


Names = Callable[[str], str]


def plain(text: str, names: Names) -> str:
    """Slack's markup as a person reads it: ``<@U1|x>`` as ``@Name``, links by their label."""

    def mention(match: re.Match[str]) -> str:
        return "@" + names(match.group(1))

    def link(match: re.Match[str]) -> str:
        channel, special, _url, label, bare = match.groups()
        if channel is not None:
            return "#" + channel
        if special is not None:
            return "@" + special
        return label if label is not None else bare

    text = LINK.sub(link, MENTION.sub(mention, text))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mrkdwn(text: str, names: Names) -> str:
    """Slack mrkdwn as rich markup (bold, italic, code)."""
    # A quote (``> `` at the start of a line) under a bar, as Slack draws it.
    quoted = re.sub(r"(?m)^> ?", "┃ ", text)
    marked = escape(plain(quoted, names))
    marked = CODE.sub(lambda m: f"[cyan]{m.group(1)}[/cyan]", marked)
    marked = BOLD.sub(lambda m: f"[bold]{m.group(1)}[/bold]", marked)
    return ITALIC.sub(lambda m: f"[italic]{m.group(1)}[/italic]", marked)


def text_of(obj: Any, names: Names) -> str:
    """A text object (plain_text or mrkdwn) as rich markup."""
    if not isinstance(obj, dict):
        return ""
    raw = str(obj.get("text") or "")
    return mrkdwn(raw, names) if obj.get("type") == "mrkdwn" else escape(plain(raw, names))


class Renderer:
    """Renders blocks, numbering what can be pressed from ``first`` on."""

    def __init__(self, names: Names, first: int = 1) -> None:
        self.names = names
        self.pressables: list[Pressable] = []
        self.first = first

    def _number(self, pressable: Pressable) -> str:
        self.pressables.append(pressable)
        return f"[reverse] {self.first + len(self.pressables) - 1} [/reverse]"

    def element(self, element: dict[str, Any], block_id: str) -> list[str]:
        kind = element.get("type")
        if kind == "button":
            label = plain(str((element.get("text") or {}).get("text") or ""), self.names)
            tag = self._number(Pressable(label, element, block_id))
            return [f"{tag} {escape(label)}"]
        if kind in ("overflow", "static_select"):
            title = element.get("placeholder") or {}
            head = escape(plain(str(title.get("text") or "menu"), self.names))
            parts = [f"[dim]{head}:[/dim]" if kind == "static_select" else "[dim]⋯[/dim]"]
            for option in _options(element):
                label = plain(str((option.get("text") or {}).get("text") or ""), self.names)
                tag = self._number(Pressable(label, element, block_id, option))
                parts.append(f"{tag} {escape(label)}")
            return ["  ".join(parts)]
        return []

    def block(self, block: dict[str, Any]) -> RenderableType | None:
        kind = block.get("type")
        block_id = str(block.get("block_id") or "")
        if kind == "header":
            return Text.from_markup(f"[bold underline]{text_of(block.get('text'), self.names)}[/]")
        if kind == "divider":
            return Text("─" * 40, style="dim")
        if kind == "section":
            lines = [text_of(block.get("text"), self.names)] if block.get("text") else []
            fields = [text_of(f, self.names) for f in block.get("fields") or []]
            lines += fields
            accessory = block.get("accessory")
            if isinstance(accessory, dict):
                lines += self.element(accessory, block_id)
            return Text.from_markup("\n".join(x for x in lines if x))
        if kind == "context":
            parts = [
                text_of(e, self.names) if e.get("type") in ("mrkdwn", "plain_text") else ""
                for e in block.get("elements") or []
            ]
            return Text.from_markup("[dim]" + "  ".join(p for p in parts if p) + "[/dim]")
        if kind == "actions":
            parts = [p for e in block.get("elements") or [] for p in self.element(e, block_id)]
            return Text.from_markup("   ".join(parts)) if parts else None
        if kind == "rich_text":
            return Text.from_markup(self.rich_text(block.get("elements") or []))
        if kind == "input":
            label = text_of(block.get("label"), self.names)
            wanted = block.get("optional") and "optional" not in label
            optional = " [dim](optional)[/dim]" if wanted else ""
            return Text.from_markup(f"[bold]▸ {label}[/bold]{optional}")
        if kind == "image":
            return Text(f"[image: {block.get('alt_text', '')}]", style="dim")
        return None

    def rich_text(self, elements: list[dict[str, Any]], depth: int = 0) -> str:
        out: list[str] = []
        for element in elements:
            kind = element.get("type")
            if kind == "rich_text_list":
                for n, item in enumerate(element.get("elements") or [], 1):
                    mark = f"{n}." if element.get("style") == "ordered" else "•"
                    out.append("  " * depth + f"{mark} " + self.rich_text([item], depth + 1))
            else:
                out.append("".join(self.inline(e) for e in element.get("elements") or []))
        return "\n".join(out)

    def inline(self, element: dict[str, Any]) -> str:
        kind = element.get("type")
        if kind == "user":
            return escape("@" + self.names(str(element.get("user_id"))))
        if kind == "link":
            return escape(str(element.get("text") or element.get("url") or ""))
        if kind == "emoji":
            return f":{element.get('name')}:"
        text = escape(str(element.get("text") or ""))
        style = element.get("style") or {}
        return f"[bold]{text}[/bold]" if style.get("bold") else text

    def blocks(self, blocks: list[dict[str, Any]], fallback: str) -> RenderableType:
        shown = [r for r in (self.block(b) for b in blocks) if r is not None]
        if not shown:
            shown = [Text.from_markup(mrkdwn(fallback, self.names))]
        return Group(*shown)


def panel(body: RenderableType, title: str, style: str) -> Panel:
    return Panel(body, title=title, title_align="left", border_style=style, expand=True)


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options
