"""Typed errors shared by every domain. Only views turn them into HTTP responses."""

from __future__ import annotations


class HdhError(Exception):
    """Base class of the platform's own errors."""


class NotAllowed(HdhError):
    """The acting user may not do this (a question about people)."""


class InvalidState(HdhError):
    """The object is not in a state that allows this (a question about state)."""


class ValidationFailed(HdhError):
    """Input was rejected; ``problems`` names each field or location and rule."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []
