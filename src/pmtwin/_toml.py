"""A minimal TOML writer for resolved run configurations: tables of scalars, lists and inline tables, in
the order given."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def dumps_toml(tables: Mapping[str, Mapping[str, Any]]) -> str:
    """``[table]`` sections of ``key = value`` lines (str, int, float, bool, lists, inline tables;
    ``None`` values are left out); deterministic text. A table name is a dotted path (``a.b`` is table
    ``b`` inside ``a``); each part is quoted when it needs to be."""
    lines: list[str] = []
    for name, table in tables.items():
        if lines:
            lines.append("")
        lines.append(f"[{'.'.join(_key(part) for part in name.split('.'))}]")
        lines.extend(f"{_key(key)} = {_value(value)}" for key, value in table.items() if value is not None)
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        items = (f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + ", ".join(items) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
