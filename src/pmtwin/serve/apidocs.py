"""The REST API's reference page (``/docs``), drawn on the server from the application's OpenAPI schema.

One self-contained HTML page, without scripts, that fetches nothing: it reads offline like the rest of
the dashboard. (FastAPI's own pages, Swagger UI and ReDoc, load their scripts from a CDN; the server
turns them off.) Every operation gets its method and path, summary, description, parameters, request
body and responses; every schema of ``components`` its fields, with types linked to their schemas.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
SCHEMA_PREFIX = "#/components/schemas/"
LITERAL = re.compile(r"``(.+?)``")

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 68em; padding: 0 1em;
  color: #222; }
h1 small, h3 small { font-weight: normal; color: #666; font-size: 60%; }
h3 { margin-top: 2em; border-top: 1px solid #ddd; padding-top: 0.8em; }
code { font: 13px ui-monospace, monospace; }
table { border-collapse: collapse; margin: 0.4em 0 1em; }
th, td { text-align: left; vertical-align: top; padding: 0.25em 0.8em 0.25em 0;
  border-bottom: 1px solid #eee; }
th { font-weight: 600; }
.method { display: inline-block; min-width: 4em; font: bold 13px ui-monospace, monospace; color: #fff;
  background: #4a7; border-radius: 3px; padding: 0.1em 0.4em; text-align: center; }
.method-post { background: #37c; } .method-delete { background: #c44; } .method-put { background: #a6c; }
.method-patch { background: #c83; }
.required { color: #c44; }
ul.toc { list-style: none; padding-left: 0; columns: 2; }
"""


def api_docs_html(schema: dict[str, Any]) -> str:
    """The reference page of the OpenAPI document ``schema`` (as ``FastAPI.openapi()`` answers it)."""
    info = schema.get("info", {})
    title = str(info.get("title", "API"))
    operations = [
        (path, method, item[method])
        for path, item in schema.get("paths", {}).items()
        for method in METHODS
        if method in item
    ]
    schemas: dict[str, Any] = schema.get("components", {}).get("schemas", {})
    parts = [
        f"<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n<title>{escape(title)}: API"
        f"</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        f"<h1>{escape(title)} <small>API {escape(str(info.get('version', '')))}, "
        f"OpenAPI {escape(str(schema.get('openapi', '')))}</small></h1>\n",
    ]
    for key in ("summary", "description"):
        if info.get(key):
            parts.append(_paragraphs(str(info[key])))
    parts.append(
        "<p>The machine-readable schema: <a href='/openapi.json'><code>/openapi.json</code></a>.</p>\n"
    )
    parts.append("<h2>Operations</h2>\n<ul class='toc'>\n")
    for path, method, operation in operations:
        parts.append(
            f"<li><a href='#{_operation_anchor(path, method, operation)}'>{_method(method)} "
            f"<code>{escape(path)}</code></a> {escape(str(operation.get('summary', '')))}</li>\n"
        )
    parts.append("</ul>\n")
    parts.extend(_operation(path, method, operation) for path, method, operation in operations)
    if schemas:
        parts.append("<h2>Schemas</h2>\n")
        parts.extend(_schema_section(name, schemas[name]) for name in sorted(schemas))
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def _operation_anchor(path: str, method: str, operation: dict[str, Any]) -> str:
    return "op-" + escape(str(operation.get("operationId") or f"{method}-{path}"), quote=True)


def _method(method: str) -> str:
    return f"<span class='method method-{method}'>{method.upper()}</span>"


def _paragraphs(text: str) -> str:
    """Paragraphs of a docstring-like text, its ````literals```` as code."""
    return "".join(f"<p>{_inline(block.strip())}</p>\n" for block in text.split("\n\n") if block.strip())


def _inline(text: str) -> str:
    return LITERAL.sub(r"<code>\1</code>", escape(text))


