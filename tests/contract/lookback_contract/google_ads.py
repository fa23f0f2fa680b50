"""Google Ads: requests and responses of googleAds:search checked against the official
`google-ads` 34.0.0 library's protobuf messages.

- The version in the path must be one the library serves (`google.ads.googleads.client.
  _VALID_API_VERSIONS`); otherwise it is reported and the oldest served version is used for the
  remaining checks.
- The request body parses into `SearchGoogleAdsRequest` and every 200 body into
  `SearchGoogleAdsResponse` with `json_format.Parse(..., ignore_unknown_fields=False)`, so an
  unknown field (such as `requestId`, which only searchStream batches have) or a wrong type fails.
- Every GAQL field the query names exists: its first segment is a `GoogleAdsRow` field and each
  further segment a field of that message (`GoogleAdsFieldService` is online-only; this is the
  offline half of it). A response row carries only resources the query selected.
- An error body is Google's envelope `{"error": {code, message, status, details}}` with `code`
  equal to the HTTP status, `status` a `google.rpc.Code` name, and each `GoogleAdsFailure`
  detail parsing into that message of the same version.
"""

import importlib
import json
import re

from google.ads.googleads import client as ads_client
from google.protobuf import json_format, message_factory
from google.rpc import code_pb2, error_details_pb2  # noqa: F401 - registers google.rpc detail types

from .report import header, json_body

VALID_VERSIONS = list(ads_client._VALID_API_VERSIONS)
PATH = re.compile(r"^/(v\d+)/customers/([^/]+)/googleAds:(search|searchStream)$")
RPC_CODES = set(code_pb2.Code.keys())


def messages(version):
    service = importlib.import_module(f"google.ads.googleads.{version}.services.types.google_ads_service")
    errors = importlib.import_module(f"google.ads.googleads.{version}.errors.types.errors")
    return {
        "request": service.SearchGoogleAdsRequest.pb(),
        "response": service.SearchGoogleAdsResponse.pb(),
        "row": service.GoogleAdsRow.pb(),
        "failure": errors.GoogleAdsFailure.pb(),
    }


WELL_KNOWN = ("google.protobuf.",)


def walk(descriptor, value, path, problems):
    """Finds every field of a JSON object that does not parse into `descriptor`'s message:
    unknown keys, and values json_format refuses (each leaf is parsed by json_format itself, so
    the proto3 JSON mapping stays the library's). json_format stops at the first error; this
    walk reports them all, with their paths."""
    by_json = {f.json_name: f for f in descriptor.fields}
    by_json.update({f.name: f for f in descriptor.fields})
    if not isinstance(value, dict):
        problems.append((path, f"expected a JSON object for {descriptor.full_name}, found {type(value).__name__}"))
        return
    for key, item in value.items():
        field = by_json.get(key)
        where = f"{path}.{key}" if path else key
        if field is None:
            problems.append((where, f"not a field of {descriptor.full_name}"))
            continue
        nested = field.message_type
        repeated = field.is_repeated
        if nested is not None and not nested.full_name.startswith(WELL_KNOWN) and not nested.GetOptions().map_entry:
            if repeated:
                if not isinstance(item, list):
                    problems.append((where, f"expected a list of {nested.full_name}, found {type(item).__name__}"))
                    continue
                for i, element in enumerate(item):
                    walk(nested, element, f"{where}[{i}]", problems)
            else:
                walk(nested, item, where, problems)
            continue
        try:
            json_format.ParseDict({key: item}, message_factory.GetMessageClass(descriptor)(), ignore_unknown_fields=False)
        except json_format.ParseError as error:
            problems.append((where, str(error).split("\n")[0]))


def parse(message_class, value, report, obj, exchange, index):
    """Parses JSON into a message with unknown fields rejected; reports every field that fails."""
    try:
        return json_format.ParseDict(value, message_class(), ignore_unknown_fields=False)
    except json_format.ParseError as error:
        problems = []
        walk(message_class.DESCRIPTOR, value, "", problems)
        if not problems:
            problems.append(("", str(error).split("\n")[0]))
        for field, message in problems:
            report.add(obj, re.sub(r"\[\d+\]", "[]", field), message, exchange, index)
        return None


def without_strings(query):
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", query)


def gaql_fields(query):
    """(select fields, from resource, where/order fields) of a GAQL query."""
    bare = without_strings(query)
    match = re.match(r"\s*SELECT\s+(.*?)\s+FROM\s+([a-z_]+)(.*)$", bare, re.S | re.I)
    if not match:
        return None
    select = [f.strip() for f in match.group(1).split(",") if f.strip()]
    rest = [f for f in re.findall(r"\b[a-z_]+(?:\.[a-z_]+)+\b", match.group(3))]
    return select, match.group(2), rest


