"""Ally's application layer: configuration, the Bolt app factory, the domain and the CLI.

No Slack payload parsing happens here; that is handlers/. No SQL table definitions either;
that is storage/.
"""
