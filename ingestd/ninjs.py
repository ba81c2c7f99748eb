"""IPTC ninjs 3.0: the shape stories leave the daemon in.

The normalizer builds a story's document without the identity fields; the
store adds them with `finalize`. `validate` checks a document against the
ninjs 3.0 schema shipped in this package, format checks on. `check_story` is
the outbox door: the store/composer calls it on every finalized document before
its event is written, and a document with errors is never sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

__all__ = ["IDENTITY", "SCHEMA_PATH", "check_story", "finalize", "ordered", "utc_z", "validate"]

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "ninjs-schema_3.0.json"

# ninjs points `places[].geoJSON` at geojson.org. Validation must never go to the
# network, so that URI resolves to this outline of the GeoJSON schema (RFC 7946
# object types and coordinate arrays). Stories from ingestd carry no geoJSON.
_GEOJSON_URI = "https://geojson.org/schema/GeoJSON.json"
_GEOMETRY_TYPES = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]
_GEOJSON: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": _GEOJSON_URI,
    "definitions": {
        "coordinates": {
            "type": "array",
            "items": {"anyOf": [{"type": "number"}, {"$ref": "#/definitions/coordinates"}]},
        },
        "geometry": {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["type", "coordinates"],
                    "properties": {
                        "type": {"enum": _GEOMETRY_TYPES},
                        "coordinates": {"$ref": "#/definitions/coordinates"},
                    },
                },
                {
                    "type": "object",
                    "required": ["type", "geometries"],
                    "properties": {
                        "type": {"const": "GeometryCollection"},
                        "geometries": {"type": "array", "items": {"$ref": "#/definitions/geometry"}},
                    },
                },
            ]
        },
        "feature": {
            "type": "object",
            "required": ["type", "geometry", "properties"],
            "properties": {
                "type": {"const": "Feature"},
                "geometry": {"oneOf": [{"type": "null"}, {"$ref": "#/definitions/geometry"}]},
                "properties": {"oneOf": [{"type": "null"}, {"type": "object"}]},
            },
        },
    },
    "oneOf": [
        {"$ref": "#/definitions/geometry"},
        {"$ref": "#/definitions/feature"},
        {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"const": "FeatureCollection"},
                "features": {"type": "array", "items": {"$ref": "#/definitions/feature"}},
            },
        },
    ],
}


@cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@cache
def _validator() -> Draft202012Validator:
    registry = Registry().with_resource(
        _GEOJSON_URI, Resource.from_contents(_GEOJSON, default_specification=DRAFT7)
    )
    return Draft202012Validator(
        _schema(), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _accepts(doc: Any) -> bool:
    """jsonschema-rs's verdict on the same schema and formats, ~1 µs against jsonschema's ~200:
    a document it refuses (or cannot take) is checked again by jsonschema for the messages."""
    try:
        return bool(_fast_validator().is_valid(doc))
    except (ValueError, TypeError):
        return False


@cache
def _fast_validator() -> Any:
    def offline(uri: str) -> Any:  # the one $ref target, from this module: never the network
        if uri == _GEOJSON_URI:
            return _GEOJSON
        raise ValueError(f"no schema for {uri} offline")

    return jsonschema_rs.Draft202012Validator(_schema(), validate_formats=True, retriever=offline)


@cache
def _key_order() -> dict[str, int]:
    # identity first (an association leads with `name` and `rel`)
    keys = ["name", "rel", "uri", "version", "versionCreated", *_schema()["$defs"]["ninjsType"]["properties"]]
    return {key: position for position, key in enumerate(dict.fromkeys(keys))}


def utc_z(moment: datetime) -> str:
    """An aware time as ninjs wants it: UTC, whole seconds, `Z`, a four-digit year."""
    m = moment.astimezone(UTC)  # fields, not strftime: a third of the cost, the same text
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def ordered(doc: dict[str, Any]) -> dict[str, Any]:
    """The same document with its keys in the schema's order (unknown keys last, by name)."""
    keys = tuple(doc)
    order = _orders.get(keys)
    if order is None:
        order = _order_of(keys)
    return {key: doc[key] for key in order}


# each set of keys in the order it was given, sorted once: documents repeat a few shapes
_orders: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_ORDERS = 1024  # shapes remembered; past this many the memory starts afresh


def _order_of(keys: tuple[Any, ...]) -> tuple[Any, ...]:
    global _orders
    rank = _key_order()
    order = tuple(sorted(keys, key=lambda k: (rank.get(k, len(rank)), k)))
    if len(_orders) >= _ORDERS:  # replaced, never cleared: another thread may be reading it
        _orders = {}
    _orders[keys] = order
    return order


IDENTITY = ("uri", "version", "versionCreated")  # the members only the store knows: `finalize` sets them


def finalize(doc: dict[str, Any], *, uri: str, version: int, version_created: datetime) -> dict[str, Any]:
    """A new document with the identity fields only the store knows (IDENTITY)."""
    return ordered({**doc, "uri": uri, "version": str(version), "versionCreated": utc_z(version_created)})


def check_story(doc: Any) -> list[str]:
    """The outbox door: every error that must keep a finalized story from subscribers.

    Schema errors (one compiled validator, format checks on), and the times every
    subscriber relies on: `firstCreated` and `versionCreated` must be there.
    """
    errors = validate(doc)
    if isinstance(doc, dict):
        errors += [f"{key}: missing" for key in ("firstCreated", "versionCreated") if key not in doc]
    return errors


def validate(doc: Any) -> list[str]:
    """Every schema error, as `path: message`; empty when the document is valid ninjs 3.0."""
    if _accepts(doc):
        return []
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]
