"""Shopify Admin REST orders: requests and the order, customer, refund and transaction objects
checked against the REST resources of the official `@shopify/shopify-api` 13.1.0 (npm),
`rest/admin/{version}/{order,customer,refund,transaction}.ts`.

The resource classes declare their fields as `public name: Type | null;` and the parameters of
`Order.all` in `interface AllArgs`; this reads those declarations from the installed package. All
resource fields are nullable there, so a missing field is never reported; an unknown field is,
and so is a value of the wrong JSON kind (an array, an object or a boolean where the resource
says otherwise). Scalars are not checked further: the SDK types every id as `string` although
the REST API sends ids as JSON numbers.

The API version in the path must be one of the newest four the SDK's `ApiVersion` enum lists (a
version is supported for twelve months, one is released a quarter); when the SDK ships no REST
resources for it, the newest version it does ship is used and the report says so.
"""

import json
import re
from pathlib import Path

from .report import json_body, json_type

PACKAGE = Path(__file__).resolve().parent.parent / "node_modules" / "@shopify" / "shopify-api"
PATH = re.compile(r"^/admin/api/([0-9]{4}-[0-9]{2}|unstable)/orders\.json$")
# Fields the REST API sends on an order that the SDK's Order class does not declare, each with
# where Shopify publishes it. Kept deliberately short.
BEYOND_SDK = {
    "Order": {
        "admin_graphql_api_id": "in the example responses of Shopify's REST Order reference",
        "contact_email": "in the example responses of Shopify's REST Order reference",
    },
}


def versions():
    text = (PACKAGE / "lib" / "types.ts").read_text()
    enum = text[text.index("export enum ApiVersion"):]
    enum = enum[: enum.index("}")]
    return [v for v in re.findall(r"'([0-9]{4}-[0-9]{2})'", enum)]


def resource_versions():
    return sorted(p.name for p in (PACKAGE / "rest" / "admin").iterdir() if re.fullmatch(r"[0-9]{4}-[0-9]{2}", p.name))


def resource_fields(version, name):
    text = (PACKAGE / "rest" / "admin" / version / f"{name}.ts").read_text()
    return dict(re.findall(r"^  public ([a-z_0-9]+): (.+);$", text, re.M))


def all_args(version):
    text = (PACKAGE / "rest" / "admin" / version / "order.ts").read_text()
    block = text[text.index("interface AllArgs"):]
    block = block[: block.index("}")]
    return set(re.findall(r"^  ([a-z_]+)\??:", block, re.M)) - {"session"}


def kind_ok(value, ts_type):
    """Whether a JSON value is of the kind a TypeScript field type allows."""
    if value is None:
        return True
    alternatives = [a.strip() for a in re.split(r"\|(?![^{]*})", ts_type)]
    kind = json_type(value)
    for alternative in alternatives:
        if alternative.endswith("[]") and kind == "array":
            return True
        if alternative.startswith("{") and kind == "object":
            return True
        if alternative == "boolean" and kind == "boolean":
            return True
        if alternative in ("string", "number", "unknown") and kind in ("string", "integer", "number"):
            return True
        if alternative[:1].isupper() and kind == "object":  # another resource, e.g. Customer
            return True
        if alternative == "unknown":
            return True
    return False


def check_object(obj_name, value, fields, report, exchange, index):
    if not isinstance(value, dict):
        report.add(obj_name, "", f"expected an object, found {json_type(value)}", exchange, index)
        return
    for key, item in value.items():
        if key not in fields:
            if key in BEYOND_SDK.get(obj_name, {}):
                continue
            report.add(obj_name, key, f"not a field of the {obj_name} REST resource in @shopify/shopify-api 13.1.0", exchange, index)
        elif not kind_ok(item, fields[key]):
            report.add(obj_name, key, f"the resource declares `{fields[key]}`, found {json_type(item)}", exchange, index)


def check(exchanges, report):
    known = versions()
    supported = [v for v in known][-4:]
    shipped = resource_versions()
    for index, exchange in enumerate(exchanges):
        match = PATH.match(exchange["path"])
        if exchange["method"] != "GET" or not match:
            report.add("request", "path", f"{exchange['method']} {exchange['path']} is not GET /admin/api/{{version}}/orders.json", exchange, index)
            continue
        version = match.group(1)
        if version not in supported:
            report.add("request", "version", f"Admin API {version} is out of support (the newest four in @shopify/shopify-api 13.1.0's ApiVersion: {', '.join(supported)})", exchange, index)
        resources = version if version in shipped else shipped[-1]
        if resources != version:
            report.add("request", "version", f"@shopify/shopify-api 13.1.0 ships no REST resources for {version}; checked against {resources}", exchange, index)
        allowed = all_args(resources) | {"page_info"}
        for name, value in exchange["query"]:
            if name not in allowed:
                report.add("Order.all", name, f"not a parameter of Order.all ({resources}) in @shopify/shopify-api 13.1.0", exchange, index)
        if any(name == "page_info" for name, _ in exchange["query"]):
            extra = [n for n, _ in exchange["query"] if n not in ("page_info", "limit", "fields")]
            if extra:
                report.add("Order.all", "page_info", f"a page_info request may carry only limit and fields, not {extra}", exchange, index)
        body = json_body(exchange["response_body"])
        if exchange["status"] != 200:
            if not isinstance(body, dict) or set(body) - {"errors", "error", "error_description"}:
                report.add("error", "", 'an error body is {"errors": …}', exchange, index)
            continue
        if not isinstance(body, dict) or set(body) != {"orders"} or not isinstance(body["orders"], list):
            report.add("orders page", "", 'the orders list is {"orders": [...]}', exchange, index)
            continue
        order_fields = resource_fields(resources, "order")
        customer_fields = resource_fields(resources, "customer")
        refund_fields = resource_fields(resources, "refund")
        transaction_fields = resource_fields(resources, "transaction")
        for order in body["orders"]:
            check_object("Order", order, order_fields, report, exchange, index)
            if isinstance(order, dict) and isinstance(order.get("customer"), dict):
                check_object("Customer", order["customer"], customer_fields, report, exchange, index)
            for refund in (order.get("refunds") or []) if isinstance(order, dict) else []:
                check_object("Refund", refund, refund_fields, report, exchange, index)
                for transaction in (refund.get("transactions") or []) if isinstance(refund, dict) else []:
                    check_object("Transaction", transaction, transaction_fields, report, exchange, index)


# Order fields Shopify leaves null for an app without access to protected customer data (Shopify's
# "Protected customer data" docs: name, e-mail, phone and address fields; `customer` as a whole
# without level 1 access). Every field of the SDK's resources is nullable, so this narrower list
# is what a connector must survive in practice.
PROTECTED = ("email", "contact_email", "phone", "customer", "billing_address", "shipping_address", "browser_ip")


def null_optional(exchanges, keep=()):
    """The exchanges with every order's protected customer data null."""
    out = []
    for exchange in exchanges:
        body = json_body(exchange["response_body"])
        if exchange["status"] == 200 and isinstance(body, dict) and isinstance(body.get("orders"), list):
            for order in body["orders"]:
                for key in PROTECTED:
                    if key in order and f"Order.{key}" not in keep:
                        order[key] = None
            exchange = dict(exchange, response_body=json.dumps(body))
        out.append(exchange)
    return out
