"""Replies and the builders every view uses (``bot.blocks``). All Block Kit goes through
``slack_sdk.models``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from slack_sdk.models.blocks import Block

from bot.blocks import TEXT_MAX, actions, button, clip, context, section
from bot.errors import AllyError
from bot.slack_text import mrkdwn

__all__ = [
    "MESSAGE_BLOCKS_MAX",
    "TEXT_MAX",
    "Reply",
    "actions",
    "button",
    "clip",
    "context",
    "escape",
    "refusal",
    "say",
    "section",
    "updated_blocks",
]

MESSAGE_BLOCKS_MAX = 50  # Slack's limit per message; slack_sdk does not check it

# What a member typed, escaped once for mrkdwn (user mentions stay mentions): the views' one way
# to put member text into mrkdwn. Never for plain_text objects, which Slack shows as they are.
escape = mrkdwn


@dataclass(frozen=True)
class Reply:
    """A message for the member: fallback ``text`` (notifications, screen readers) and blocks."""

    text: str
    blocks: Sequence[Block] = field(default_factory=list)
    _written: list[dict] = field(init=False, repr=False, compare=False, default_factory=list)

    def __post_init__(self) -> None:
        if len(self.blocks) > MESSAGE_BLOCKS_MAX:
            raise ValueError(f"a message holds at most {MESSAGE_BLOCKS_MAX} blocks")
        # ``to_dict`` validates every object it writes: the blocks are checked (and written)
        # once, here, and every send reuses what it wrote.
        object.__setattr__(self, "_written", [block.to_dict() for block in self.blocks])

    def as_kwargs(self) -> dict:
        return {"text": clip(self.text), "blocks": [dict(block) for block in self._written]}


def say(text: str) -> Reply:
    """A one-section reply."""
    return Reply(text=text, blocks=[section(text)])


def refusal(error: AllyError) -> Reply:
    """Why something could not be done, as a reply: the message escaped for mrkdwn, since it
    may quote what the member typed (an outside name, a note)."""
    return say(escape(error.message))


def updated_blocks(message_blocks: list[dict], action: dict, done: str) -> list[dict]:
    """The DM's blocks with the pressed button's block replaced by ``done``."""
    line = context(done).to_dict()
    result: list[dict] = []
    replaced = False
    for block in message_blocks:
        elements = block.get("elements") or []
        pressed = block.get("type") == "actions" and any(
            e.get("action_id") == action.get("action_id") and e.get("value") == action.get("value")
            for e in elements
        )
        if pressed and not replaced:
            result.append({**line, "block_id": block.get("block_id") or "done"})
            replaced = True
        else:
            result.append(block)
    if not replaced:
        result.append(line)
    return result
