"""TikTok Marketing API v1.3: requests to the report, GMV Max and advertiser endpoints checked
against the official `tiktok-business-api-sdk-official` 1.1.3 (`business_api_client`), responses
against its envelope model.

From the SDK: the paths (`ReportingApi.report_integrated_get`, `ReportingApi.gmv_max_report_get`,
`StoreApi.gmv_max_store_list`, `AccountManagementApi.advertiser_info`), each call's parameter names and types (its `all_params` and docstring
`:param TYPE name:` lines), the token in the `Access-Token` header, list parameters sent as JSON
arrays (`ApiClient.parameters_to_tuples` json-dumps a `multi` list), and the response envelope
`InlineResponse200` (`code` int, `message` str, `request_id` str, `data` object).

The SDK does not enumerate values, so the enums and bounds below come from TikTok's "Report
Integrated Get" reference (doc id 1740302848100353, linked from the SDK's docstring) — weaker
than the SDK's own types, and labelled so in each finding.
"""

import inspect
import json
import re

from business_api_client.api.account_management_api import AccountManagementApi
from business_api_client.api.reporting_api import ReportingApi
from business_api_client.api.store_api import StoreApi
from business_api_client.models.inline_response200 import InlineResponse200

from .report import header, json_body, json_type

DOCS = "TikTok's Report Integrated Get reference"
ENUMS = {
    "report_type": ("BASIC", "AUDIENCE", "PLAYABLE_MATERIAL", "CATALOG", "BC", "TT_SHOP"),
    "service_type": ("AUCTION", "RESERVATION"),
    "data_level": (
        "AUCTION_ADVERTISER", "AUCTION_CAMPAIGN", "AUCTION_ADGROUP", "AUCTION_AD",
        "RESERVATION_ADVERTISER", "RESERVATION_CAMPAIGN", "RESERVATION_ADGROUP", "RESERVATION_AD",
    ),
    "order_type": ("ASC", "DESC"),
    "query_mode": ("REGULAR", "CHUNK"),
}
BOUNDS = {"page": (1, None), "page_size": (1, 1000)}
PAGE_INFO = {"page", "page_size", "total_number", "total_page"}


def sdk_call(method):
    """(path, {param: swagger type}) of an SDK method, read from its source."""
    source = inspect.getsource(method)
    path = re.search(r"'(/open_api/v1\.3/[^']+)'", source).group(1)
    types = dict((name, kind) for kind, name in re.findall(r":param ([a-z\[\]]+) ([a-z_]+):", source))
    names = re.search(r"all_params = \[([^\]]*)\]", source).group(1)
    params = {n.strip().strip("'") for n in names.split(",")}
    return path, {name: types.get(name, "str") for name in params}


CALLS = dict(
    (path, (name, params))
    for name, (path, params) in {
        "ReportingApi.report_integrated_get": sdk_call(ReportingApi.report_integrated_get_with_http_info),
        "AccountManagementApi.advertiser_info": sdk_call(AccountManagementApi.advertiser_info_with_http_info),
        "ReportingApi.gmv_max_report_get": sdk_call(ReportingApi.gmv_max_report_get_with_http_info),
        "StoreApi.gmv_max_store_list": sdk_call(StoreApi.gmv_max_store_list_with_http_info),
    }.items()
)


def check_value(call, name, value, kind, report, exchange, index):
    if kind.startswith("list["):
        try:
            items = json.loads(value)
        except ValueError:
            items = None
        strings = kind == "list[str]"
        if not isinstance(items, list) or (strings and not all(isinstance(i, str) for i in items)):
            report.add(call, name, f"{value!r}: the SDK sends a {kind} as a JSON array", exchange, index)
            return None
        return items
    if kind == "int":
        if not re.fullmatch(r"-?\d+", value):
            report.add(call, name, f"{value!r} is not an int (SDK type)", exchange, index)
            return None
        low, high = BOUNDS.get(name, (None, None))
        number = int(value)
        if (low is not None and number < low) or (high is not None and number > high):
            report.add(call, name, f"{number} is outside {low}–{high or '∞'} ({DOCS})", exchange, index)
        return number
    if kind == "bool" and value not in ("true", "false"):
        report.add(call, name, f"{value!r} is not a bool (SDK type)", exchange, index)
    if name in ENUMS and value not in ENUMS[name]:
        report.add(call, name, f"{value!r} is not one of {ENUMS[name]} ({DOCS})", exchange, index)
    if name in ("start_date", "end_date") and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        report.add(call, name, f"{value!r} is not YYYY-MM-DD ({DOCS})", exchange, index)
    return value


