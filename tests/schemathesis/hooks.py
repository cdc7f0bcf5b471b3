"""Schemathesis hooks for tests/schemathesis.rs (loaded through SCHEMATHESIS_HOOKS).

Random ids only ever reach the 404 answers. The test seeds real records (a mentor, people,
closings, valid and revoked credentials) and writes their ids, and request bodies that use
them, to the JSON file named by SCHEMATHESIS_SEEDED:

    {"parameters": {"/path/{id}": {"id": ["<value>", ...]}, ...},
     "bodies": {"POST /path": {"application/json": [<body>, ...]}, ...}}

This hook adds them to the document as `examples` after it is fetched from the service, so
the examples phase also checks the 200 answers against their schemas. Every path, parameter
and media type named must exist in the document: a typo or a renamed route fails the run
instead of silently testing less.
"""

import json
import os

import schemathesis

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _examples(values):
    return {f"seeded-{i}": {"value": v} for i, v in enumerate(values)}


@schemathesis.hook
def before_load_schema(context, raw_schema):
    with open(os.environ["SCHEMATHESIS_SEEDED"], encoding="utf-8") as f:
        seeded = json.load(f)
    paths = raw_schema["paths"]
    for path, params in seeded.get("parameters", {}).items():
        item = paths[path]
        for name, values in params.items():
            found = False
            for method in METHODS:
                for param in item.get(method, {}).get("parameters", []):
                    if param["name"] == name:
                        param["examples"] = _examples(values)
                        found = True
            if not found:
                raise KeyError(f"no parameter {name!r} on {path}")
    for key, media_types in seeded.get("bodies", {}).items():
        method, path = key.split(" ", 1)
        content = paths[path][method.lower()]["requestBody"]["content"]
        for media_type, values in media_types.items():
            content[media_type]["examples"] = _examples(values)
