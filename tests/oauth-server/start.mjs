// Starts oauth2-mock-server (a real OAuth 2.0 / OpenID server: authorization code with PKCE,
// refresh_token and client_credentials grants, RS256-signed JWT access tokens, a JWKS) on a free
// loopback port for Lookback's OAuth tests, with what the package leaves to its user added
// through its documented hooks:
// - clients: only the configured client ids with their secrets get tokens (else 401
//   invalid_client, RFC 6749 section 5.2);
// - PKCE: the consent request must use S256 and the code exchange must carry the verifier (the
//   package itself checks that the verifier matches the challenge);
// - refresh tokens: only those this server issued (or the test seeded) and did not revoke are
//   honoured, else 400 invalid_grant "Token has been expired or revoked." (Google's wording);
//   a refresh answers like Google's token endpoint: no new refresh token, no id_token;
// - POST /revoke?token=… revokes a refresh token (Google's revoke endpoint takes it the same way);
// - lifetimes: `expires_in` in the answer and the JWT's `exp` are set separately, so a test can
//   issue a token that expires before the client expects (a token that dies mid-sync);
// - deny_consent: the consent page answers error=access_denied, as when the person clicks "Cancel";
// - shopify_shape: client-credentials answers shaped like Shopify's ({access_token, scope,
//   expires_in}, no token_type).
//
// Usage: node start.mjs '<config JSON>'; prints {"issuer":"http://127.0.0.1:PORT"} on one line,
// serves until stdin closes. Config: {"clients": {"id": "secret"}, "refresh_tokens":
// {"token": "client id"}, "expires_in": 3600, "token_lifetime": 3600, "deny_consent": false,
// "shopify_shape": false}.

import { OAuth2Server } from "oauth2-mock-server";
import { randomUUID } from "node:crypto";
import basicAuth from "basic-auth";

const config = JSON.parse(process.argv[2] ?? "{}");
const clients = config.clients ?? {};
const expiresIn = config.expires_in ?? 3600;
const tokenLifetime = config.token_lifetime ?? expiresIn;
// refresh token -> client id
const refreshTokens = new Map(Object.entries(config.refresh_tokens ?? {}));
const revoked = new Set();
// authorization code -> {redirectUri, clientId}
const codes = new Map();

const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");
const service = server.service;

function fail(response, statusCode, error, description) {
  response.statusCode = statusCode;
  response.body = { error, error_description: description };
}

function clientOf(req) {
  const basic = basicAuth(req);
  if (basic) return { id: basic.name, secret: basic.pass };
  return { id: req.body?.client_id, secret: req.body?.client_secret };
}

service.on("beforeAuthorizeRedirect", (redirect, req) => {
  const query = req.query;
  const code = redirect.url.searchParams.get("code");
  const target = new URL(query.redirect_uri);
  let problem = null;
  if (!(query.client_id in clients)) problem = "unknown client_id";
  else if (query.code_challenge_method !== "S256" || !query.code_challenge) problem = "PKCE with S256 is required";
  else if (target.protocol !== "http:" || target.hostname !== "127.0.0.1" || !target.port) problem = "redirect_uri must be http://127.0.0.1:PORT (RFC 8252 loopback)";
  if (problem || config.deny_consent) {
    redirect.url.searchParams.delete("code");
    redirect.url.searchParams.set("error", problem ? "invalid_request" : "access_denied");
    redirect.url.searchParams.set("error_description", problem);
    return;
  }
  if (code) codes.set(code, { redirectUri: query.redirect_uri, clientId: query.client_id });
});

// Every token is unique (a jti), as a real server's are, even two issued in the same second.
service.on("beforeTokenSigning", (token) => {
  token.payload.exp = token.payload.iat + tokenLifetime;
  token.payload.jti = randomUUID();
});

service.on("beforeResponse", (response, req) => {
  const body = req.body ?? {};
  const client = clientOf(req);
  if (!(client.id in clients) || clients[client.id] !== client.secret) {
    return fail(response, 401, "invalid_client", "The OAuth client was not found.");
  }
  if (response.statusCode !== 200) return;
  switch (body.grant_type) {
    case "authorization_code": {
      const issued = codes.get(body.code);
      codes.delete(body.code);
      if (!issued || issued.clientId !== client.id || issued.redirectUri !== body.redirect_uri || !body.code_verifier) {
        return fail(response, 400, "invalid_grant", "Bad Request");
      }
      refreshTokens.set(response.body.refresh_token, client.id);
      delete response.body.id_token;
      break;
    }
    case "refresh_token": {
      const owner = refreshTokens.get(body.refresh_token);
      if (owner !== client.id || revoked.has(body.refresh_token)) {
        return fail(response, 400, "invalid_grant", "Token has been expired or revoked.");
      }
      delete response.body.refresh_token;
      delete response.body.id_token;
      break;
    }
    case "client_credentials":
      if (config.shopify_shape) {
        delete response.body.token_type;
        response.body.scope = "read_orders,read_all_orders";
      }
      break;
    default:
      return fail(response, 400, "unsupported_grant_type", "Unsupported grant type.");
  }
  response.body.expires_in = expiresIn;
});

service.on("beforeRevoke", (response, req) => {
  const token = req.query?.token ?? req.body?.token;
  if (typeof token === "string" && refreshTokens.has(token)) revoked.add(token);
  else response.statusCode = 400;
});

await server.start(0, "127.0.0.1");
const issuer = `http://127.0.0.1:${server.address().port}`;
server.issuer.url = issuer;
process.stdout.write(JSON.stringify({ issuer }) + "\n");

process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
process.stdin.resume();
