"""Model-call failures, classified so callers can decide: retry, escalate, degrade, or report a bug.

Every error keeps the model id and chains the underlying cause (`raise ... from exc`).
"""

from __future__ import annotations

from typing import Literal

from knowledge.errors import ForgeError, UserInputError

ErrorKind = Literal["timeout", "unavailable", "invalid_output", "bug"]


class ModelError(ForgeError):
    """A model call that did not produce a usable answer."""

    kind: ErrorKind = "bug"
    #: Whether trying the same call again may succeed (network blips, slow servers, sampling luck).
    retryable: bool = False

    def __init__(self, message: str, *, model: str, attempts: int = 1) -> None:
        super().__init__(message)
        self.model = model
        self.attempts = attempts


class ModelTimeout(ModelError):
    """The model did not finish within its time budget."""

    kind: ErrorKind = "timeout"
    retryable = True


class ModelUnavailable(ModelError):
    """The model cannot be reached: server down, connection dropped, HTTP 5xx, model not installed."""

    kind: ErrorKind = "unavailable"
    retryable = True


class ModelNotFound(ModelUnavailable):
    """The server answered but does not have this model; retrying will not help."""

    retryable = False


class InvalidModelOutput(ModelError):
    """The model answered, but not in the requested shape (broken JSON, schema mismatch, unknown tool)."""

    kind: ErrorKind = "invalid_output"
    retryable = True


class ModelBug(ModelError):
    """Our own code misused a backend (bad arguments, unexpected response type): a bug to report, not retry."""

    kind: ErrorKind = "bug"


class UnknownModel(UserInputError):
    """A model string that no backend recognises."""
