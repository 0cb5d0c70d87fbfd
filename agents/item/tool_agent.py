"""The tool-calling agent: the model consults the pedagogical tools before generation.

The model first chooses the target word from the graph's candidates (a tool whose schema only admits those
words, so even the 135M model makes a valid choice), then may call one of the standard tools about it (look up
its level, find an example, a simpler word...). Each call is an `execute_tool` span with arguments and result.
What the model chooses is used: the chosen word moves to the front of the target list. Model failures here
degrade to the graph's own order; they never fail the item.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from agents import telemetry
from agents.context import AgentContext
from agents.item.constraints import Constraints
from agents.models.base import GenerationOptions, Message, ToolCall, ToolSpec
from agents.models.errors import ModelError
from tools import Tool, ToolBox, choose_word_tool, make_toolbox

CANDIDATES = 6
FOLLOW_UP_TOOLS = ("lookup_word_level", "get_example_sentence", "find_simpler_word")


class ToolRecord(BaseModel):
    """One tool call and its result, as kept in the state and shown in traces."""

    name: str
    arguments: dict[str, object]
    ok: bool
    result: object = None
    error: str | None = None
    model: str = Field(default="", description="The model that asked for the call.")


def _spec(tool: Tool) -> ToolSpec:
    """A tool as the model layer describes it."""
    return ToolSpec(name=tool.name, description=tool.description, parameters=tool.parameters())


def _execute(box: ToolBox, call: ToolCall, model: str) -> ToolRecord:
    """Run one call inside an `execute_tool` span."""
    with telemetry.tool_span(call.name, call_id=call.id, arguments=call.arguments) as span:
        out = box.run(call.name, call.arguments)
        telemetry.tool_result(span, out.result if out.ok else {"error": out.error})
        return ToolRecord(
            name=call.name, arguments=call.arguments, ok=out.ok, result=out.result, error=out.error, model=model
        )


def _ask(ctx: AgentContext, messages: list[Message], tools: list[Tool], choice: str, seed: int) -> list[ToolCall]:
    """One model turn that must call a tool; an empty list when the model fails."""
    options = GenerationOptions(max_tokens=96, temperature=0.3, seed=seed)
    try:
        result = ctx.local.chat(messages, tools=[_spec(t) for t in tools], tool_choice=choice, options=options)
    except ModelError:
        return []
    return result.tool_calls[:1]


def run_tools(ctx: AgentContext, kind: str, constraints: Constraints, seed: int) -> list[ToolRecord]:
    """Let the model choose the target word and consult one tool about it; return every call made."""
    if ctx.policy.tool_steps == 0 or not constraints.target_words:
        return []
    words = [w.word for w in constraints.target_words[:CANDIDATES]]
    box = make_toolbox(ctx.checker.lexicon, ctx.graph, ctx.estimator, ctx.exemplars)
    chooser = choose_word_tool(words, ctx.checker.lexicon)
    box.tools[chooser.name] = chooser
    messages = [
        Message.system(
            f"You prepare a {kind.replace('_', ' ')} exercise for {constraints.level} learners "
            f"about {constraints.topic}. Use the tools."
        ),
        Message.user(f"Candidate words: {', '.join(words)}. Choose the best word for the exercise."),
    ]
    records: list[ToolRecord] = []
    plan = [(chooser, chooser.name), *[(box[name], name) for name in FOLLOW_UP_TOOLS][: ctx.policy.tool_steps - 1]]
    for step, (tool, choice) in enumerate(plan):
        calls = _ask(ctx, messages, [tool], choice, seed + step)
        if not calls:
            break
        record = _execute(box, calls[0], ctx.local.id)
        records.append(record)
        messages += [
            Message(role="assistant", tool_calls=calls),
            Message(
                role="tool",
                name=record.name,
                tool_call_id=calls[0].id,
                content=json.dumps(record.result if record.ok else record.error),
            ),
        ]
    return records


def apply_choice(constraints: Constraints, records: list[ToolRecord]) -> Constraints:
    """Move the word the model chose to the front of the targets (the graph's order otherwise)."""
    chosen = next(
        (
            str(r.result["word"])
            for r in records
            if r.ok and r.name == "choose_target_word" and isinstance(r.result, dict)
        ),
        None,
    )
    if chosen is None:
        return constraints
    first = [w for w in constraints.target_words if w.word == chosen]
    rest = [w for w in constraints.target_words if w.word != chosen]
    return constraints.model_copy(update={"target_words": first + rest})
