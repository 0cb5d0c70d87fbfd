"""Model-callable tools: each a pydantic argument schema and a function over the knowledge graph and lexicon."""

from tools.base import Tool, ToolBox, ToolOutput
from tools.pedagogy import choose_word_tool, make_toolbox

__all__ = ["Tool", "ToolBox", "ToolOutput", "choose_word_tool", "make_toolbox"]
