"""A model-callable tool: a name, what it is for, a pydantic argument schema, and a function over the knowledge.

Bad arguments from a model are the model's fault: `Tool.run` returns them as an error result the model can read
(and the trace records), never as an exception into the graph. Errors in the tool's own code propagate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from knowledge.errors import UserInputError


class ToolOutput(BaseModel):
    """What a tool call returned: a JSON-able result, or the error the model caused."""

    model_config = ConfigDict(extra="forbid")

    ok: bool
    result: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Tool:
    """One tool: its arguments are validated by `args` before `fn` runs."""

    name: str
    description: str
    args: type[BaseModel]
    fn: Callable[[Any], Any]

    def parameters(self) -> dict[str, Any]:
        """The JSON schema of the arguments, as models see it."""
        return self.args.model_json_schema()

    def run(self, arguments: dict[str, Any]) -> ToolOutput:
        """Validate the arguments and run; invalid arguments or input come back as an error the model can read."""
        try:
            parsed = self.args.model_validate(arguments)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "arguments"
            return ToolOutput(ok=False, error=f"invalid {where}: {first['msg']}")
        try:
            return ToolOutput(ok=True, result=_jsonable(self.fn(parsed)))
        except UserInputError as exc:
            return ToolOutput(ok=False, error=str(exc))


def _jsonable(value: Any) -> Any:
    """Plain JSON values from pydantic models and containers of them."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


class ToolBox:
    """The tools available to agents, by name."""

    def __init__(self, tools: list[Tool]) -> None:
        self.tools = {t.name: t for t in tools}

    def __getitem__(self, name: str) -> Tool:
        return self.tools[name]

    def names(self) -> list[str]:
        """Tool names, in registration order."""
        return list(self.tools)

    def run(self, name: str, arguments: dict[str, Any]) -> ToolOutput:
        """Run a tool by name; an unknown name is the caller's (model's) error, reported as such."""
        tool = self.tools.get(name)
        if tool is None:
            return ToolOutput(ok=False, error=f"unknown tool {name!r}; available: {', '.join(self.tools)}")
        return tool.run(arguments)
