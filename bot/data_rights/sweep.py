"""The sweep: erase the data of every workspace that has no installation left (OAuth mode).

``app_uninstalled`` erases a workspace's data as it arrives, and a failure is answered 5xx so
that Slack retries it; but Slack stops after three retries, and a process may be down for all
of them. The sweep is the backstop: it runs from the scheduler and as ``ally-bot sweep``,
compares the workspaces the tables hold rows of with the installation store, erases what
nobody has installed any more, and says so in the log. Running it again finds nothing to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.data_rights import service as data_rights
from bot.platform.logs import fields
from bot.platform.oauth import installation_store, is_installed
from bot.platform.runtime import Runtime
from bot.platform.uow import committed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Swept:
    """One workspace whose data the sweep erased."""

    enterprise_id: str
    team_id: str
    erased: data_rights.Erased


def sweep_uninstalled(runtime: Runtime) -> list[Swept]:
    """Erase each workspace with rows but no installation; nothing in single-workspace mode
    (there the token comes from the environment and there is no store to ask)."""
    if not runtime.settings.oauth:
        return []
    store = installation_store(runtime)
    held = sorted(committed(runtime.unit_of_work, data_rights.workspaces))
    swept: list[Swept] = []
    for enterprise_id, team_id in held:
        if is_installed(store, enterprise_id, team_id):
            continue
        erased = data_rights.erase(
            runtime.unit_of_work, enterprise_id=enterprise_id, team_id=team_id, now=runtime.clock()
        )
        swept.append(Swept(enterprise_id, team_id, erased))
        log.info(
            "uninstalled workspace erased by the sweep",
            extra=fields(
                enterprise=enterprise_id, team=team_id, rows=erased.total, **erased.counts
            ),
        )
    return swept
