"""Errors shared by every layer, split by whose fault they are.

`knowledge` is the bottom layer of the project (graphs -> agents -> tools/knowledge/prompts; forge/ on top),
so the root of the hierarchy lives here and every other package raises subclasses of it.

- `UserInputError`: the person running the program gave something we cannot accept. The message is one sentence
  naming what was wrong and what is accepted; the CLI prints it and exits with code 2.
- `ResourceError`: something the program needs is missing or unreadable on this machine (a GGUF file, a data
  file, a corrupt database). Also the user's environment, also exit code 2, with a hint how to fix it.
- Model failures (timeouts, unreachable servers, invalid output) live in `agents.models.errors`; they are
  degraded around, not shown as crashes.
- Anything else is our bug: it propagates, and the CLI reports it as an internal error.
"""

from __future__ import annotations


class ForgeError(Exception):
    """Root of every error Pedagogical Forge raises on purpose."""


class UserInputError(ForgeError, ValueError):
    """Bad input from the user: one sentence saying what was wrong and what is accepted."""


class ResourceError(ForgeError):
    """A file, database or service the program needs is missing or unusable on this machine."""
