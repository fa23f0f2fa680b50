"""Collects violations: one line per distinct finding, with how often and where it was first seen."""

import json


class Report:
    """The violations found for one platform."""

    def __init__(self, platform):
        self.platform = platform
        # finding text -> (count, first location)
        self.violations = {}

    def add(self, obj, field, message, exchange=None, index=None):
        """Records that `field` of `obj` breaks the schema, as `message` explains."""
        finding = f"{self.platform}: {obj}.{field}: {message}" if field else f"{self.platform}: {obj}: {message}"
        where = ""
        if exchange is not None:
            where = f"exchange #{index} {exchange['method']} {exchange['path']} -> {exchange['status']}"
        count, first = self.violations.get(finding, (0, where))
        self.violations[finding] = (count + 1, first)

    def print(self):
        for finding, (count, first) in self.violations.items():
            print(f"{finding}  [seen {count}x; first in {first}]")


def json_body(text):
    """The parsed JSON of a body, or None when it is empty or not JSON."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def json_type(value):
    """A JSON value's type as the schemas name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def query_dict(exchange):
    """The request's query pairs as a dict of name -> list of values."""
    out = {}
    for name, value in exchange["query"]:
        out.setdefault(name, []).append(value)
    return out


def header(exchange, name, response=False):
    """A request (or response) header's value, or None."""
    for key, value in exchange["response_headers" if response else "headers"]:
        if key.lower() == name.lower():
            return value
    return None
