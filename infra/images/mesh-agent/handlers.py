"""Your activity handlers: HANDLERS maps an activity name (as in AGENT_MESH_ACTIVITIES) to a
function of (input, context) returning the task's output; an exception fails the task with the
exception's class name as the error. This example is the guide's document pipeline step."""

from typing import Any, Dict


def extract_text(input: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
    return {"document": input.get("document"), "words": len(str(input.get("text", "")).split())}


HANDLERS = {"extract-text": extract_text}
