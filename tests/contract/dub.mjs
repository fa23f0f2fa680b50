// Dub: checks captured exchanges of GET /events against the zod schemas of the official `dub`
// npm package (0.73.5, pinned in package.json), and prints one JSON line per finding
// ({index, obj, field, message}) for lookback_contract/dub.py to report.
//
// - Query parameters are keys of `ListEventsRequest$outboundSchema` (or their wire names after
//   its remap, e.g. utm_source), enum parameters take the schema's values, `page`/`limit` are
//   integers, booleans are true/false.
// - A 200 body is an array; each element parses with ClickEvent/LeadEvent/SaleEvent$inboundSchema
//   (chosen by its `event`), which is what the SDK itself does with the response. The SDK's
//   objects are not strict (zod strips unknown keys), so a key no schema declares is reported
//   separately as unknown: the response then carries something the SDK would silently drop.
// - An error body is {"error": …} whose object parses with the SDK's error schema for its status
//   (UnauthorizedError, RateLimitExceededError…: code enum, message, doc_url).

import { readFileSync, writeFileSync } from "node:fs";
import * as operations from "dub/models/operations";
import * as errors from "dub/models/errors";

const EVENT_SCHEMAS = {
  click: operations.ClickEvent$inboundSchema,
  lead: operations.LeadEvent$inboundSchema,
  sale: operations.SaleEvent$inboundSchema,
};
const ERROR_SCHEMAS = {
  400: errors.BadRequestError$inboundSchema,
  401: errors.UnauthorizedError$inboundSchema,
  403: errors.ForbiddenError$inboundSchema,
  404: errors.NotFoundError$inboundSchema,
  409: errors.ConflictError$inboundSchema,
  410: errors.InviteExpiredError$inboundSchema,
  422: errors.UnprocessableEntityError$inboundSchema,
  429: errors.RateLimitExceededError$inboundSchema,
  500: errors.InternalServerErrorError$inboundSchema,
};

const findings = [];
const add = (index, obj, field, message) => findings.push({ index, obj, field, message });

/** The schema under optional/nullable/default/lazy/effects wrappers. */
function unwrap(schema) {
  for (;;) {
    const def = schema?._def;
    if (!def) return schema;
    if (def.typeName === "ZodEffects") schema = def.schema;
    else if (def.typeName === "ZodLazy") schema = def.getter();
    else if (["ZodOptional", "ZodNullable", "ZodDefault", "ZodCatch", "ZodReadonly"].includes(def.typeName))
      schema = def.innerType;
    else if (def.typeName === "ZodPipeline") schema = def.in;
    else return schema;
  }
}

/** Reports keys of `value` that `schema` does not declare, recursively. */
function unknownKeys(schema, value, path, index, obj) {
  const inner = unwrap(schema);
  const type = inner?._def?.typeName;
  if (value === null || value === undefined) return;
  if (type === "ZodObject" && typeof value === "object" && !Array.isArray(value)) {
    const shape = inner.shape;
    for (const [key, item] of Object.entries(value)) {
      if (!(key in shape)) add(index, obj, path ? `${path}.${key}` : key, "not declared by the dub 0.73.5 schema (the SDK drops it)");
      else unknownKeys(shape[key], item, path ? `${path}.${key}` : key, index, obj);
    }
  } else if (type === "ZodArray" && Array.isArray(value)) {
    value.forEach((item, i) => unknownKeys(inner._def.type, item, `${path}[]`, index, obj));
  } else if (type === "ZodUnion") {
    const fitting = inner._def.options.find((option) => option.safeParse(value).success) ?? inner._def.options[0];
    unknownKeys(fitting, value, path, index, obj);
  }
}

function reportIssues(result, index, obj) {
  for (const issue of result.error.issues) {
    const field = issue.path.join(".");
    let message = issue.message;
    if (issue.code === "invalid_type") message = `expected ${issue.expected}, found ${issue.received}`;
    if (issue.code === "invalid_type" && issue.received === "undefined") message = `missing, but the schema requires ${issue.expected}`;
    if (issue.code === "invalid_enum_value" || issue.code === "invalid_literal")
      message = `${JSON.stringify(issue.received)} is not one of ${JSON.stringify(issue.options ?? issue.expected)}`;
    add(index, obj, field, message);
  }
}

