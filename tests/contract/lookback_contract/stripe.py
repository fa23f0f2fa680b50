"""Stripe: list requests and the charge, refund and dispute objects checked against the typed
resource classes of the official `stripe` 16.1.0 SDK (`stripe._charge.Charge`, …).

The walker reads each class's annotations: a key that is not annotated is an unknown field; a
non-`Optional` annotation whose key is missing is a missing required field (Stripe always sends
every field, `null` when empty); `Literal[...]` values are enums (for `Union[Literal[...], str]`
the SDK keeps `str` only so that tomorrow's value does not crash it, so a value outside the
Literal is reported as unknown to this SDK version); `ExpandableField[X]` is an id string or an
`X` object; nested `StripeObject` classes are walked recursively; `UntypedStripeObject` (metadata)
is a free map. Request parameters are checked against the SDK's `…ListParams` TypedDicts.
"""

import json
import re
import typing

import stripe
from stripe._charge import Charge
from stripe._dispute import Dispute
from stripe._error_object import ErrorObject
from stripe._list_object import ListObject
from stripe._refund import Refund
from stripe._stripe_object import StripeObject
from stripe.params._charge_list_params import ChargeListParams
from stripe.params._dispute_list_params import DisputeListParams
from stripe.params._refund_list_params import RefundListParams

from .report import json_body, json_type, header

RESOURCES = {"charge": Charge, "refund": Refund, "dispute": Dispute}
LIST_PARAMS = {"/v1/charges": ChargeListParams, "/v1/refunds": RefundListParams, "/v1/disputes": DisputeListParams}
LIST_OBJECT = {"/v1/charges": "charge", "/v1/refunds": "refund", "/v1/disputes": "dispute"}


def annotations(cls):
    """A class's field annotations, its own and its StripeObject bases'."""
    out = {}
    for base in reversed(cls.__mro__):
        if base is object or not issubclass(base, StripeObject) or base is StripeObject:
            continue
        for name, annotation in vars(base).get("__annotations__", {}).items():
            if not name.startswith("_") and typing.get_origin(annotation) is not typing.ClassVar:
                out[name] = annotation
    return out


def resolve(annotation, owner):
    """Turns ForwardRef('Customer') into stripe.Customer (the SDK imports them lazily)."""
    if isinstance(annotation, typing.ForwardRef):
        name = annotation.__forward_arg__
        return getattr(stripe, name, None) or getattr(owner, name, None) or typing.Any
    if isinstance(annotation, str):
        return getattr(stripe, annotation, None) or typing.Any
    return annotation


def is_optional(annotation):
    return typing.get_origin(annotation) is typing.Union and type(None) in typing.get_args(annotation)


def describe(annotation):
    if isinstance(annotation, type):
        return annotation.__qualname__
    text = str(annotation).replace("typing.", "")
    return re.sub(r"stripe\._[a-z_]+\.", "", text)


def matches(value, annotation, owner, path, problems):
    """Whether `value` fits `annotation`; nested mismatches are appended to problems."""
    annotation = resolve(annotation, owner)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is typing.Any:
        return True
    if annotation is type(None):
        return value is None
    if origin is typing.Union:
        literals = [a for a in args if typing.get_origin(a) is typing.Literal]
        if literals and str in args and isinstance(value, str):
            known = [v for lit in literals for v in typing.get_args(lit)]
            if value not in known:
                problems.append((path, f"{value!r} is not one of {known} (the values stripe 16.1.0 knows)"))
            return True
        # An object alternative whose own fields mismatch is reported in full when it is the only
        # non-string, non-None alternative; otherwise the value must fit one of them.
        candidates = [resolve(a, owner) for a in args]
        objects = [a for a in candidates if isinstance(a, type) and issubclass(a, StripeObject)]
        if isinstance(value, dict) and len(objects) == 1:
            return matches(value, objects[0], owner, path, problems)
        return any(matches(value, a, owner, path, []) for a in candidates)
    if origin is typing.Literal:
        if value not in args:
            problems.append((path, f"{value!r} is not one of {list(args)}"))
        return True
    if origin in (list, typing.List):
        if not isinstance(value, list):
            return False
        for i, item in enumerate(value):
            if not matches(item, args[0], owner, f"{path}[{i}]", problems):
                problems.append((f"{path}[{i}]", f"expected {describe(args[0])}, found {json_type(item)}"))
        return True
    if origin in (dict, typing.Dict):
        return isinstance(value, dict)
    if isinstance(annotation, type):
        if annotation is bool:
            return isinstance(value, bool)
        if annotation is int:
            return isinstance(value, int) and not isinstance(value, bool)
        if annotation is float:
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if annotation is str:
            return isinstance(value, str)
        if annotation.__name__ == "UntypedStripeObject" or (origin is None and annotation is dict):
            return isinstance(value, dict)
        if issubclass(annotation, ListObject):
            return isinstance(value, dict) and value.get("object") == "list"
        if issubclass(annotation, StripeObject):
            if not isinstance(value, dict):
                return False
            walk(value, annotation, path, problems)
            return True
    if origin is not None and getattr(origin, "__name__", "") == "UntypedStripeObject":
        return isinstance(value, dict)
    if origin is not None and isinstance(origin, type) and issubclass(origin, ListObject):
        return isinstance(value, dict) and value.get("object") == "list"
    return True


def walk(value, cls, path, problems):
    """Checks a JSON object against a StripeObject class, appending (field path, message)."""
    fields = annotations(cls)
    for key, item in value.items():
        if key not in fields:
            problems.append((f"{path}.{key}", f"not a field of {cls.__qualname__} in stripe 16.1.0"))
            continue
        if not matches(item, fields[key], cls, f"{path}.{key}", problems):
            problems.append((f"{path}.{key}", f"expected {describe(fields[key])}, found {json_type(item)} {item!r}"[:240]))
    for key, annotation in fields.items():
        if key not in value and not is_optional(annotation):
            problems.append((f"{path}.{key}", f"missing, but {cls.__qualname__}.{key} is {describe(annotation)}, not Optional"))


