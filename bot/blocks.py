"""Small pure Block Kit builders (``slack_sdk.models``), for every message and view Ally builds:
the weekly DM and the plans' DMs here in bot/, and every view in handlers/ (``handlers.kit.blocks``
adds replies on top)."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

TEXT_MAX = 3000  # characters in one Block Kit text field


def clip(text: str, limit: int = TEXT_MAX) -> str:
    """Shorten ``text`` to fit a Block Kit text field, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text))])


def button(
    text: str, action_id: str, value: str | None = None, style: str | None = None
) -> ButtonElement:
    return ButtonElement(text=text[:75], action_id=action_id, value=value, style=style)


def actions(*buttons: ButtonElement, block_id: str | None = None) -> ActionsBlock:
    return ActionsBlock(elements=list(buttons)[:25], block_id=block_id)
