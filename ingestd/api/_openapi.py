"""The OpenAPI 3.1 description served at /openapi.json (a test checks it lists every route)."""

from __future__ import annotations

from typing import Any

from .. import __version__
from ._query import DEFAULT_LIMIT, MAX_LIMIT


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _param(name: str, description: str, schema: dict[str, Any] | None = None,
           where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path",
            "description": description, "schema": schema or {"type": "string"}}


_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_NULLABLE_TEXT = {"type": ["string", "null"]}
_ERRORS = {"401": _json(_ref("Error"), "No token configured, or a missing or wrong token.")}
_SECURED: dict[str, Any] = {"security": [{"bearer": []}]}
_PUBLIC: dict[str, Any] = {"security": []}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "ingestd", "version": __version__,
             "description": "Health, metrics and the stored stories of an ingestd daemon. "
                            "Everything but /healthz, /readyz and /metrics needs "
                            "`Authorization: Bearer <token>` ([http] token)."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"],
                      "properties": {"error": {"type": "string"}}},
            "Health": {"type": "object", "properties": {
                "status": {"enum": ["ok", "stale"]}, "last_tick_age_s": {"type": "number"},
                "stale_after_s": {"type": "number"}}},
            "Ready": {"type": "object", "properties": {
                "ready": {"type": "boolean"},
                "checks": {"type": "object", "description": '"ok", or why not',
                           "properties": {k: {"type": "string"} for k in
                                          ("database", "scheduler", "shutdown")}}}},
            "Feed": {"type": "object", "properties": {
                "id": {"type": "string"}, "url": {"type": "string"},
                "source": _NULLABLE_TEXT,
                "origin": {"type": "string", "description": "config, cli, opml, …"},
                "state": {"type": "string", "description": "ok, erroring, parked, removed"},
                "interval": {"type": "number", "description": "seconds"},
                "error_count": {"type": "integer"}, "last_error": _NULLABLE_TEXT,
                "last_poll_at": _NULLABLE_TIME, "last_success_at": _NULLABLE_TIME,
                "next_poll_at": _NULLABLE_TIME,
                "last_story_at": {**_NULLABLE_TIME, "description":
                                  "when this feed last brought a story new to the store"}}},
            "StorySummary": {"type": "object", "properties": {
                "id": {"type": "string"}, "version": {"type": "integer"},
                "feed": {"type": "string"}, "source": {"type": "string"},
                "headline": {"type": "string"}, "byline": _NULLABLE_TEXT,
                "located": _NULLABLE_TEXT, "section": _NULLABLE_TEXT,
                "language": _NULLABLE_TEXT, "first_created": _TIME,
                "version_created": _TIME, "url": _NULLABLE_TEXT}},
            "StoryPage": {"type": "object", "properties": {
                "stories": {"type": "array", "items": _ref("StorySummary")},
                "next_cursor": {"type": ["string", "null"],
                                "description": "pass as `cursor` for the next page; "
                                               "null on the last page"}}},
            "Version": {"type": "object", "properties": {
                "version": {"type": "integer"}, "created_at": _TIME,
                "story": {"type": "object", "description": "IPTC ninjs 3.0"},
                "ingest": {"type": "object"}}},
            "StoryDocument": {"type": "object", "properties": {
                "id": {"type": "string"},
                "story": {"type": "object", "description": "IPTC ninjs 3.0, current version"},
                "ingest": {"type": "object", "description": "what ninjs has no field for"},
                "versions": {"type": "array", "items": _ref("Version"),
                             "description": "newest first"}}},
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/healthz": {"get": {**_PUBLIC, "summary": "Alive: 503 when the scheduler stopped "
                                                   "ticking.", "responses": {
            "200": _json(_ref("Health"), "working"),
            "503": _json(_ref("Health"), "no scheduler tick for too long")}}},
        "/readyz": {"get": {**_PUBLIC, "summary": "Ready: database writable, scheduler "
                                                  "running, not shutting down.", "responses": {
            "200": _json(_ref("Ready"), "ready"), "503": _json(_ref("Ready"), "not ready")}}},
        "/metrics": {"get": {**_PUBLIC, "summary": "Prometheus metrics (ingestd_*).",
                             "responses": {"200": {"description": "text exposition format",
                                                   "content": {"text/plain": {}}}}}},
        "/feeds": {"get": {**_SECURED, "summary": "Every feed and its state.", "responses": {
            "200": _json({"type": "object", "properties": {
                "feeds": {"type": "array", "items": _ref("Feed")}}}, "the feeds, by id"),
            **_ERRORS}}},
        "/stories": {"get": {
            **_SECURED, "summary": "Stories, newest first (by firstCreated, then id).",
            "description": "Cursor pagination: a page continues after the last story of the "
                           "one before, so stories stored meanwhile never repeat or shift "
                           "what follows.",
            "parameters": [
                _param("limit", f"stories per page (default {DEFAULT_LIMIT})",
                       {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
                _param("cursor", "next_cursor of the page before"),
                _param("since", "only stories first created at or after this time",
                       _TIME),
                _param("feed", "feed id"), _param("source", "source profile, e.g. yonhap"),
                _param("section", "section"), _param("language", "language code, e.g. en"),
                _param("q", 'full-text search in headline, body and byline: every word or '
                            '"quoted phrase" must occur; word* matches a prefix'),
            ],
            "responses": {"200": _json(_ref("StoryPage"), "one page"),
                          "400": _json(_ref("Error"), "a parameter is wrong; the error "
                                                      "names it"), **_ERRORS}}},
        "/stories/{story_id}": {"get": {
            **_SECURED, "summary": "One story: its ninjs document and every version.",
            "parameters": [_param("story_id", "the story's id (st_…)", where="path")],
            "responses": {"200": _json(_ref("StoryDocument"), "the story"),
                          "404": _json(_ref("Error"), "no such story"), **_ERRORS}}},
        "/openapi.json": {"get": {**_SECURED, "summary": "This description.", "responses": {
            "200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}},
            **_ERRORS}}},
    },
}
