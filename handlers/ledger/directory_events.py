"""``user_change``: a member's Slack profile changed (their time zone, their name).

Ally keeps the new zone, so the weekly DM follows a member who moved without asking Slack for
their zone every week (one ``users.info`` per member would cost a Web API call per DM).
"""

from __future__ import annotations

from slack_bolt import App, BoltContext

from bot.ledger import directory
from bot.platform.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    @app.event("user_change")
    def on_user_change(event: dict, context: BoltContext) -> None:
        user = event.get("user")
        if not isinstance(user, dict):
            return
        enterprise_id = context.enterprise_id or ""
        # An org-wide install keys members by the org alone (handlers/kit/members.py).
        whole_org = bool(context.is_enterprise_install and enterprise_id)
        team_id = "" if whole_org else context.team_id or str(user.get("team_id") or "")
        directory.user_changed_in(
            runtime.unit_of_work, enterprise_id, team_id, user, runtime.clock()
        )
