"""The per-service settings tables of docs/configuration.md, generated from the Settings classes
so the docs never drift from the code: ``uv run python -m backbone.configdoc`` prints them
(``--write`` updates docs/configuration.md in place); a
test keeps the document's generated part equal to this output. Every service-specific setting
must have a ``description`` (the test fails on one without)."""

from __future__ import annotations

import importlib
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from backbone.settings import ServiceSettings
from contracts.topics import SERVICES

# The services and the console (settings, but no schema or topic: docs/adr/0014-web-console.md).
DOCUMENTED = (*SERVICES, "console")

BEGIN = "<!-- begin generated: service settings (uv run python -m backbone.configdoc) -->"
END = "<!-- end generated: service settings -->"


def _default(field: FieldInfo) -> str:
    value: Any = field.default
    if value is PydanticUndefined or value is None:
        return "unset"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, list | dict | tuple):
        return f"`{json.dumps(value)}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`" if value != "" else "empty"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def service_settings(service: str) -> list[tuple[str, str, str]]:
    """(environment variable, default, meaning) of each setting the service adds to the base."""
    cls: type[ServiceSettings] = importlib.import_module(f"{service}.config").Settings
    prefix = str(cls.model_config.get("env_prefix", ""))
    rows = []
    for name, field in cls.model_fields.items():
        if name in ServiceSettings.model_fields:
            continue
        rows.append((f"{prefix}{name.upper()}", _default(field), (field.description or "").strip()))
    return rows


def render() -> str:
    out = [BEGIN, ""]
    for service in DOCUMENTED:
        rows = service_settings(service)
        if not rows:
            continue
        out += [f"### {service}", "", "| variable | default | meaning |", "|---|---|---|"]
        out += [f"| `{env}` | {default} | {_cell(meaning)} |" for env, default, meaning in rows]
        out.append("")
    out.append(END)
    return "\n".join(out) + "\n"


def generated_part(document: str) -> str:
    """The generated part of a document (markers included), or "" if it has none."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < 0:
        return ""
    return document[start : end + len(END)] + "\n"


def write(path: Path) -> None:
    """Replace the document's generated part with the current one."""
    document = path.read_text()
    old = generated_part(document)
    if not old:
        raise SystemExit(f"{path} has no generated part ({BEGIN!r} … {END!r})")
    path.write_text(document.replace(old, render()))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write"]:
        write(Path(sys.argv[2]) if len(sys.argv) > 2 else Path("docs/configuration.md"))
    else:
        print(render(), end="")
