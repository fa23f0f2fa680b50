"""Meta Marketing API: insights requests and responses checked against the official
`facebook-business` 26.0.3 SDK.

- Request parameters of `act_{id}/insights` (GET, and POST for an async job) are the ones the
  SDK's `AdAccount.get_insights` / `get_insights_async` declare, with the SDK's own
  `TypeChecker` and enums (`level` ∈ `AdsInsights.Level`, …); `fields` name
  `AdsInsights.Field`s; `filtering` is a list of {field, operator, value} whose
  `ad.effective_status` values are `Ad.EffectiveStatus` values. Graph-wide parameters
  (`access_token`, `after`, `before`, `limit`) are allowed everywhere.
- Every insights row's keys are `AdsInsights._field_types` keys the request asked for (Meta
  returns only requested fields, plus `date_start`/`date_stop`) and each value has the type
  `_field_types` gives (`string` → a JSON string: Meta sends numbers and ids as strings).
- `act_{id}` answers with `AdAccount` fields of the declared types; the job submission with
  `report_run_id` (`AdsInsightsAccountPost`); a job poll with `AdReportRun` fields
  (`async_percent_completion` an unsigned int 0–100, `async_status` one of Meta's documented
  states).
- Paging is `{"data": [...], "paging": {"cursors": {"before", "after"}, "next"?, "previous"?}}`.
- Errors are `{"error": {...}}` with the keys `FacebookRequestError` reads, of their types.
- The version in the path is one Meta serves (see LIVE_VERSIONS).
"""

import json
import re

from facebook_business.adobjects.ad import Ad
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adreportrun import AdReportRun
from facebook_business.adobjects.adsinsights import AdsInsights
from facebook_business.adobjects.adsinsightsaccountpost import AdsInsightsAccountPost
from facebook_business.api import FacebookAdsApi
from facebook_business.apiconfig import ads_api_config
from facebook_business.typechecker import TypeChecker

from .report import json_body, json_type

# Meta's versions that answer as of 2026-12 (Graph API changelog, "Versions and their expiry";
# recorded in shared/api-notes.md): v23.0 expired 2026-06-09, v24.0 2026-11-10. The SDK
# itself targets ads_api_config["API_VERSION"].
LIVE_VERSIONS = ("v25.0", "v26.0", "v27.0")
# The states of AdReportRun.async_status documented on Meta's "Asynchronous and batch requests"
# page of the Insights API (the SDK types the field only as a string).
ASYNC_STATES = ("Job Not Started", "Job Started", "Job Running", "Job Completed", "Job Failed", "Job Skipped")
# Operators of an insights `filtering` entry (Insights API reference, "filtering" parameter).
FILTER_OPERATORS = (
    "EQUAL", "NOT_EQUAL", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL",
    "IN_RANGE", "NOT_IN_RANGE", "CONTAIN", "NOT_CONTAIN", "CONTAINS_ANY", "NOT_CONTAINS_ANY",
    "IN", "NOT_IN", "STARTS_WITH", "ENDS_WITH", "ANY", "ALL", "AFTER", "BEFORE", "ON_OR_AFTER",
    "ON_OR_BEFORE", "NONE", "TOP",
)
GRAPH_WIDE = {"access_token", "appsecret_proof", "after", "before", "limit", "fields"}
# Keys FacebookRequestError reads from an error body, and their JSON types.
ERROR_KEYS = {
    "message": "string", "type": "string", "code": "integer", "error_subcode": "integer",
    "is_transient": "boolean", "error_user_title": "string", "error_user_msg": "string",
    "fbtrace_id": "string", "error_data": "any",
}

_api = FacebookAdsApi.init(access_token="contract-check", api_version=ads_api_config["API_VERSION"])


def _param_types(pending_request):
    return dict(pending_request._param_checker._type_check_info), pending_request._param_checker


