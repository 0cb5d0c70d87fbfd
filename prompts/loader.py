"""Prompt templates as files, rendered strictly.

Each `prompts/<name>.yaml` holds one prompt in tiers (the structure the research uses):
`output_rules`, `task`, `constraints`, `guidelines`, `reasoning` (the pedagogical reasoning), `avoid`, and
optionally `examples` (few-shot pairs) and `completion` (a plain few-shot completion prompt for the small model,
which follows examples far better than instructions). Rendering uses Jinja2 with `StrictUndefined`, so a missing
variable is an error, never an empty string; variables a template declares but is not given are reported by name.
"""

from __future__ import annotations

import importlib.resources
from functools import cache
from typing import Any

import jinja2
import yaml
from jinja2 import meta
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge.errors import ForgeError

TIERS = ("output_rules", "task", "constraints", "guidelines", "reasoning", "avoid")
TIER_TITLES = {
    "output_rules": "Output rules",
    "task": "Task",
    "constraints": "Constraints",
    "guidelines": "Guidelines",
    "reasoning": "Pedagogical reasoning",
    "avoid": "Avoid",
}

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


class PromptError(ForgeError):
    """A prompt file is malformed or was rendered without a variable it needs (our bug, not the user's)."""


class MissingVariables(PromptError):
    """Rendering was attempted without some variables the template uses."""

    def __init__(self, prompt: str, missing: set[str]) -> None:
        super().__init__(f"prompt {prompt!r} needs variables {sorted(missing)}")
        self.missing = missing


class PromptTemplate(BaseModel):
    """One prompt file: its tiers, optional few-shot examples and optional completion form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    version: int = Field(default=1, description="Bumped when the wording changes, recorded in traces.")
    output_rules: str = ""
    task: str = ""
    constraints: str = ""
    guidelines: str = ""
    reasoning: str = ""
    avoid: str = ""
    user: str = Field(default="", description="The user turn of the chat form.")
    completion: str = Field(default="", description="Plain few-shot completion form, for the small model.")

    def variables(self, parts: tuple[str, ...] | None = None) -> set[str]:
        """Every variable the given parts (default: all parts) of this template use."""
        names: set[str] = set()
        for part, text in self._parts().items():
            if parts is None or part in parts:
                names |= meta.find_undeclared_variables(_ENV.parse(text))
        return names

    def render_system(self, **values: Any) -> str:
        """The tiers as one system message, each under its title, empty tiers left out."""
        self._check(values, TIERS)
        blocks = []
        for tier in TIERS:
            text = _render(self.name, getattr(self, tier), values).strip()
            if text:
                blocks.append(f"## {TIER_TITLES[tier]}\n{text}")
        return "\n\n".join(blocks)

    def render_user(self, **values: Any) -> str:
        """The user turn of the chat form."""
        self._check(values, ("user",))
        return _render(self.name, self.user, values).strip()

    def render_completion(self, **values: Any) -> str:
        """The few-shot completion prompt (no chat template), ending where the model should continue."""
        if not self.completion:
            raise PromptError(f"prompt {self.name!r} has no completion form")
        self._check(values, ("completion",))
        return _render(self.name, self.completion, values)

    def _parts(self) -> dict[str, str]:
        """All template texts of this prompt by part name."""
        return {p: getattr(self, p) for p in (*TIERS, "user", "completion") if getattr(self, p)}

    def _check(self, values: dict[str, Any], parts: tuple[str, ...]) -> None:
        """Raise MissingVariables naming every variable these parts use but were not given."""
        missing = self.variables(parts) - set(values)
        if missing:
            raise MissingVariables(self.name, missing)


def _render(name: str, text: str, values: dict[str, Any]) -> str:
    """Render one template text strictly."""
    try:
        return _ENV.from_string(text).render(**values)
    except jinja2.UndefinedError as exc:
        raise MissingVariables(name, {str(exc)}) from exc
    except jinja2.TemplateError as exc:
        raise PromptError(f"prompt {name!r} failed to render: {exc}") from exc


@cache
def load_prompt(name: str) -> PromptTemplate:
    """Load `prompts/<name>.yaml` (cached); a missing or malformed file is a PromptError naming it."""
    resource = importlib.resources.files("prompts") / f"{name}.yaml"
    try:
        data = yaml.safe_load(resource.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PromptError(f"no prompt file prompts/{name}.yaml; available: {', '.join(available_prompts())}") from exc
    except yaml.YAMLError as exc:
        raise PromptError(f"prompts/{name}.yaml is not valid YAML: {exc}") from exc
    try:
        return PromptTemplate.model_validate(data)
    except ValidationError as exc:
        raise PromptError(f"prompts/{name}.yaml does not match the prompt format: {exc}") from exc


def available_prompts() -> list[str]:
    """Names of all prompt files shipped in the package."""
    root = importlib.resources.files("prompts")
    return sorted(p.name.removesuffix(".yaml") for p in root.iterdir() if p.name.endswith(".yaml"))
