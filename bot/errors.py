"""Domain errors: each carries a message a member can read, never a traceback."""

from __future__ import annotations


class AllyError(Exception):
    """Something the member asked for cannot be done; ``message`` says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(AllyError):
    """A value the member gave is not acceptable. ``field`` names the form field it came from."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(AllyError):
    """The member asked about someone or something they have not recorded."""
