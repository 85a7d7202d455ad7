"""The sweep: erase a workspace's data when Slack says Ally left it, and only then (OAuth mode).

``app_uninstalled`` erases a workspace's data as it arrives, and a failure is answered 5xx so
that Slack retries it; but Slack stops after three retries, and a process may be down for all
of them. The sweep is the backstop: it runs from the scheduler and as ``ally-bot sweep``, and
for each workspace the tables hold rows of it asks Slack (``auth.test``) with that workspace's
own stored bot token. Slack's answer decides:

- ``token_revoked`` (the app was removed) or ``account_inactive`` (the workspace was deleted):
  Slack's word that Ally left. The workspace's data and its installation are erased.
- the token works: installed, kept.
- ``invalid_auth`` (also what an IP allow-list answers), any other error, a rate limit or no
  answer at all: kept, and reported; the next sweep asks again.
- no stored token at all (data logged under ``SLACK_BOT_TOKEN`` before OAuth was configured, a
  new app, another client id): Slack has said nothing. Kept, and reported with how to install.

Slack is asked outside any unit of work; each erasure is its own. Running it again finds
nothing more to erase. https://api.slack.com/methods/auth.test
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.data_rights import service as data_rights
from bot.platform.logs import fields
from bot.platform.oauth import SealedInstallationStore, installation_store, workspace_bot
from bot.platform.runtime import Runtime
from bot.platform.uow import committed

log = logging.getLogger(__name__)

# Slack's answers to a workspace's own token that mean Ally left the workspace.
LEFT = {
    "token_revoked": "Ally was removed from it",
    "account_inactive": "the workspace was deleted",
}
INSTALL_PATH = "/slack/install"
# What to do about a workspace with data and no stored token.
INSTALL_THERE = f"install Ally there via https://<your-host>{INSTALL_PATH} so its token is stored"


class Reason(StrEnum):
    """Why the sweep kept a workspace's data (besides an error code Slack answered)."""

    INSTALLED = "installed"
    NO_INSTALLATION = "no installation"
    REINSTALLED = "reinstalled"
    UNREACHABLE = "Slack unreachable"


@dataclass(frozen=True)
class Checked:
    """One workspace with data, what the sweep did with it and why.

    ``answer`` is Slack's error code for the workspace's token, or a ``Reason``; ``erased`` is
    set when the data was erased.
    """

    enterprise_id: str
    team_id: str
    answer: str
    erased: data_rights.Erased | None = None

    @property
    def workspace(self) -> str:
        return "/".join(part for part in (self.enterprise_id, self.team_id) if part)

    @property
    def why(self) -> str:
        """The reason in words, as ``ally-bot sweep`` prints it and the log says it."""
        if self.erased is not None:
            return f"Slack answered {self.answer} to its stored token ({LEFT[self.answer]})"
        if self.answer == Reason.INSTALLED:
            return "installed: kept (Slack accepts its token)"
        if self.answer == Reason.NO_INSTALLATION:
            return f"no installation: kept; {INSTALL_THERE}"
        if self.answer == Reason.REINSTALLED:
            return "reinstalled while Slack was asked: kept"
        if self.answer == Reason.UNREACHABLE:
            return "Slack unreachable: kept; the next sweep asks again"
        if self.answer == "invalid_auth":
            return (
                "invalid_auth: kept; Slack refused its stored token without saying Ally was "
                "removed (an IP allow-list answers this too): check the app's allowed IP "
                f"addresses, or reinstall via https://<your-host>{INSTALL_PATH}"
            )
        return f"{self.answer}: kept; Slack did not say Ally left, the next sweep asks again"


def uninstalled_workspaces(runtime: Runtime) -> list[Checked]:
    """Workspaces with data and no stored bot token (OAuth mode); nobody erases them."""
    if not runtime.settings.oauth:
        return []
    store = installation_store(runtime)
    held = sorted(committed(runtime.unit_of_work, data_rights.workspaces))
    return [Checked(*place, Reason.NO_INSTALLATION) for place in held if not _token(store, *place)]


def sweep_uninstalled(runtime: Runtime) -> list[Checked]:
    """Check every workspace with data against Slack and erase those Slack says Ally left.

    Nothing in single-workspace mode: there the token is the operator's, from the environment,
    and ``app_uninstalled`` is Slack's word.
    """
    if not runtime.settings.oauth:
        return []
    store = installation_store(runtime)
    held = sorted(committed(runtime.unit_of_work, data_rights.workspaces))
    checked: list[Checked] = []
    # Workspaces that share one token (an organisation-wide install) are asked about once.
    by_token: dict[str, list[tuple[str, str]]] = {}
    for place in held:
        token = _token(store, *place)
        if token is None:
            checked.append(Checked(*place, Reason.NO_INSTALLATION))
        else:
            by_token.setdefault(token, []).append(place)
    unreachable = False
    for token, places in by_token.items():
        # Once Slack is out of reach, the rest of this run would only wait on timeouts.
        answer = Reason.UNREACHABLE if unreachable else _ask(runtime, token)
        unreachable = answer == Reason.UNREACHABLE
        if answer in LEFT:
            checked += _erase(runtime, store, token, places, answer)
        else:
            checked += [Checked(*place, answer) for place in places]
    for one in checked:
        if one.erased is None:
            log.log(
                logging.INFO if one.answer == Reason.INSTALLED else logging.WARNING,
                "workspace data kept by the sweep",
                extra=fields(enterprise=one.enterprise_id, team=one.team_id, reason=one.answer),
            )
    return sorted(checked, key=lambda one: (one.enterprise_id, one.team_id))


def _token(store: SealedInstallationStore, enterprise_id: str, team_id: str) -> str | None:
    bot = workspace_bot(store, enterprise_id, team_id)
    return bot.bot_token if bot is not None and bot.bot_token else None


def _ask(runtime: Runtime, token: str) -> str:
    """Slack's answer to ``auth.test`` with ``token``: its error code, or a ``Reason``."""
    from bot.platform.app import web_client

    try:
        web_client(runtime, token=token).auth_test()
    except SlackApiError as error:
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        return str(code or f"HTTP {error.response.status_code}")
    except (SlackClientError, OSError):
        log.debug("auth.test did not answer", exc_info=True)
        return Reason.UNREACHABLE
    return Reason.INSTALLED


def _erase(
    runtime: Runtime,
    store: SealedInstallationStore,
    token: str,
    places: list[tuple[str, str]],
    answer: str,
) -> list[Checked]:
    """Erase the workspaces whose token Slack refused, and the installation that held it.

    A workspace reinstalled while Slack was asked has a new token Slack never refused: kept.
    """
    done: list[Checked] = []
    for enterprise_id, team_id in places:
        if _token(store, enterprise_id, team_id) != token:
            done.append(Checked(enterprise_id, team_id, Reason.REINSTALLED))
            continue
        erased = data_rights.erase(
            runtime.unit_of_work, enterprise_id=enterprise_id, team_id=team_id
        )
        done.append(Checked(enterprise_id, team_id, answer, erased))
        log.info(
            "workspace erased by the sweep: Slack says Ally left it",
            extra=fields(
                enterprise=enterprise_id,
                team=team_id,
                reason=answer,
                rows=erased.total,
                **erased.counts,
            ),
        )
    enterprise_id, team_id = places[0]
    bot = workspace_bot(store, enterprise_id, team_id)
    if bot is not None and bot.bot_token == token:
        store.delete_all(enterprise_id=bot.enterprise_id, team_id=bot.team_id)
    return done
