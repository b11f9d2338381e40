"""Configuration errors that name the file and the field, never a raw pydantic traceback."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

ModelT = TypeVar("ModelT", bound=BaseModel)

TOML_TERMS = {"tuple": "array", "Tuple": "Array", "dictionary": "table", "Dictionary": "Table"}
"""Pydantic's names for containers, as a TOML author knows them."""


class MachineConfigError(ValueError):
    """A machine or device file that cannot be read or does not validate.

    The message starts with the file, then the field path, e.g.
    ``perlmutter.toml: partitions.gpu.node_types[0]: unknown node type 'gpu-90gb'``.
    """


def read_config_text(path: Path) -> str:
    """The text of a config file; an unreadable file raises ``MachineConfigError`` naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MachineConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise MachineConfigError(f"{path}: not a UTF-8 text file (byte {exc.start})") from None


def parse_toml(text: str, file_label: str) -> dict[str, Any]:
    """The TOML document in ``text``; a syntax error names the file, line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MachineConfigError(f"{file_label}: invalid TOML: {exc}") from None


def validate_config(model: type[ModelT], data: dict[str, Any], file_label: str) -> ModelT:
    """``model`` validated from ``data``; every error is reported as ``file: field.path: message``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = [f"{file_label}: {_describe(error)}" for error in exc.errors()]
        raise MachineConfigError("\n".join(lines)) from None


def load_config(model: type[ModelT], package: str, file_name: str, path: str | Path | None) -> ModelT:
    """A config file validated as ``model``: the one at ``path``, else ``file_name`` packaged in
    ``package``; errors name the file."""
    if path is None:
        from importlib.resources import files

        text = files(package).joinpath(file_name).read_text(encoding="utf-8")
        label = file_name
    else:
        text = read_config_text(Path(path))
        label = str(path)
    return validate_config(model, parse_toml(text, label), label)


def field_path(loc: tuple[int | str, ...]) -> str:
    """``('partitions', 'gpu', 'node_types', 0)`` -> ``partitions.gpu.node_types[0]``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _describe(error: ErrorDetails) -> str:
    if error["type"] == "value_error":
        # Cross-field checks raise ValueError("path: message") themselves; keep their text as is.
        message = str(error.get("ctx", {}).get("error", error["msg"]))
    else:
        message = _in_toml_terms(error["msg"])
        value = error.get("input")
        if isinstance(value, str | int | float | bool) and error["type"] != "missing":
            message += f" (got {value!r})"
    path = field_path(tuple(error["loc"]))
    return f"{path}: {message}" if path else message


def _in_toml_terms(message: str) -> str:
    for python_term, toml_term in TOML_TERMS.items():
        message = message.replace(python_term, toml_term)
    return message