def check_params(exchange, params_class, report, index):
    """Query parameters against the SDK's TypedDict; `created[gte]` against its nested TypedDict
    (`ChargeListParamsCreated`, named by the SDK's convention)."""
    module = __import__(params_class.__module__, fromlist=["x"])
    fields = {}
    for base in reversed(params_class.__mro__):
        fields.update(vars(base).get("__annotations__", {}))
    for name, value in exchange["query"]:
        match = re.fullmatch(r"([a-z_]+)(?:\[([a-z_]*)\])?", name)
        base, sub = (match.group(1), match.group(2)) if match else (name, None)
        if base not in fields:
            report.add(params_class.__name__, name, f"not a parameter of {params_class.__name__} in stripe 16.1.0", exchange, index)
            continue
        if sub:
            nested = getattr(module, params_class.__name__ + "".join(p.title() for p in base.split("_")), None)
            keys = set(getattr(nested, "__annotations__", {}))
            if sub not in keys:
                report.add(params_class.__name__, name, f"{sub!r} is not a key of {base} (stripe 16.1.0 allows {sorted(keys)})", exchange, index)
        if base == "limit" and not (value.isdigit() and 1 <= int(value) <= 100):
            report.add(params_class.__name__, "limit", f"{value!r}: Stripe's limit is 1–100 (API reference, pagination)", exchange, index)


# Fields the current SDK no longer declares but that the API version a request pins still
# sends, with the first version without them (Stripe's changelog: "Remove `invoice` from
# Charge", 2025-03-31.basil). A request pinned to an older version may receive them.
REMOVED_SINCE = {"Charge.invoice": "2025-03-31"}


def check(exchanges, report):
    for index, exchange in enumerate(exchanges):
        path = exchange["path"]
        if exchange["method"] != "GET" or path not in LIST_PARAMS:
            report.add("request", "path", f"{exchange['method']} {path} is not a list endpoint the connector reads", exchange, index)
            continue
        check_params(exchange, LIST_PARAMS[path], report, index)
        body = json_body(exchange["response_body"])
        if exchange["status"] != 200:
            problems = []
            if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body.get("error"), dict):
                report.add("ErrorObject", "", 'an error body is {"error": {type, message, …}}', exchange, index)
                continue
            walk(body["error"], ErrorObject, "error", problems)
            for field, message in problems:
                report.add("ErrorObject", field, message, exchange, index)
            continue
        problems = []
        if not isinstance(body, dict):
            report.add("ListObject", "", "a list response is a JSON object", exchange, index)
            continue
        list_fields = {"object": typing.Literal["list"], "data": list, "has_more": bool, "url": str}
        for key in body:
            if key not in list_fields:
                report.add("ListObject", key, "not a field of ListObject in stripe 16.1.0 (object, data, has_more, url)", exchange, index)
        for key, annotation in list_fields.items():
            if key not in body:
                report.add("ListObject", key, "missing, but ListObject declares it", exchange, index)
            elif not matches(body[key], annotation, None, key, problems) or problems:
                report.add("ListObject", key, f"expected {describe(annotation)}, found {body[key]!r}"[:200], exchange, index)
                problems.clear()
        if body.get("url") not in (None, path):
            report.add("ListObject", "url", f"{body.get('url')!r} is not the list's path {path}", exchange, index)
        for item in body.get("data") or []:
            kind = item.get("object") if isinstance(item, dict) else None
            if kind != LIST_OBJECT[path]:
                report.add("ListObject", "data[].object", f"{path} lists {LIST_OBJECT[path]} objects, found {kind!r}", exchange, index)
                continue
            cls = RESOURCES[kind]
            item_problems = []
            walk(item, cls, cls.__name__, item_problems)
            pinned = header(exchange, "stripe-version") or ""
            for field, message in item_problems:
                removed_in = REMOVED_SINCE.get(field)
                if removed_in and message.startswith("not a field") and pinned and pinned < removed_in:
                    # A field of the version the request pinned, dropped by a later one.
                    continue
                obj, _, rest = field.partition(".")
                report.add(obj, rest, message, exchange, index)


def null_optional_fields(value, cls, keep=()):
    """The object with every field the SDK types as `Optional` set to null, recursively through
    nested objects: what Stripe sends when those fields are empty. Fields named in `keep`
    (`Refund.charge`) stay."""
    fields = annotations(cls)
    out = {}
    for key, item in value.items():
        annotation = fields.get(key)
        if annotation is None or f"{cls.__qualname__}.{key}" in keep:
            out[key] = item
        elif is_optional(annotation):
            out[key] = None
        else:
            nested = resolve(annotation, cls)
            if isinstance(item, dict) and isinstance(nested, type) and issubclass(nested, StripeObject) and not issubclass(nested, ListObject):
                out[key] = null_optional_fields(item, nested, keep)
            else:
                out[key] = item
    return out


def null_optional(exchanges, keep=()):
    """The exchanges with every Optional field of every listed object nulled, but those in `keep`."""
    out = []
    for exchange in exchanges:
        body = json_body(exchange["response_body"])
        if exchange["status"] == 200 and isinstance(body, dict) and isinstance(body.get("data"), list):
            body["data"] = [
                null_optional_fields(item, RESOURCES[item["object"]], keep) if isinstance(item, dict) and item.get("object") in RESOURCES else item
                for item in body["data"]
            ]
            exchange = dict(exchange, response_body=json.dumps(body))
        out.append(exchange)
    return out