SYNC_TYPES, SYNC_CHECKER = _param_types(AdAccount("act_1", api=_api).get_insights(pending=True))
ASYNC_TYPES, ASYNC_CHECKER = _param_types(AdAccount("act_1", api=_api).get_insights_async(pending=True))

JSON_TYPES_OF = {
    "string": ("string",), "unsigned int": ("integer",), "int": ("integer",), "float": ("number", "integer"),
    "bool": ("boolean",), "datetime": ("string",), "Object": ("object",),
}


def expected_json_types(sdk_type):
    if sdk_type.startswith("list"):
        return ("array",)
    if sdk_type.startswith("map"):
        return ("object",)
    if sdk_type in JSON_TYPES_OF:
        return JSON_TYPES_OF[sdk_type]
    if sdk_type.endswith("_enum") or "Enum" in sdk_type:
        return ("string",)
    return ("object",)  # an SDK class, e.g. AdsActionStats


def check_object(obj_name, value, field_types, requested, report, exchange, index, always=()):
    if not isinstance(value, dict):
        report.add(obj_name, "", f"expected a JSON object, found {json_type(value)}", exchange, index)
        return
    for key, item in value.items():
        if key not in field_types:
            report.add(obj_name, key, f"not a field of {obj_name} in facebook-business 26.0.3", exchange, index)
            continue
        if requested is not None and key not in requested and key not in always:
            report.add(obj_name, key, "returned although the request's `fields` did not ask for it", exchange, index)
        allowed = expected_json_types(field_types[key])
        if item is not None and json_type(item) not in allowed:
            report.add(obj_name, key, f"{obj_name}._field_types says {field_types[key]!r}, found {json_type(item)} {item!r}", exchange, index)


def decode(name, text, sdk_type):
    """A parameter's text as the value the SDK's TypeChecker expects."""
    if sdk_type and (sdk_type.startswith("list") or sdk_type.startswith("map") or sdk_type == "Object"):
        if name == "fields" or (sdk_type == "list<string>" and not text.startswith("[")):
            return text.split(",")
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def check_params(params, types, checker, report, exchange, index, what):
    for name, value in params:
        if name in GRAPH_WIDE - {"fields"}:
            continue
        if name not in types:
            report.add(what, name, f"not a parameter of {what} in facebook-business 26.0.3", exchange, index)
            continue
        decoded = decode(name, value, types[name])
        if not checker.is_valid_pair(name, decoded):
            report.add(what, name, f"{value!r} is not a valid {types[name]} (facebook-business TypeChecker)", exchange, index)
        if name == "fields":
            for field in decoded:
                if field not in AdsInsights._field_types:
                    report.add(what, "fields", f"{field!r} is not an AdsInsights field", exchange, index)
        if name == "time_increment" and not (value in ("monthly", "all_days") or (value.isdigit() and 1 <= int(value) <= 90)):
            report.add(what, "time_increment", f"{value!r}: must be 1–90, monthly or all_days", exchange, index)
        if name == "time_range":
            if not isinstance(decoded, dict) or set(decoded) != {"since", "until"} or not all(
                isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in decoded.values()
            ):
                report.add(what, "time_range", f"{value!r}: must be {{\"since\":\"YYYY-MM-DD\",\"until\":\"YYYY-MM-DD\"}}", exchange, index)
        if name == "filtering":
            check_filtering(decoded, report, exchange, index, what)


def check_filtering(filters, report, exchange, index, what):
    if not isinstance(filters, list):
        report.add(what, "filtering", "must be a JSON array of {field, operator, value}", exchange, index)
        return
    statuses = {v for k, v in vars(Ad.EffectiveStatus).items() if not k.startswith("_")}
    for entry in filters:
        if not isinstance(entry, dict) or set(entry) - {"field", "operator", "value"} or not {"field", "operator"} <= set(entry):
            report.add(what, "filtering", f"{entry!r} is not {{field, operator, value}}", exchange, index)
            continue
        if entry["operator"] not in FILTER_OPERATORS:
            report.add(what, "filtering.operator", f"{entry['operator']!r} is not a filtering operator", exchange, index)
        if entry["field"] == "ad.effective_status":
            for status in entry.get("value") or []:
                if status not in statuses:
                    report.add(what, "filtering.value", f"{status!r} is not an Ad.EffectiveStatus", exchange, index)


def requested_fields(params):
    for name, value in params:
        if name == "fields":
            return set(value.split(","))
    return None


def check_paging(body, report, exchange, index, obj):
    for key in body:
        if key not in ("data", "paging", "summary"):
            report.add(f"{obj} page", key, "a Graph API list is {data, paging}", exchange, index)
    paging = body.get("paging")
    if paging is None:
        return
    if not isinstance(paging, dict):
        report.add(f"{obj} page", "paging", "must be an object", exchange, index)
        return
    for key in paging:
        if key not in ("cursors", "next", "previous"):
            report.add(f"{obj} page", f"paging.{key}", "not a paging key (cursors, next, previous)", exchange, index)
    cursors = paging.get("cursors", {})
    for key, value in cursors.items() if isinstance(cursors, dict) else []:
        if key not in ("before", "after") or not isinstance(value, str):
            report.add(f"{obj} page", f"paging.cursors.{key}", "cursors are the strings before and after", exchange, index)


def check_error(body, report, exchange, index):
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(body) != {"error"}:
        report.add("error", "", 'an error body is {"error": {message, type, code, …}}', exchange, index)
        return
    for key, value in error.items():
        if key not in ERROR_KEYS:
            report.add("error", key, "not a key of Meta's error object (as FacebookRequestError reads it)", exchange, index)
        elif ERROR_KEYS[key] != "any" and json_type(value) != ERROR_KEYS[key]:
            report.add("error", key, f"must be {ERROR_KEYS[key]}, found {json_type(value)}", exchange, index)
    for key in ("message", "code"):
        if key not in error:
            report.add("error", key, "missing", exchange, index)


def check(exchanges, report):
    account_types = AdAccount._field_types
    for index, exchange in enumerate(exchanges):
        path = exchange["path"]
        match = re.match(r"^/(v\d+\.\d+)(/.*)$", path)
        if not match:
            report.add("request", "path", f"{path!r} names no Graph API version", exchange, index)
            continue
        version, rest = match.groups()
        if version not in LIVE_VERSIONS:
            report.add("request", "path", f"Graph API {version} does not answer any more (live: {', '.join(LIVE_VERSIONS)}; facebook-business 26.0.3 calls {ads_api_config['API_VERSION']})", exchange, index)
        params = list(exchange["query"])
        if exchange["method"] == "POST":
            params += [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in exchange["body"].split("&") if p]
            from urllib.parse import unquote_plus

            params = [(unquote_plus(k), unquote_plus(v)) for k, v in params]
        body = json_body(exchange["response_body"])
        if exchange["status"] != 200:
            check_error(body, report, exchange, index)
            continue
        if re.fullmatch(r"/act_\d+/insights", rest):
            if exchange["method"] == "POST":
                check_params(params, ASYNC_TYPES, ASYNC_CHECKER, report, exchange, index, "AdAccount.get_insights_async")
                check_object("AdsInsightsAccountPost", body, AdsInsightsAccountPost._field_types, None, report, exchange, index)
                if not isinstance((body or {}).get("report_run_id"), str):
                    report.add("AdsInsightsAccountPost", "report_run_id", "missing: the job submission answers with report_run_id", exchange, index)
            else:
                check_params(params, SYNC_TYPES, SYNC_CHECKER, report, exchange, index, "AdAccount.get_insights")
                check_insights_page(body, requested_fields(params), report, exchange, index)
        elif re.fullmatch(r"/act_\d+", rest):
            for name, value in params:
                if name == "fields":
                    for field in value.split(","):
                        if field not in account_types:
                            report.add("AdAccount", "fields", f"{field!r} is not an AdAccount field", exchange, index)
                elif name not in GRAPH_WIDE:
                    report.add("AdAccount.api_get", name, "not a parameter of AdAccount.api_get", exchange, index)
            check_object("AdAccount", body, account_types, requested_fields(params), report, exchange, index, always=("id",))
        elif re.fullmatch(r"/\d+/insights", rest):
            for name, _ in params:
                if name not in GRAPH_WIDE:
                    report.add("AdReportRun.get_insights", name, "not a parameter of AdReportRun.get_insights", exchange, index)
            check_insights_page(body, None, report, exchange, index)
        elif re.fullmatch(r"/\d+", rest):
            requested = requested_fields(params)
            for field in requested or ():
                if field not in AdReportRun._field_types:
                    report.add("AdReportRun", "fields", f"{field!r} is not an AdReportRun field", exchange, index)
            check_object("AdReportRun", body, AdReportRun._field_types, requested, report, exchange, index, always=("id",))
            if isinstance(body, dict):
                percent = body.get("async_percent_completion")
                if isinstance(percent, int) and not 0 <= percent <= 100:
                    report.add("AdReportRun", "async_percent_completion", f"{percent} is not 0–100", exchange, index)
                if "async_status" in body and body["async_status"] not in ASYNC_STATES:
                    report.add("AdReportRun", "async_status", f"{body['async_status']!r} is not one of {ASYNC_STATES}", exchange, index)
        elif rest == "/debug_token":
            check_debug_token(params, body, report, exchange, index)
        else:
            report.add("request", "path", f"{rest!r} is not an insights path the connector should call", exchange, index)


# `GET /debug_token` is not wrapped by facebook-business 26.0.3, so it is checked against Meta's
# Graph API reference ("Debug Token": https://developers.facebook.com/docs/graph-api/reference/
# debug_token) — weaker than an SDK type, and said so in each finding.
DEBUG_TOKEN_DOCS = "Meta's Graph API debug_token reference (no SDK wrapper)"
DEBUG_TOKEN_FIELDS = {
    "app_id": "string", "type": "string", "application": "string", "data_access_expires_at": "integer",
    "expires_at": "integer", "is_valid": "boolean", "issued_at": "integer", "scopes": "array",
    "granular_scopes": "array", "user_id": "string", "profile_id": "string", "metadata": "object",
    "error": "object",
}


def check_debug_token(params, body, report, exchange, index):
    names = [name for name, _ in params]
    if "input_token" not in names:
        report.add("debug_token", "input_token", f"missing: the token to inspect ({DEBUG_TOKEN_DOCS})", exchange, index)
    for name in names:
        if name not in ("input_token", "access_token", "appsecret_proof"):
            report.add("debug_token", name, f"not a parameter of debug_token ({DEBUG_TOKEN_DOCS})", exchange, index)
    if exchange["status"] != 200:
        return
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or set(body) != {"data"}:
        report.add("debug_token", "data", f"the answer is {{data: {{...}}}} ({DEBUG_TOKEN_DOCS})", exchange, index)
        return
    for key, value in data.items():
        expected = DEBUG_TOKEN_FIELDS.get(key)
        if expected is None:
            report.add("debug_token", f"data.{key}", f"not a field of debug_token ({DEBUG_TOKEN_DOCS})", exchange, index)
        elif json_type(value) != expected:
            report.add("debug_token", f"data.{key}", f"{DEBUG_TOKEN_DOCS} gives {expected}, found {json_type(value)}", exchange, index)
    if "is_valid" not in data:
        report.add("debug_token", "data.is_valid", f"missing ({DEBUG_TOKEN_DOCS})", exchange, index)


def check_insights_page(body, requested, report, exchange, index):
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        report.add("AdsInsights page", "data", "an insights page is {data: [...], paging}", exchange, index)
        return
    check_paging(body, report, exchange, index, "AdsInsights")
    for row in body["data"]:
        check_object("AdsInsights", row, AdsInsights._field_types, requested, report, exchange, index, always=("date_start", "date_stop"))
