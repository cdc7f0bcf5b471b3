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

The file may also name path parameter values that must never be sent (the id of the token
the run authenticates with, which schemathesis would otherwise learn from `GET
/api/v1/tokens` and revoke, leaving the rest of the run to 401s):

    {"protected": [{"operation": "POST /path/{id}", "parameter": "id", "value": "<value>"}]}

A request naming one is sent with the nil UUID instead (a 404), so only that one
destructive case is left out; everything else, revoking other tokens included, is tested.
"""

import json
import os
import uuid

import schemathesis

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _seeded():
    with open(os.environ["SCHEMATHESIS_SEEDED"], encoding="utf-8") as f:
        return json.load(f)


def _same_id(a, b):
    """Whether two path values name the same UUID (in any spelling the service parses)."""
    try:
        return uuid.UUID(str(a).strip()) == uuid.UUID(str(b).strip())
    except ValueError:
        return str(a) == str(b)


PROTECTED = _seeded().get("protected", []) if "SCHEMATHESIS_SEEDED" in os.environ else []
NIL = "00000000-0000-0000-0000-000000000000"


def _examples(values):
    return {f"seeded-{i}": {"value": v} for i, v in enumerate(values)}


@schemathesis.hook
def before_load_schema(context, raw_schema):
    seeded = _seeded()
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
    for rule in seeded.get("protected", []):
        method, path = rule["operation"].split(" ", 1)
        names = [p["name"] for p in paths[path][method.lower()].get("parameters", [])]
        if rule["parameter"] not in names:
            raise KeyError(f"no parameter {rule['parameter']!r} on {rule['operation']}")
    for key, media_types in seeded.get("bodies", {}).items():
        method, path = key.split(" ", 1)
        content = paths[path][method.lower()]["requestBody"]["content"]
        for media_type, values in media_types.items():
            content[media_type]["examples"] = _examples(values)


@schemathesis.hook
def before_call(context, case, **kwargs):
    """Sends the nil UUID instead of a protected path value (see the module docs)."""
    operation = f"{case.method.upper()} {case.operation.path}"
    for rule in PROTECTED:
        if rule["operation"] != operation or not case.path_parameters:
            continue
        name = rule["parameter"]
        if name in case.path_parameters and _same_id(case.path_parameters[name], rule["value"]):
            case.path_parameters[name] = NIL
