"""``ally-bot try``: the real Ally app in a terminal, against a built-in local Slack workspace.

Nothing in bot/, handlers/ or storage/ imports this package: ``ally-bot`` finds its ``try``
command through the ``ally.commands`` entry point.
"""
