"""Exception classes raised by mlcore; callers map them to API errors."""

from __future__ import annotations


class MlcoreError(Exception):
    """Base class so callers can catch every mlcore failure in one place."""


class UnknownUserError(MlcoreError, KeyError):
    """A user id the model has never seen (neither trained nor folded in)."""

    def __init__(self, user_id: object) -> None:
        super().__init__(f"unknown user id: {user_id!r}")
        self.user_id = user_id

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


class UnknownItemError(MlcoreError, KeyError):
    """An item id outside the model's catalog."""

    def __init__(self, item_id: object) -> None:
        super().__init__(f"unknown item id: {item_id!r}")
        self.item_id = item_id

    def __str__(self) -> str:
        return str(self.args[0])


class EmptyDataError(MlcoreError, ValueError):
    """Training or query input with nothing usable in it."""


class InvalidInputError(MlcoreError, ValueError):
    """Malformed input: missing columns, NaN weights, wrong shapes."""


class NotFittedError(MlcoreError, RuntimeError):
    """A model used before fit() or load()."""
