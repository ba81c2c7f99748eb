"""IPTC ninjs 3.0: the shape stories leave the daemon in.

The normalizer builds a story's document without the identity fields; the
store adds them with `finalize`. `validate` checks a document against the
ninjs 3.0 schema shipped in this package, format checks on.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

__all__ = ["SCHEMA_PATH", "finalize", "ordered", "utc_z", "validate"]

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
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator() -> Draft202012Validator:
    registry = Registry().with_resource(
        _GEOJSON_URI, Resource.from_contents(_GEOJSON, default_specification=DRAFT7)
    )
    return Draft202012Validator(
        _schema(), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@cache
def _key_order() -> dict[str, int]:
    # identity first (an association leads with `name` and `rel`)
    keys = ["name", "rel", "uri", "version", "versionCreated", *_schema()["$defs"]["ninjsType"]["properties"]]
    return {key: position for position, key in enumerate(dict.fromkeys(keys))}


def utc_z(moment: datetime) -> str:
    """An aware time as ninjs wants it: UTC, whole seconds, `Z`."""
    # isoformat, not strftime: glibc's %Y leaves years before 1000 unpadded ("100-08-06")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def ordered(doc: dict[str, Any]) -> dict[str, Any]:
    """The same document with its keys in the schema's order (unknown keys last, by name)."""
    order = _key_order()
    return {key: doc[key] for key in sorted(doc, key=lambda k: (order.get(k, len(order)), k))}


def finalize(doc: dict[str, Any], *, uri: str, version: int, version_created: datetime) -> dict[str, Any]:
    """A new document with the identity fields only the store knows."""
    return ordered({**doc, "uri": uri, "version": str(version), "versionCreated": utc_z(version_created)})


def validate(doc: Any) -> list[str]:
    """Every schema error, as `path: message`; empty when the document is valid ninjs 3.0."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]
