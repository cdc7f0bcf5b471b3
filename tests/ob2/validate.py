#!/usr/bin/env python3
"""Validate a hosted Open Badges 2.0 assertion with the 1EdTech reference validator.

    validate.py URL [--email ADDRESS]
    validate.py --check            # exit 0 if the validator imports (set-up check)

Runs `openbadges.verify(URL, recipient_profile={"email": ADDRESS})` (PyPI `openbadges`,
installed from requirements.txt next to this file) fully offline:

* the OB 2.0 JSON-LD context, which the validator would download from w3id.org, is answered
  from the copy in this directory (`openbadges-v2-context.json`, from the 1EdTech spec
  repository);
* only loopback URLs (127.0.0.0/8, ::1, localhost) are fetched: the service under test;
* any other request fails with an "offline" connection error.

This is done by wrapping `requests.adapters.HTTPAdapter.send`, which every requests session
the validator opens (cached or not) goes through.

Prints one JSON object: {valid, errorCount, warningCount, errors, warnings, fetched}.
Exit status: 0 valid, 1 not valid, 2 usage error.
"""

import argparse
import collections
import collections.abc
import ipaddress
import json
import os
import sys
from urllib.parse import urlsplit

# python-jose 3.0.1 (pinned by the validator) imports ABCs from `collections`, which
# Python 3.10 removed; put the names back before anything imports it.
for _name in ("Mapping", "MutableMapping", "Sequence", "Iterable", "Callable"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402
from requests.models import Response  # noqa: E402

CONTEXT_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "openbadges-v2-context.json")
CONTEXT_URLS = {
    "https://w3id.org/openbadges/v2",
    "http://w3id.org/openbadges/v2",
    "https://w3id.org/openbadges/v2/",
    "https://openbadgespec.org/v2/context.json",
}


def is_loopback(url):
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def go_offline(log):
    """Route every HTTP request through the offline policy; record what was asked for."""
    with open(CONTEXT_FILE, "rb") as f:
        context = f.read()
    real_send = HTTPAdapter.send

    def send(adapter, request, **kwargs):
        if request.url in CONTEXT_URLS:
            log.append({"url": request.url, "served": "bundled context"})
            res = Response()
            res.status_code = 200
            res._content = context
            res.headers["Content-Type"] = "application/ld+json"
            res.url = request.url
            res.request = request
            res.encoding = "utf-8"
            return res
        if not is_loopback(request.url):
            log.append({"url": request.url, "served": "refused"})
            raise requests.ConnectionError(
                "offline: refusing to fetch non-loopback URL " + request.url)
        res = real_send(adapter, request, **kwargs)
        log.append({"url": request.url, "status": res.status_code})
        return res

    HTTPAdapter.send = send


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="URL of the hosted assertion (loopback only)")
    parser.add_argument("--email", help="the recipient's email address, to check the hash")
    parser.add_argument("--check", action="store_true",
                        help="only check that the validator imports")
    args = parser.parse_args(argv)
    if args.check:
        import openbadges  # noqa: F401
        return 0
    if not args.url:
        parser.error("a URL is required")
    if not is_loopback(args.url):
        parser.error("only loopback URLs are validated here: " + args.url)

    log = []
    go_offline(log)
    from openbadges import verify  # after the patch: the validator imports requests too

    profile = {"email": args.email} if args.email else None
    result = verify(args.url, recipient_profile=profile)
    report = result.get("report", {})
    messages = report.get("messages", [])

    def level(name):
        return ["{}: {}".format(m.get("name"), m.get("result"))
                for m in messages if m.get("messageLevel") == name]

    print(json.dumps({
        "valid": bool(report.get("valid")),
        "errorCount": report.get("errorCount"),
        "warningCount": report.get("warningCount"),
        "recipientProfile": report.get("recipientProfile"),
        "errors": level("ERROR"),
        "warnings": level("WARNING"),
        "fetched": log,
    }, indent=2, default=str))
    return 0 if report.get("valid") else 1


if __name__ == "__main__":
    sys.exit(main())