def check_envelope(body, report, exchange, index):
    fields = InlineResponse200.swagger_types
    if not isinstance(body, dict):
        report.add("InlineResponse200", "", "the response is a JSON object", exchange, index)
        return False
    for key, value in body.items():
        if key not in fields:
            report.add("InlineResponse200", key, "not a field of InlineResponse200 (code, message, request_id, data)", exchange, index)
            continue
        expected = {"int": "integer", "str": "string", "object": "object"}[fields[key]]
        if value is not None and json_type(value) != expected:
            report.add("InlineResponse200", key, f"the SDK declares {fields[key]}, found {json_type(value)} {value!r}", exchange, index)
    for key in ("code", "message", "request_id"):
        if key not in body:
            report.add("InlineResponse200", key, "missing (TikTok sends code, message and request_id on every response)", exchange, index)
    return body.get("code") == 0


def check(exchanges, report):
    for index, exchange in enumerate(exchanges):
        path = exchange["path"]
        if path not in CALLS:
            report.add("request", "path", f"{path!r} is not a path of the SDK's report or advertiser calls", exchange, index)
            continue
        call, params = CALLS[path]
        if exchange["method"] != "GET":
            report.add(call, "method", f"the SDK calls {path} with GET", exchange, index)
        token = header(exchange, "access-token")
        if token is None:
            report.add(call, "Access-Token", "missing: the SDK sends the token in the Access-Token header", exchange, index)
        if header(exchange, "authorization") is not None:
            report.add(call, "Authorization", "TikTok takes the token in Access-Token; the SDK sends no Authorization header", exchange, index)
        values = {}
        for name, value in exchange["query"]:
            if name not in params or name in ("access_token", "async_req", "_return_http_data_only", "_preload_content", "_request_timeout"):
                report.add(call, name, f"not a parameter of {call} in tiktok-business-api-sdk-official 1.1.3", exchange, index)
                continue
            values[name] = check_value(call, name, value, params[name], report, exchange, index)
        required = {
            "ReportingApi.report_integrated_get": ("report_type",),
            "ReportingApi.gmv_max_report_get": ("advertiser_id", "store_ids", "dimensions", "metrics", "start_date", "end_date"),
            "StoreApi.gmv_max_store_list": ("advertiser_id",),
            "AccountManagementApi.advertiser_info": ("advertiser_ids",),
        }[call]
        for name in required:
            if name not in values:
                report.add(call, name, f"missing: a required parameter of {call}", exchange, index)
        body = json_body(exchange["response_body"])
        if exchange["status"] != 200:
            continue
        if not check_envelope(body, report, exchange, index):
            continue
        data = body.get("data")
        if call == "ReportingApi.gmv_max_report_get" and len(values.get("store_ids") or []) != 1:
            report.add(call, "store_ids", "exactly one store per request (gmv_max_report_get.yml: minItems 1, maxItems 1)", exchange, index)
        if call.startswith("Reporting"):
            check_report_data(data, values, report, exchange, index)
        elif call.startswith("Store"):
            if not isinstance(data, dict) or not isinstance(data.get("store_list", []), list):
                report.add("gmv_max store list", "data.store_list", "the store list answers {data: {store_list: [...]}}", exchange, index)
        elif not isinstance(data, dict) or not isinstance(data.get("list"), list):
            report.add("advertiser info", "data.list", "advertiser/info answers {data: {list: [...]}}", exchange, index)


def check_report_data(data, values, report, exchange, index):
    if not isinstance(data, dict):
        report.add("report", "data", "must be an object {list, page_info}", exchange, index)
        return
    for key in data:
        if key not in ("list", "page_info"):
            report.add("report", f"data.{key}", f"not a key of the report data (list, page_info; {DOCS})", exchange, index)
    page_info = data.get("page_info")
    if not isinstance(page_info, dict):
        report.add("report", "data.page_info", "missing", exchange, index)
    else:
        for key, value in page_info.items():
            if key not in PAGE_INFO:
                report.add("report", f"data.page_info.{key}", f"not a page_info key ({sorted(PAGE_INFO)}; {DOCS})", exchange, index)
            elif not isinstance(value, int) or isinstance(value, bool):
                report.add("report", f"data.page_info.{key}", f"must be an integer, found {json_type(value)}", exchange, index)
        for key in PAGE_INFO - set(page_info):
            report.add("report", f"data.page_info.{key}", "missing", exchange, index)
    dimensions = set(values.get("dimensions") or [])
    metrics = set(values.get("metrics") or [])
    for row in data.get("list") or []:
        if not isinstance(row, dict) or set(row) != {"dimensions", "metrics"}:
            report.add("report row", "", "a row is {dimensions: {...}, metrics: {...}}", exchange, index)
            continue
        for part, asked in (("dimensions", dimensions), ("metrics", metrics)):
            got = set(row[part]) if isinstance(row[part], dict) else set()
            for key in got - asked:
                report.add("report row", f"{part}.{key}", "returned although the request did not ask for it", exchange, index)
            for key in asked - got:
                report.add("report row", f"{part}.{key}", "asked for but missing from the row", exchange, index)
            for key, value in (row[part] or {}).items():
                if not isinstance(value, (str, int)) or isinstance(value, bool):
                    report.add("report row", f"{part}.{key}", f"TikTok sends values as strings (ids may be numbers), found {json_type(value)}", exchange, index)