def check_field_path(path, row, report, version, exchange, index):
    """Walks a GAQL field path through GoogleAdsRow's message descriptors."""
    segments = path.split(".")
    descriptor = row.DESCRIPTOR
    for depth, segment in enumerate(segments):
        field = descriptor.fields_by_name.get(segment)
        if field is None:
            owner = descriptor.full_name
            report.add(
                "GAQL",
                path,
                f"{segment!r} is not a field of {owner} in google-ads {version}",
                exchange,
                index,
            )
            return
        if depth < len(segments) - 1:
            if field.message_type is None:
                report.add("GAQL", path, f"{segment!r} is a scalar; it has no field {segments[depth + 1]!r}", exchange, index)
                return
            descriptor = field.message_type


def check(exchanges, report):
    for index, exchange in enumerate(exchanges):
        match = PATH.match(exchange["path"])
        if not match:
            report.add("request", "path", f"{exchange['path']!r} is not a googleAds:search path of the REST API", exchange, index)
            continue
        version = match.group(1)
        if version not in VALID_VERSIONS:
            report.add(
                "request",
                "path",
                f"API version {version} is not served by google-ads 34.0.0 (_VALID_API_VERSIONS: {', '.join(VALID_VERSIONS)}); "
                f"checked against {VALID_VERSIONS[-1]} instead",
                exchange,
                index,
            )
            version = VALID_VERSIONS[-1]
        m = messages(version)
        if exchange["method"] != "POST":
            report.add("request", "method", f"googleAds:search is POST, not {exchange['method']}", exchange, index)
        login = header(exchange, "login-customer-id")
        if login is not None and not login.isdigit():
            report.add("request", "login-customer-id", f"must be the manager's id, digits only, not {login!r}", exchange, index)
        if not match.group(2).isdigit():
            report.add("request", "customer_id", f"the path's customer id must be digits only, not {match.group(2)!r}", exchange, index)
        body = json_body(exchange["body"])
        selected = None
        if not isinstance(body, dict):
            report.add("SearchGoogleAdsRequest", "", "the request body is not a JSON object", exchange, index)
        else:
            request = parse(m["request"], body, report, "SearchGoogleAdsRequest", exchange, index)
            if request is not None and request.page_size:
                report.add("SearchGoogleAdsRequest", "pageSize", "setting a page size is refused (PAGE_SIZE_NOT_SUPPORTED) since v17", exchange, index)
            fields = gaql_fields(body.get("query", "")) if isinstance(body.get("query"), str) else None
            if fields is None:
                report.add("SearchGoogleAdsRequest", "query", "not a GAQL SELECT … FROM … query", exchange, index)
            else:
                select, resource, rest = fields
                selected = {f.split(".")[0] for f in select} | {resource}
                from_field = m["row"].DESCRIPTOR.fields_by_name.get(resource)
                if from_field is None or from_field.message_type is None or ".resources." not in from_field.message_type.full_name:
                    report.add("GAQL", "FROM", f"{resource!r} is not a resource of GoogleAdsRow in {version}", exchange, index)
                for path in select + rest:
                    check_field_path(path, m["row"], report, version, exchange, index)
        response = json_body(exchange["response_body"])
        if exchange["status"] == 200:
            if not isinstance(response, dict):
                report.add("SearchGoogleAdsResponse", "", "a 200 response body must be a JSON object", exchange, index)
                continue
            parsed = parse(m["response"], response, report, "SearchGoogleAdsResponse", exchange, index)
            if parsed is not None and selected is not None:
                json_names = {f.json_name: f.name for f in m["row"].DESCRIPTOR.fields}
                for row in response.get("results", []):
                    for key in row:
                        if json_names.get(key, key) not in selected:
                            report.add("GoogleAdsRow", key, "the row carries a resource the query did not select", exchange, index)
        else:
            check_error(response, exchange, index, version, m, report)


def check_error(body, exchange, index, version, m, report):
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        report.add("error", "", 'an error body is {"error": {code, message, status, details}}', exchange, index)
        return
    error = body["error"]
    for key in error:
        if key not in ("code", "message", "status", "details"):
            report.add("error", key, "not a field of Google's error envelope (code, message, status, details)", exchange, index)
    if error.get("code") != exchange["status"]:
        report.add("error", "code", f"must repeat the HTTP status {exchange['status']}, found {error.get('code')!r}", exchange, index)
    if not isinstance(error.get("message"), str):
        report.add("error", "message", "must be a string", exchange, index)
    if error.get("status") not in RPC_CODES:
        report.add("error", "status", f"{error.get('status')!r} is not a google.rpc.Code name", exchange, index)
    for detail in error.get("details", []):
        kind = detail.get("@type", "")
        failure_type = f"type.googleapis.com/google.ads.googleads.{version}.errors.GoogleAdsFailure"
        if kind.endswith(".errors.GoogleAdsFailure"):
            if kind != failure_type:
                report.add("error.details", "@type", f"{kind} names another API version than the path ({failure_type})", exchange, index)
            rest = {k: v for k, v in detail.items() if k != "@type"}
            parse(m["failure"], rest, report, "GoogleAdsFailure", exchange, index)
        else:
            try:
                from google.protobuf import any_pb2

                json_format.ParseDict(detail, any_pb2.Any(), ignore_unknown_fields=False)
            except json_format.ParseError as error_text:
                report.add("error.details", "@type", str(error_text).split("\n")[0], exchange, index)
