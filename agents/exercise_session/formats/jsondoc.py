"""JSON: the set as one document for programs, every item with all its fields as the item graph made it.

Not a classroom format but the exact record: session, version, level, topic and the items (type, level, topic,
status, fields, ACI, violations, run and trace ids). Every exercise type is written as it is; nothing is mapped.
"""

from __future__ import annotations

import json
from typing import Any

from agents.exercise_session.formats.sheet import ExportSheet


def document(sheet: ExportSheet) -> dict[str, Any]:
    """The set as one JSON object."""
    return {
        "session": sheet.session,
        "version": sheet.version,
        "level": sheet.level.value,
        "topic": sheet.topic,
        "items": [item.model_dump(mode="json") for item in sheet.set.items],
    }


def render(sheet: ExportSheet) -> bytes:
    """The document as indented UTF-8 JSON."""
    return (json.dumps(document(sheet), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
