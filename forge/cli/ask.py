"""`forge ask`: one chat turn with one model, the smallest end-to-end path."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from forge.cli.common import console, print_json, services
from knowledge.errors import UserInputError

MAX_PROMPT_CHARS = 20_000


def ask(
    cli: typer.Context,
    prompt: Annotated[str, typer.Argument(help="What to say to the model.")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model string; default: the local model.")] = None,
    system: Annotated[str | None, typer.Option("--system", help="A system message to send first.")] = None,
    schema: Annotated[
        Path | None, typer.Option("--schema", help="JSON-schema file: the reply must be JSON matching it.")
    ] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, max=4096)] = 256,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, max=2.0)] = 0.7,
    seed: Annotated[int | None, typer.Option("--seed", help="Sampling seed for reproducible output.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON with text, model, usage and latency.")] = False,
) -> None:
    """Send one chat turn and print the reply."""
    from agents import telemetry
    from agents.models.base import GenerationOptions, Message
    from agents.models.deadline import deadline

    text = prompt.strip()
    if not text:
        raise UserInputError("The prompt is empty; give the text to send, e.g. forge ask \"Say hello.\"")
    if len(text) > MAX_PROMPT_CHARS:
        raise UserInputError(f"The prompt has {len(text):,} characters; at most {MAX_PROMPT_CHARS:,} are accepted.")
    messages = ([Message.system(system)] if system else []) + [Message.user(text)]
    options = GenerationOptions(max_tokens=max_tokens, temperature=temperature, seed=seed)
    svc = services(cli)
    chat_model = svc.model(model)  # builds the services, and so starts tracing, before the run span
    # One question gets the budget of one item: a hung Ollama host can not hold it for every retry of every model.
    with (
        telemetry.run_span("ask", "ask", run_id=uuid.uuid4().hex, operation="invoke_agent"),
        deadline(svc.settings.item_deadline_s, label="ask"),
    ):
        trace_id = telemetry.current_trace_id()
        result = chat_model.chat(messages, options=options, schema=_load_schema(schema) if schema else None)
    if as_json:
        extra = {"tokens_per_s": result.tokens_per_s, "trace_id": trace_id}
        print_json(result.model_dump(mode="json", exclude={"token_logprobs"}) | extra)
        return
    console.print(result.text, highlight=False, markup=False)
    console.print(
        f"[dim]{result.model} · {result.usage.input_tokens}+{result.usage.output_tokens} tokens · "
        f"{result.latency_s:.2f} s · first token {result.ttft_s or 0:.2f} s[/dim]"
    )


def _load_schema(path: Path) -> dict[str, Any]:
    """Read a JSON-schema file; say clearly what is wrong with it if it cannot be used."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserInputError(f"Cannot read schema file {path} ({exc.strerror}); give a readable JSON file.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserInputError(f"Schema file {path} is not valid JSON ({exc}); give a JSON-schema object.") from exc
    if not isinstance(value, dict):
        raise UserInputError(f"Schema file {path} holds a {type(value).__name__}; a JSON-schema object is accepted.")
    return value