function checkQuery(exchange, index) {
  const schema = unwrap(operations.ListEventsRequest$outboundSchema);
  const shape = schema.shape;
  const wire = {};
  for (const key of Object.keys(shape)) {
    wire[key] = key;
    wire[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = key;
  }
  for (const [name, value] of exchange.query) {
    const key = wire[name];
    if (!key) {
      add(index, "ListEventsRequest", name, "not a query parameter of GET /events in dub 0.73.5");
      continue;
    }
    const field = unwrap(shape[key]);
    const type = field._def.typeName;
    let parsed = value;
    if (type === "ZodNumber") parsed = /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (type === "ZodBoolean") parsed = value === "true" ? true : value === "false" ? false : value;
    const result = field.safeParse(parsed);
    if (!result.success) add(index, "ListEventsRequest", name, `${JSON.stringify(value)}: ${result.error.issues[0].message}`);
  }
}

/** The value with every field its schema marks optional removed and every nullable field null,
 * recursively through required nested objects: the least a Dub response may carry. */
function leastAllowed(schema, value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const inner = unwrap(schema);
  if (inner?._def?.typeName !== "ZodObject") return value;
  const out = {};
  for (const [key, item] of Object.entries(value)) {
    const field = inner.shape[key];
    if (!field) {
      out[key] = item;
      continue;
    }
    let kinds = [];
    for (let s = field; s?._def; ) {
      const t = s._def.typeName;
      kinds.push(t);
      if (t === "ZodEffects") s = s._def.schema;
      else if (t === "ZodLazy") s = s._def.getter();
      else if (["ZodOptional", "ZodNullable", "ZodDefault"].includes(t)) s = s._def.innerType;
      else break;
    }
    if (kinds.includes("ZodOptional") || kinds.includes("ZodDefault")) continue;
    if (kinds.includes("ZodNullable")) out[key] = null;
    else out[key] = leastAllowed(field, item);
  }
  return out;
}

if (process.argv[2] === "--null-optional") {
  const input = readFileSync(process.argv[3], "utf8").split("\n").filter((l) => l.trim());
  const out = input.map((line) => {
    const exchange = JSON.parse(line);
    if (exchange.status !== 200) return line;
    const body = JSON.parse(exchange.response_body);
    if (!Array.isArray(body)) return line;
    exchange.response_body = JSON.stringify(body.map((item) => (EVENT_SCHEMAS[item?.event] ? leastAllowed(EVENT_SCHEMAS[item.event], item) : item)));
    return JSON.stringify(exchange);
  });
  writeFileSync(process.argv[4], out.join("\n") + "\n");
  process.exit(0);
}

const lines = readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.trim());
lines.forEach((line, index) => {
  const exchange = JSON.parse(line);
  if (exchange.method !== "GET" || exchange.path !== "/events") {
    add(index, "request", "path", `${exchange.method} ${exchange.path} is not GET /events`);
    return;
  }
  checkQuery(exchange, index);
  let body;
  try {
    body = JSON.parse(exchange.response_body);
  } catch {
    add(index, "response", "", "the body is not JSON");
    return;
  }
  if (exchange.status !== 200) {
    const schema = ERROR_SCHEMAS[exchange.status];
    if (!schema) return;
    if (body === null || typeof body !== "object" || Object.keys(body).join() !== "error") {
      add(index, "ErrorResponse", "", 'an error body is {"error": {code, message, doc_url}}');
      return;
    }
    const result = schema.safeParse(body.error);
    if (!result.success) reportIssues(result, index, "ErrorResponse.error");
    unknownKeys(schema, body.error, "", index, "ErrorResponse.error");
    return;
  }
  if (!Array.isArray(body)) {
    add(index, "ListEventsResponseBody", "", "GET /events answers a bare JSON array");
    return;
  }
  const asked = (exchange.query.find(([k]) => k === "event") ?? [null, "clicks"])[1];
  for (const item of body) {
    const schema = EVENT_SCHEMAS[item?.event];
    const obj = `${item?.event ?? "unknown"}Event`.replace(/^./, (c) => c.toUpperCase());
    if (!schema) {
      add(index, "ListEventsResponseBody", "event", `${JSON.stringify(item?.event)} is not click, lead or sale`);
      continue;
    }
    if (`${item.event}s` !== asked) add(index, obj, "event", `a ${item.event} event in the answer to event=${asked}`);
    const result = schema.safeParse(item);
    if (!result.success) reportIssues(result, index, obj);
    unknownKeys(schema, item, "", index, obj);
  }
});
for (const finding of findings) console.log(JSON.stringify(finding));
