"""`forge kg`: inspect the pedagogical knowledge graph (counts, and any node with its edges and sources)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.tree import Tree

from forge.cli.common import console, err_console, print_json, services
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from knowledge.graph import KnowledgeGraph, Node

app = typer.Typer(help="Inspect the pedagogical knowledge graph.", no_args_is_help=True)

#: Edges shown per type in the tree (a level node has thousands); --json prints them all.
_SHOWN_PER_TYPE = 12
_ATTRS_SHOWN = ("pos", "gloss", "variants", "code", "name", "sentence_type", "level_source", "detector", "text",
                "area", "competences", "notes")  # fmt: skip


@app.command("stats")
def stats(
    cli: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Counts of nodes and edges by type and of words, constructions and descriptors by level."""
    figures = _graph(cli).stats()
    if as_json:
        print_json(figures)
        return
    console.print(_counts_table("Nodes", figures["nodes"]))
    console.print(_counts_table("Edges", figures["edges"]))
    console.print(_level_table(figures["by_level"]))
    vocab, grammar = figures["vocabulary"], figures["grammar"]
    console.print(
        f"Vocabulary entries with a level: {vocab['entries_with_level']:,}; with a WordNet gloss: "
        f"{vocab['with_wordnet_gloss']:,} ({vocab['gloss_coverage']:.1%}). Grammar items: {grammar['items']} "
        f"({grammar['with_detector']} with a detector). Descriptors: {figures['descriptors']}."
    )


@app.command("show")
def show(
    cli: typer.Context,
    query: Annotated[str, typer.Argument(help="A word, a grammar item id or code (62, TA.PRPF.AFF), or a node key.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Show the nodes a word or construction names, with their edges and sources."""
    graph = _graph(cli)
    keys = graph.resolve(query)
    if not keys:
        raise UserInputError(
            f"Nothing in the knowledge graph matches {query[:40]!r}; give a word from the CEFR-J/Octanove lists "
            "(e.g. 'house'), a grammar item id or code (e.g. '62', 'TA.PRPF.AFF'), or a node key (e.g. 'level:B1')."
        )
    if as_json:
        print_json([_node_json(graph, key) for key in keys])
        return
    for key in keys:
        console.print(_node_tree(graph, graph.node(key)))


def _graph(cli: typer.Context) -> KnowledgeGraph:
    """The knowledge graph of this invocation (built into the data dir on first use)."""
    with err_console.status("Loading the knowledge graph (the first run builds it, a few seconds)..."):
        return services(cli).knowledge_graph


def _counts_table(title: str, counts: dict[str, int]) -> Table:
    """A two-column table of counts."""
    table = Table(title=title)
    table.add_column("type")
    table.add_column("count", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    return table


def _level_table(by_level: dict[str, dict[str, int]]) -> Table:
    """Words, constructions and descriptors per level."""
    table = Table(title="By level")
    columns = ("word", "construction", "descriptor")
    table.add_column("level")
    for column in columns:
        table.add_column(column, justify="right")
    for level, counts in by_level.items():
        table.add_row(level, *(f"{counts.get(c, 0):,}" for c in columns))
    return table


def _node_tree(graph: KnowledgeGraph, node: Node) -> Tree:
    """A node, its main attributes and its edges grouped by type and direction."""
    level = f" [bold]{node.level}[/bold]" if node.level else ""
    tree = Tree(f"[cyan]{node.key}[/cyan] ({node.type}){level}", highlight=False)
    tree.add(f"source: {node.source}")
    for name in _ATTRS_SHOWN:
        value = node.attrs.get(name)
        if value not in (None, "", [], {}):
            tree.add(f"{name}: {', '.join(map(str, value)) if isinstance(value, list) else value}")
    for (direction, kind), links in _grouped_edges(graph, node.key).items():
        branch = tree.add(f"[magenta]{kind}[/magenta] {direction} ({len(links)})")
        for other, source in links[:_SHOWN_PER_TYPE]:
            target = graph.node(other)
            branch.add(f"{other}{f' ({target.level})' if target.level else ''} — {source}")
        if len(links) > _SHOWN_PER_TYPE:
            branch.add(f"... and {len(links) - _SHOWN_PER_TYPE:,} more (--json lists all)")
    return tree


def _grouped_edges(graph: KnowledgeGraph, key: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Edges of a node as {(direction, type): [(other node, source)]}, outgoing first."""
    grouped: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for u, v, kind, source in graph.edges(key):
        if u == key:
            grouped[("->", kind)].append((v, source))
        else:
            grouped[("<-", kind)].append((u, source))
    return dict(sorted(grouped.items(), key=lambda item: item[0][0] != "->"))


def _node_json(graph: KnowledgeGraph, key: str) -> dict[str, Any]:
    """A node and all its edges as plain JSON."""
    node = graph.node(key)
    edges = [{"from": u, "to": v, "type": kind, "source": source} for u, v, kind, source in graph.edges(key)]
    return {"key": node.key, "type": node.type, "level": node.level, "attrs": node.attrs, "edges": edges}
