"""Who is acting in a Slack request: the one place a payload becomes a ``MemberRef``.

Every listener (slash command, button, view submission, shortcut, event) and the Home republish
hook read the member from Bolt's ``context``, which Bolt fills the same way for every request
type, so a member's data is found under the same key whichever way they reach Ally.

Enterprise Grid: in a workspace of an org, the key carries the org's id as well. With an
org-wide install, one Grid user id is the same person in every workspace of the org, and the
team id Slack sends varies by request (missing from some interactive payloads, the user's home
workspace in others, the workspace where a command ran in yet others), so an org-wide member is
keyed by the org and the user alone, with an empty team.
"""

from __future__ import annotations

from slack_bolt import BoltContext

from bot.ledger.people import MemberRef


def member_of(context: BoltContext) -> MemberRef | None:
    """The acting member of a request, or None when it has no user (or no workspace)."""
    user_id = context.user_id
    enterprise_id = context.enterprise_id or ""
    team_id = "" if (context.is_enterprise_install and enterprise_id) else context.team_id or ""
    if not user_id or not (team_id or enterprise_id):
        return None
    return MemberRef(team_id=team_id, user_id=user_id, enterprise_id=enterprise_id)


_HOME_CHANGED = "ally_home_changed"


def home_changed(context: BoltContext, changed: bool = True) -> None:
    """Say that this request changed what the acting member's Home shows.

    Handlers call it with the ``home_changed`` of the service result they got; after the
    listener, ``handlers.home.tab`` republishes that member's Home once (if they may be looking).
    """
    if changed:
        context[_HOME_CHANGED] = True


def home_is_stale(context: BoltContext) -> bool:
    """Whether a listener of this request said it changed the acting member's Home."""
    return bool(context.get(_HOME_CHANGED))
