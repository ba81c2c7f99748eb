"""The OpenAPI 3.1 description served at /openapi.json.

Response objects list every field (`additionalProperties: false`), so a field the
API starts to return without declaring it fails the schemathesis run; the request
bodies' schemas are the ones the API validates bodies against (`SCHEMAS`).
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ._query import DEFAULT_LIMIT, MAX_LIMIT


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _closed(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An object that always carries exactly these fields."""
    return {
        "type": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
        **extra,
    }


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null: in a merge patch, null takes the key out (its default applies)."""
    return {"anyOf": [schema, {"type": "null"}]}


def _patching(schema: dict[str, Any]) -> dict[str, Any]:
    """A table's schema for a merge patch: null inside takes one key out (one header)."""
    if isinstance(schema.get("additionalProperties"), dict):
        return schema | {"additionalProperties": _nullable(schema["additionalProperties"])}
    return schema


def _param(
    name: str, description: str, schema: dict[str, Any] | None = None, where: str = "query"
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema or {"type": "string"},
    }


_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_NULLABLE_TEXT = {"type": ["string", "null"]}
_TEXT = {"type": "string", "minLength": 1}
_ERRORS = {"401": _json(_ref("Error"), "No token configured, or a missing or wrong token.")}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_EVENTS = {
    "type": "array",
    "items": {"enum": ["story.created", "story.updated"]},
    "minItems": 1,
    "uniqueItems": True,
    "description": "event types sent; default both",
}
# The end of the string in every regex dialect: `$` also matches before a final newline
# in Python's (and so in jsonschema's), which the config's own checks refuse.
_END = r"(?![\s\S])"
# Standard Webhooks: whsec_ and the key in base64, padding optional
SECRET_PATTERN = (
    r"^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=?|[A-Za-z0-9+/]{2}(?:==)?)" + _END
)
_WHSEC = {"type": "string", "pattern": SECRET_PATTERN}
_SECRET = {
    "oneOf": [_WHSEC, {"type": "array", "items": _WHSEC, "minItems": 1}],
    "description": "whsec_… (Standard Webhooks); a list while rotating. Stored in the "
    "database, never shown again; env: and file: are refused here",
}
# http(s), a host name or IPv4 address (IPv6 literals: give the host a name), a port
_URL = {
    "type": "string",
    "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~%!$&'()*+,;=-]+(?::[0-9]{1,5})?(?:[/?#][!-~]*)?"
    + _END,
    "description": "http(s)",
}
_FILTER_DESCRIPTION = "every key given must match; within a key, any value; {} or left out: everything"
_FILTER_FIELDS: dict[str, Any] = {
    "sources": _STRINGS,
    "sections": _STRINGS,
    "languages": _STRINGS,
    "keywords": {**_STRINGS, "description": "whole words in headline or body, any case"},
    "first_of_cluster": {"type": "boolean"},
}
_FILTER = {
    "type": "object",
    "additionalProperties": False,
    "description": _FILTER_DESCRIPTION,
    "properties": _FILTER_FIELDS,
}
_FILTER_PATCH = {
    "type": "object",
    "additionalProperties": False,
    "description": "merged key by key: null takes a key out",
    "properties": {k: _nullable(v) for k, v in _FILTER_FIELDS.items()},
}
_ID = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}" + _END}
_SUBSCRIPTION_PATH = _param("subscription_id", "the subscription's id", where="path")
_NOT_FOUND = {"404": _json(_ref("Error"), "no such subscription")}
_FEED_PATH = _param("feed_id", "the feed's id", where="path")
_DECLARED = {
    "409": _json(
        _ref("Error"), "the config declares this subscription: only its state can change at run time"
    )
}
_FEED_NOT_FOUND = {"404": _json(_ref("Error"), "no such feed (or a removed one)")}
_FEED_DECLARED = {"409": _json(_ref("Error"), "the config declares this feed: change it there")}
# seconds, or a duration of up to four parts whose first starts with a digit other than 0
# (so longer than 0s); a pattern without a repeated group, which hypothesis would take
# minutes to draw from
_UNIT = "(?:ms|s|m|h|d|w)"
_DURATION = {
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": 31_622_400},
        {
            "type": "string",
            "pattern": f"^[1-9][0-9]{{0,5}}(?:[.][0-9]{{1,3}})?{_UNIT}(?:[0-9]{{1,6}}{_UNIT}){{0,3}}" + _END,
        },
    ],
    "description": "seconds, or e.g. 30s, 5m, 1h30m",
}
_IDENTITY = {"enum": ["guid", "url", "content"], "description": "a pinned identity policy"}
_FEED_FIELDS: dict[str, Any] = {
    "source": {**_TEXT, "description": "source profile (yonhap, ap, …); left out: detected"},
    "interval": {**_DURATION, "description": "poll interval; left out: [scheduler] default_interval"},
    "fetch_article": {"type": "boolean", "description": "read each entry's own page"},
    "identity": _IDENTITY,
    "quiet_after": {**_DURATION, "description": "quiet after this long without a story; left out: learnt"},
    # credentials are values here (env:/file: and client certificates are the config's and
    # the CLI's); stored, never shown (docs/operations.md, "Credentials and proxies")
    "headers": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "request headers sent to the feed's own origin only",
    },
    "auth": {
        "type": "object",
        "description": '{"basic": {"username": …, "password": …}} or {"bearer": TOKEN}',
    },
    "query": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "token query parameters added to requests to the feed's own origin",
    },
}
_SECURED: dict[str, Any] = {"security": [{"bearer": []}]}
_PUBLIC: dict[str, Any] = {"security": []}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "ingestd",
        "version": __version__,
        "description": "Health, metrics, the feeds, the stored stories and the webhook "
        "subscriptions of an ingestd daemon. "
        "Everything but /healthz, /readyz and /metrics needs "
        "`Authorization: Bearer <token>` ([http] token); a GET may give it as `?token=` "
        "instead (a browser following the status page's links), never logged. A method a path does not "
        "have gets 405, with `Allow` naming those it has.",
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "statusToken": {"type": "apiKey", "in": "query", "name": "token"},
        },
        "schemas": {
            "Error": _closed(
                {"error": {"type": "string", "description": "what was wrong, naming the field"}}
            ),
            "Health": _closed(
                {
                    "status": {"enum": ["ok", "stale"]},
                    "last_tick_age_s": {"type": "number"},
                    "stale_after_s": {"type": "number"},
                }
            ),
            "Ready": _closed(
                {
                    "ready": {"type": "boolean"},
                    "checks": {
                        "type": "object",
                        "description": '"ok", or why not',
                        "properties": {k: {"type": "string"} for k in ("database", "scheduler", "shutdown")},
                        "additionalProperties": {"type": "string"},
                    },
                }
            ),
            "Feed": _closed(
                {
                    "id": {"type": "string"},
                    "url": {"type": "string"},
                    "source": _NULLABLE_TEXT,
                    "origin": {"type": "string", "description": "config, cli, opml, …"},
                    "state": {"type": "string", "description": "ok, erroring, parked, removed"},
                    "interval": {"type": "number", "description": "seconds"},
                    "fetch_article": {"type": "boolean"},
                    "identity": {"enum": ["guid", "url", "content", None]},
                    "quiet_after": {"type": ["number", "null"], "description": "seconds; null: learnt"},
                    "disabled": {"type": "boolean", "description": "not polled, whatever its state"},
                    "error_count": {"type": "integer", "minimum": 0},
                    "last_error": _NULLABLE_TEXT,
                    "last_poll_at": _NULLABLE_TIME,
                    "last_success_at": _NULLABLE_TIME,
                    "next_poll_at": _NULLABLE_TIME,
                    "quiet_since": {
                        **_NULLABLE_TIME,
                        "description": "since when the feed brought no story for longer than expected; "
                        "null while it is not quiet",
                    },
                    "last_story_at": {
                        **_NULLABLE_TIME,
                        "description": "when this feed last brought a story new to the store",
                    },
                    "credentials": {
                        "type": ["object", "null"],
                        "description": 'what is set, never a value: {"headers": {"X-Api-Key": "set"}, '
                        '"auth": "basic" | "bearer", "query": {…}, "client_cert": "set"}; null: none',
                    },
                }
            ),
            "NewFeed": {
                "type": "object",
                "required": ["id", "url"],
                "additionalProperties": False,
                "description": "a [[feeds]] table, checked by the config's rules; http(s) only",
                "properties": {"id": _ID, "url": _URL, **_FEED_FIELDS},
            },
            "FeedPatch": {
                "type": "object",
                "additionalProperties": False,
                "description": "JSON merge patch (RFC 7396) of the feed's table: a key given "
                "replaces the value, null restores the default; the whole is checked as a new feed",
                "properties": {
                    "url": {**_URL, "description": "http(s); a new one is polled afresh at the next tick"},
                    **{k: _nullable(_patching(v)) for k, v in _FEED_FIELDS.items()},
                    "disabled": {
                        "type": "boolean",
                        "description": "stop or restart polling; the only change a config feed takes",
                    },
                },
            },
            "StorySummary": _closed(
                {
                    "id": {"type": "string"},
                    "version": {"type": "integer", "minimum": 1},
                    "feed": {"type": "string"},
                    "source": _NULLABLE_TEXT,
                    "headline": _NULLABLE_TEXT,
                    "byline": _NULLABLE_TEXT,
                    "located": _NULLABLE_TEXT,
                    "section": _NULLABLE_TEXT,
                    "language": _NULLABLE_TEXT,
                    "first_created": _NULLABLE_TIME,
                    "version_created": _NULLABLE_TIME,
                    "url": _NULLABLE_TEXT,
                }
            ),
            "StoryPage": _closed(
                {
                    "stories": {"type": "array", "items": _ref("StorySummary")},
                    "next_cursor": {
                        "type": ["string", "null"],
                        "description": "pass as `cursor` for the next page; null on the last page",
                    },
                }
            ),
            "Version": _closed(
                {
                    "version": {"type": "integer", "minimum": 1},
                    "created_at": _TIME,
                    "story": {"type": "object", "description": "IPTC ninjs 3.0"},
                    "ingest": {"type": "object"},
                }
            ),
            "Subscription": _closed(
                {
                    "id": {"type": "string"},
                    "url": {"type": "string"},
                    "origin": {"enum": ["config", "cli", "api"]},
                    "events": _EVENTS,
                    "filter": _FILTER,
                    "secret_fingerprints": {
                        "type": ["array", "null"],
                        "items": {"type": "string"},
                        "description": "sha256:<12 hex> of each stored secret; null for the config's",
                    },
                    "state": {"enum": ["active", "paused", "disabled", "removed"]},
                    "reason": _NULLABLE_TEXT,
                    "backlog": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "deliveries pending or in flight",
                    },
                    "failed": {"type": "integer", "minimum": 0},
                    "delivered": {"type": "integer", "minimum": 0},
                    "last_success_at": _NULLABLE_TIME,
                    "last_error": _NULLABLE_TEXT,
                    "last_error_at": _NULLABLE_TIME,
                }
            ),
            "NewSubscription": {
                "type": "object",
                "required": ["id", "url", "secret"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "url": _URL,
                    "secret": _SECRET,
                    "events": _EVENTS,
                    "filter": _FILTER,
                },
            },
            "SubscriptionPatch": {
                "type": "object",
                "additionalProperties": False,
                "description": "JSON merge patch (RFC 7396): a key given replaces the value, "
                "null restores the default; filter keys merge one by one",
                "properties": {
                    "url": _URL,
                    "secret": _SECRET,
                    "events": _nullable(_EVENTS),
                    "filter": _nullable(_FILTER_PATCH),
                    "state": {
                        "enum": ["active", "disabled"],
                        "description": "enable or disable; the only change a config subscription takes",
                    },
                },
            },
            "StoryDocument": _closed(
                {
                    "id": {"type": "string"},
                    "story": {"type": "object", "description": "IPTC ninjs 3.0, current version"},
                    "ingest": {"type": "object", "description": "what ninjs has no field for"},
                    "versions": {"type": "array", "items": _ref("Version"), "description": "newest first"},
                }
            ),
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/healthz": {
            "get": {
                **_PUBLIC,
                "summary": "Alive: 503 when the scheduler stopped ticking.",
                "responses": {
                    "200": _json(_ref("Health"), "working"),
                    "503": _json(_ref("Health"), "no scheduler tick for too long"),
                },
            }
        },
        "/readyz": {
            "get": {
                **_PUBLIC,
                "summary": "Ready: database writable, scheduler running, not shutting down.",
                "responses": {"200": _json(_ref("Ready"), "ready"), "503": _json(_ref("Ready"), "not ready")},
            }
        },
        "/metrics": {
            "get": {
                **_PUBLIC,
                "summary": "Prometheus metrics (ingestd_*).",
                "responses": {
                    "200": {"description": "text exposition format", "content": {"text/plain": {}}}
                },
            }
        },
        "/feeds": {
            "get": {
                **_SECURED,
                "summary": "Every feed and its state.",
                "responses": {
                    "200": _json(
                        _closed({"feeds": {"type": "array", "items": _ref("Feed")}}), "the feeds, by id"
                    ),
                    **_ERRORS,
                },
            },
            "post": {
                **_SECURED,
                "summary": "Add an http(s) feed at run time; the daemon polls it at its next tick. "
                "file: and folder: feeds are the config's alone.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NewFeed")}},
                },
                "responses": {
                    "201": _json(_ref("Feed"), "added; Location names it"),
                    "400": _json(_ref("Error"), "a field is wrong; the error names it"),
                    "409": _json(_ref("Error"), "the id is taken"),
                    **_ERRORS,
                },
            },
        },
        "/feeds/{feed_id}": {
            "get": {
                **_SECURED,
                "summary": "One feed and its state.",
                "parameters": [_FEED_PATH],
                "responses": {"200": _json(_ref("Feed"), "the feed"), **_FEED_NOT_FOUND, **_ERRORS},
            },
            "patch": {
                **_SECURED,
                "summary": "Change a run-time feed's fields (as `ingestd feeds change`); disable or "
                "enable any feed.",
                "parameters": [_FEED_PATH],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/merge-patch+json": {"schema": _ref("FeedPatch")},
                        "application/json": {"schema": _ref("FeedPatch")},
                    },
                },
                "responses": {
                    "200": _json(_ref("Feed"), "changed"),
                    "400": _json(_ref("Error"), "a field is wrong; the error names it"),
                    **_FEED_NOT_FOUND,
                    **_FEED_DECLARED,
                    **_ERRORS,
                },
            },
            "delete": {
                **_SECURED,
                "summary": "Stop polling a run-time feed and set it aside; its stories and "
                "tombstones stay, unless purge=true deletes them (and the feed).",
                "parameters": [
                    _FEED_PATH,
                    _param("purge", "true: delete its stories too", {"enum": ["true", "false"]}),
                ],
                "responses": {
                    "204": {"description": "removed"},
                    "400": _json(_ref("Error"), "purge is neither true nor false"),
                    **_FEED_NOT_FOUND,
                    **_FEED_DECLARED,
                    **_ERRORS,
                },
            },
        },
        "/stories": {
            "get": {
                **_SECURED,
                "summary": "Stories, newest first (by firstCreated, then id).",
                "description": "Cursor pagination: a page continues after the last story of the "
                "one before, so stories stored meanwhile never repeat or shift "
                "what follows.",
                "parameters": [
                    _param(
                        "limit",
                        f"stories per page (default {DEFAULT_LIMIT})",
                        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                    ),
                    _param(
                        "cursor",
                        "next_cursor of the page before; one the server did not give is a 400",
                        {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
                    ),
                    _param("since", "only stories first created at or after this time", _TIME),
                    _param("feed", "feed id", _TEXT),
                    _param("source", "source profile, e.g. yonhap", _TEXT),
                    _param("section", "section", _TEXT),
                    _param("language", "language code, e.g. en", _TEXT),
                    _param(
                        "q",
                        "full-text search in headline, body and byline: every word or "
                        '"quoted phrase" must occur; word* matches a prefix',
                        _TEXT,
                    ),
                ],
                "responses": {
                    "200": _json(_ref("StoryPage"), "one page"),
                    "400": _json(_ref("Error"), "a parameter is wrong; the error names it"),
                    **_ERRORS,
                },
            }
        },
        "/stories/{story_id}": {
            "get": {
                **_SECURED,
                "summary": "One story: its ninjs document and every version.",
                "parameters": [_param("story_id", "the story's id (st_…)", where="path")],
                "responses": {
                    "200": _json(_ref("StoryDocument"), "the story"),
                    "404": _json(_ref("Error"), "no such story"),
                    **_ERRORS,
                },
            }
        },
        "/subscriptions": {
            "get": {
                **_SECURED,
                "summary": "Every subscription, from the config or added at "
                "run time, and its state; never its secrets.",
                "responses": {
                    "200": _json(
                        _closed({"subscriptions": {"type": "array", "items": _ref("Subscription")}}),
                        "the subscriptions, by id",
                    ),
                    **_ERRORS,
                },
            },
            "post": {
                **_SECURED,
                "summary": "Add a subscription at run time; it gets the events stored from now on.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NewSubscription")}},
                },
                "responses": {
                    "201": _json(_ref("Subscription"), "added; Location names it"),
                    "400": _json(_ref("Error"), "a field is wrong; the error names it"),
                    "409": _json(_ref("Error"), "the id is taken"),
                    **_ERRORS,
                },
            },
        },
        "/subscriptions/{subscription_id}": {
            "get": {
                **_SECURED,
                "summary": "One subscription and its state.",
                "parameters": [_SUBSCRIPTION_PATH],
                "responses": {
                    "200": _json(_ref("Subscription"), "the subscription"),
                    **_NOT_FOUND,
                    **_ERRORS,
                },
            },
            "patch": {
                **_SECURED,
                "summary": "Change a run-time subscription's fields (queued "
                "deliveries keep theirs); enable or disable any.",
                "parameters": [_SUBSCRIPTION_PATH],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/merge-patch+json": {"schema": _ref("SubscriptionPatch")},
                        "application/json": {"schema": _ref("SubscriptionPatch")},
                    },
                },
                "responses": {
                    "200": _json(_ref("Subscription"), "changed"),
                    "400": _json(_ref("Error"), "a field is wrong; the error names it"),
                    **_NOT_FOUND,
                    **_DECLARED,
                    **_ERRORS,
                },
            },
            "delete": {
                **_SECURED,
                "summary": "Remove a run-time subscription with its secret "
                "and deliveries (those owed are dropped).",
                "parameters": [_SUBSCRIPTION_PATH],
                "responses": {"204": {"description": "removed"}, **_NOT_FOUND, **_DECLARED, **_ERRORS},
            },
        },
        "/": {
            "get": {
                "security": [{"bearer": []}, {"statusToken": []}],
                "summary": "The status page, HTML for people: feeds, subscriptions, links to the JSON.",
                "description": "Open with either bearer token (`[http] token`, or the read-only "
                "`[http] status_token`), or in a browser as `/?token=…`.",
                "responses": {
                    "200": {
                        "description": "the page",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    **_ERRORS,
                },
            }
        },
        "/websub/{feed_id}": {
            "get": {
                **_PUBLIC,
                "summary": "A WebSub hub verifies a subscription request of ours (or denies it): "
                "the challenge is echoed. Open to hubs; 404 for anything not asked.",
                "parameters": [
                    _FEED_PATH,
                    _param("hub.mode", "subscribe, unsubscribe or denied", {"type": "string"}),
                    _param("hub.topic", "the feed's self URL we asked for"),
                    _param("hub.challenge", "echoed when the request is ours"),
                    _param(
                        "hub.lease_seconds", "the lease granted", {"type": "string", "pattern": "^[0-9]+$"}
                    ),
                    _param("hub.reason", "why a hub denied it"),
                ],
                "responses": {
                    "200": {"description": "the challenge", "content": {"text/plain": {}}},
                    "404": _json(_ref("Error"), "WebSub off, or no such request of ours"),
                },
            },
            "post": {
                **_PUBLIC,
                "summary": "A WebSub hub pushes the feed's new content, signed with the feed's secret "
                "(X-Hub-Signature: sha1|sha256|sha384|sha512=<hex>); taken like a poll of the feed.",
                "parameters": [
                    _FEED_PATH,
                    _param("X-Hub-Signature", "HMAC of the body with the feed's secret", where="header"),
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                "responses": {
                    "202": {"description": "accepted: ingested in the background"},
                    "403": _json(_ref("Error"), "not subscribed, or the signature is missing or wrong"),
                    "404": _json(_ref("Error"), "WebSub off"),
                    "413": _json(_ref("Error"), "larger than [fetch] max_body"),
                },
            },
        },
        "/openapi.json": {
            "get": {
                **_SECURED,
                "summary": "This description.",
                "responses": {
                    "200": _json({"type": "object"}, "OpenAPI 3.1"),
                    **_ERRORS,
                },
            }
        },
    },
}
