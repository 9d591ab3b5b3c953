"""The API's OpenAPI 3.1 document, served at `GET /openapi.json`: every operation, who may call it, its body's
schema (from the same pydantic models the endpoints validate with) and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from k2_host.api.roles import PERMISSIONS


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    id: str
    summary: str
    permission: str | None  # None: open (the probes, this document)
    body: type[BaseModel] | None = None
    query: tuple[tuple[str, str, str], ...] = ()  # (name, type, description)
    streams: bool = False  # may answer with text/event-stream
    status: int = 200  # what success answers (201 created, 202 accepted)


def _roles(permission: str) -> list[str]:
    return [role for role, perms in PERMISSIONS.items() if permission in perms]


def document(operations: list[Operation], version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["message", "type"],
                    "properties": {
                        "message": {"type": "string"},
                        "type": {"type": "string"},
                        "code": {"type": ["string", "null"]},
                        "param": {"type": ["string", "null"]},
                    },
                }
            },
        }
    }
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        ok: dict[str, Any] = {"description": "done", "content": {"application/json": {"schema": {"type": "object"}}}}
        if op.streams:
            ok["content"]["text/event-stream"] = {"schema": {"type": "string"}}
        responses: dict[str, Any] = {str(op.status): ok}
        item: dict[str, Any] = {"operationId": op.id, "summary": op.summary, "responses": responses}
        if op.permission is None:
            item["security"] = []
        else:
            item["description"] = f"Roles: {', '.join(_roles(op.permission))}."
            responses |= {
                "401": {"description": "no credentials, or unknown, expired, revoked ones", **error},
                "403": {"description": "the caller's role may not do this", **error},
                "429": {"description": "rate limited (Retry-After says when to retry)", **error},
            }
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_params(op.path)
        ]
        params += [
            {"name": name, "in": "query", "required": False, "schema": {"type": kind}, "description": text}
            for name, kind, text in op.query
        ]
        if params:
            item["parameters"] = params
        if op.body is not None:
            name = op.body.__name__
            schema = op.body.model_json_schema(ref_template="#/components/schemas/{model}")
            for sub, sub_schema in schema.pop("$defs", {}).items():
                schemas[sub] = sub_schema
            schemas[name] = schema
            item["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
            }
            responses["413"] = {"description": "the body is over the size cap", **error}
            responses["422"] = {"description": "a field is wrong (param names it)", **error}
        if "{" in op.path:
            responses["404"] = {"description": "not found, or not the caller's", **error}
        paths.setdefault(op.path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "K2 Agent System API",
            "version": version,
            "description": "OpenAI-compatible chat completions and the host's native sessions and runs.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an API key (k2_...) or a JWT"}
            },
        },
        "security": [{"bearer": []}],
    }


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]
