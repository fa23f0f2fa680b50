"""Rewardful: the weakest check, because Rewardful publishes no official SDK or schema. Requests
and responses are checked against `rewardful_envelope.json`, a description written by hand from
Rewardful's REST API documentation (its `_about` names the pages): parameter names per endpoint,
`limit` ≤ 100, the `{pagination, data}` envelope and its keys, the fields the connector reads
with their types and enums, and objects that come back only when asked for with `expand[]`.
"""

import json
from pathlib import Path

from .report import json_body, json_type

SPEC = json.loads((Path(__file__).resolve().parent.parent / "rewardful_envelope.json").read_text())


def check(exchanges, report):
    for index, exchange in enumerate(exchanges):
        endpoint = SPEC["endpoints"].get(exchange["path"])
        if exchange["method"] != "GET" or endpoint is None:
            report.add("request", "path", f"{exchange['method']} {exchange['path']} is not a documented list endpoint", exchange, index)
            continue
        expanded = set()
        for name, value in exchange["query"]:
            if name not in endpoint["params"]:
                report.add(f"GET {exchange['path']}", name, f"not a documented parameter (documented: {endpoint['params']}; hand-written description)", exchange, index)
            if name == "limit" and not (value.isdigit() and 1 <= int(value) <= SPEC["max_limit"]):
                report.add(f"GET {exchange['path']}", "limit", f"{value!r}: at most {SPEC['max_limit']}", exchange, index)
            if name == "expand[]":
                expanded.add(value)
                if value not in endpoint["expand"]:
                    report.add(f"GET {exchange['path']}", "expand[]", f"{value!r} is not expandable here ({endpoint['expand']})", exchange, index)
        if exchange["status"] != 200:
            continue
        body = json_body(exchange["response_body"])
        if not isinstance(body, dict) or set(body) != {"pagination", "data"} or not isinstance(body.get("data"), list):
            report.add("envelope", "", "a list is {pagination: {...}, data: [...]} (hand-written description)", exchange, index)
            continue
        pagination = body["pagination"]
        for key in pagination if isinstance(pagination, dict) else []:
            if key not in SPEC["pagination_keys"]:
                report.add("envelope", f"pagination.{key}", f"not a documented pagination key ({SPEC['pagination_keys']})", exchange, index)
        spec = SPEC["objects"][endpoint["object"]]
        for item in body["data"]:
            check_object(endpoint["object"], item, spec, expanded, report, exchange, index)


def check_object(name, item, spec, expanded, report, exchange, index):
    if not isinstance(item, dict):
        report.add(name, "", f"expected an object, found {json_type(item)}", exchange, index)
        return
    for key in spec["required"]:
        if key not in item:
            report.add(name, key, "missing (documented on every object; hand-written description)", exchange, index)
    for key, kind in spec["types"].items():
        if key in item and item[key] is not None and json_type(item[key]) != kind:
            report.add(name, key, f"documented as {kind}, found {json_type(item[key])}", exchange, index)
    for key, values in spec["enums"].items():
        if key in item and item[key] not in values:
            report.add(name, key, f"{item[key]!r} is not one of {values}", exchange, index)
    for key, needs in spec["only_when_expanded"].items():
        if isinstance(item.get(key), dict) and needs not in expanded:
            report.add(name, key, f"an object here comes back only with expand[]={needs}, which the request did not send", exchange, index)