def _operation(path: str, method: str, operation: dict[str, Any]) -> str:
    parts = [
        f"<h3 id='{_operation_anchor(path, method, operation)}'>{_method(method)} <code>{escape(path)}</code>"
        f" <small>{escape(str(operation.get('summary', '')))}</small></h3>\n",
        _paragraphs(str(operation.get("description", ""))),
    ]
    parameters = operation.get("parameters", [])
    if parameters:
        parts.append("<table>\n<tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>\n")
        for parameter in parameters:
            field_schema = parameter.get("schema", {})
            description = parameter.get("description") or field_schema.get("description", "")
            parts.append(
                f"<tr><td><code>{escape(str(parameter['name']))}</code>{_required(parameter.get('required'))}"
                f"</td><td>{escape(str(parameter.get('in', '')))}</td><td>{_type(field_schema)}"
                f"{_default(field_schema)}</td><td>{_inline(str(description))}</td></tr>\n"
            )
        parts.append("</table>\n")
    body = operation.get("requestBody")
    if body:
        parts.append(f"<p><strong>Request body</strong>{_required(body.get('required'))}: ")
        parts.append("; ".join(_content(kind, media) for kind, media in body.get("content", {}).items()))
        parts.append("</p>\n")
    responses = operation.get("responses", {})
    if responses:
        parts.append("<table>\n<tr><th>status</th><th>meaning</th><th>body</th></tr>\n")
        for status, response in responses.items():
            content = "; ".join(_content(kind, media) for kind, media in response.get("content", {}).items())
            parts.append(
                f"<tr><td><code>{escape(str(status))}</code></td>"
                f"<td>{_inline(str(response.get('description', '')))}</td><td>{content}</td></tr>\n"
            )
        parts.append("</table>\n")
    return "".join(parts)


def _content(kind: str, media: dict[str, Any]) -> str:
    schema = media.get("schema")
    return f"<code>{escape(kind)}</code>" + (f": {_type(schema)}" if schema else "")


def _required(required: object) -> str:
    return " <span class='required' title='required'>*</span>" if required else ""


def _default(schema: dict[str, Any]) -> str:
    if "default" not in schema:
        return ""
    return f" (default <code>{escape(json.dumps(schema['default']))}</code>)"


def _schema_section(name: str, schema: dict[str, Any]) -> str:
    heading = f"{escape(name)} <small>{_type(schema, top=True)}</small>"
    parts = [
        f"<h3 id='schema-{escape(name, quote=True)}'>{heading}</h3>\n",
        _paragraphs(str(schema.get("description", ""))),
    ]
    properties: dict[str, Any] = schema.get("properties", {})
    if properties:
        required = set(schema.get("required", []))
        parts.append("<table>\n<tr><th>field</th><th>type</th><th>description</th></tr>\n")
        for field, field_schema in properties.items():
            parts.append(
                f"<tr><td><code>{escape(field)}</code>{_required(field in required)}</td>"
                f"<td>{_type(field_schema)}{_default(field_schema)}</td>"
                f"<td>{_inline(str(field_schema.get('description', '')))}</td></tr>\n"
            )
        parts.append("</table>\n")
    if schema.get("additionalProperties") is False:
        parts.append("<p>No other fields are accepted.</p>\n")
    return "".join(parts)


def _type(schema: dict[str, Any], *, top: bool = False) -> str:
    """A schema's type in words (HTML): references linked, alternatives joined by ``|``, constraints
    after the type. ``top``: the schema of a section of its own (its properties are listed there)."""
    if "$ref" in schema:
        ref = str(schema["$ref"])
        name = ref.removeprefix(SCHEMA_PREFIX)
        return f"<a href='#schema-{escape(name, quote=True)}'>{escape(name)}</a>"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            text = " | ".join(_type(option) for option in schema[key])
            discriminator = schema.get("discriminator", {}).get("propertyName")
            if discriminator:
                text += f" (by <code>{escape(str(discriminator))}</code>)"
            return text
    if "const" in schema:
        return f"<code>{escape(json.dumps(schema['const']))}</code>"
    if "enum" in schema:
        return "one of " + ", ".join(f"<code>{escape(json.dumps(value))}</code>" for value in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        text = "array of " + _grouped(schema.get("items", {}))
    elif kind == "object" and not top and isinstance(schema.get("additionalProperties"), dict):
        text = "object of " + _grouped(schema["additionalProperties"])
    elif isinstance(kind, str):
        text = escape(kind) + (f" ({escape(str(schema['format']))})" if "format" in schema else "")
    else:
        text = "any"
    return text + _constraints(schema)


def _grouped(schema: dict[str, Any]) -> str:
    """A contained schema's type, in parentheses when it has alternatives."""
    text = _type(schema)
    return f"({text})" if "anyOf" in schema or "oneOf" in schema else text


def _constraints(schema: dict[str, Any]) -> str:
    words = {
        "minimum": "≥ {}", "exclusiveMinimum": "&gt; {}", "maximum": "≤ {}", "exclusiveMaximum": "&lt; {}",
        "minLength": "at least {} characters", "maxLength": "at most {} characters",
        "minItems": "at least {} items", "maxItems": "at most {} items",
    }  # fmt: skip
    found = [template.format(_number(schema[key])) for key, template in words.items() if key in schema]
    if "pattern" in schema:
        found.append(f"matching <code>{escape(str(schema['pattern']))}</code>")
    return f", {', '.join(found)}" if found else ""


def _number(value: object) -> str:
    """``1000.0`` as ``1000``, other values as they are."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return escape(str(value))
