//! Meta access-token inspection: `GET {graph}/debug_token?input_token=…`, which tells whether
//! a token is valid, when it expires, when its access to data expires, its permissions and its
//! kind. Lookback asks on `source add`, `source test`, `source reconnect` and at the start of
//! every sync, stores the answer with the source (not secret), shows the expiry and warns a
//! week ahead.
//!
//! Facts (Meta's Graph API reference for `debug_token`, its WhatsApp "Permissions" page with a
//! System User example, and `facebook-business` 26.0.3, whose `FacebookSession` sends the
//! token as the `access_token` query parameter and has no wrapper for this endpoint):
//! - Response: `{"data": {"app_id": "…", "type": "SYSTEM_USER", "application": "…",
//!   "data_access_expires_at": 0, "expires_at": 0, "is_valid": true, "issued_at": …,
//!   "scopes": ["ads_read", …], "granular_scopes": […], "user_id": "…"}}`. Instants are Unix
//!   seconds; **0 means never** (a System User token; a user token lasts about 60 days, and a
//!   System User token made with `set_token_expires_in_60_days` expires too). `type` is `USER`,
//!   `SYSTEM_USER`, `PAGE` or `APP`.
//! - An inspected token that no longer works comes back in a 200 with `is_valid: false` and
//!   `data.error {code, message, subcode}` (190 with subcode 463 for an expired session…).
//! - Which token the call itself needs: Meta's reference asks for an app access token or a
//!   token of one of the app's developers. Lookback holds neither an app id nor an app secret,
//!   only the ad token, so it sends that token as both `input_token` and `access_token`: a
//!   token may inspect itself (a System User token included). When Meta no longer accepts the
//!   token, the call itself is refused with error 190 — the same "needs reconnecting" signal.
//! - Reading insights needs `ads_read`; `ads_management` ("read and manage", Meta's
//!   permissions reference) includes it. A token with neither is refused before any sync.

use serde_json::Value;

use crate::SyncError;
use crate::connector::{HttpRequest, HttpResponse, SourceContext};
use crate::secret::Secret;

/// The permissions of which a token needs one to read ad insights.
pub const READ_SCOPES: &[&str] = &["ads_read", "ads_management"];

/// What `debug_token` said about a token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaTokenInfo {
    pub is_valid: bool,
    pub app_id: Option<String>,
    /// `USER`, `SYSTEM_USER`, `PAGE`, `APP` (kept as Meta spells it; a new kind is recorded).
    pub token_type: Option<String>,
    /// `None`: the token never expires (`expires_at` 0 or absent).
    pub expires_at_ms: Option<i64>,
    /// `None`: data access does not expire (`data_access_expires_at` 0 or absent).
    pub data_access_expires_at_ms: Option<i64>,
    pub scopes: Vec<String>,
    /// For an invalid token: Meta's error (code/subcode and message).
    pub error: Option<String>,
}

impl MetaTokenInfo {
    /// Why Lookback cannot sync with this token, if it cannot: it is invalid, or it has no
    /// permission to read insights.
    pub fn refusal(&self) -> Option<String> {
        if !self.is_valid {
            return Some(format!(
                "Meta says the token is not valid{}",
                self.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ));
        }
        if !self
            .scopes
            .iter()
            .any(|scope| READ_SCOPES.contains(&scope.as_str()))
        {
            return Some(format!(
                "the token lacks the ads_read permission (it has: {}); make a token with ads_read, preferably a System User token, which does not expire",
                if self.scopes.is_empty() {
                    "none".to_owned()
                } else {
                    self.scopes.join(", ")
                }
            ));
        }
        None
    }
}

/// The inspection request of `token` against the source's Graph API root (which carries the
/// version). The transport adds the same token as `access_token`; the caller never logs or
/// stores this request's URL, which holds the token.
pub fn debug_token_request(
    context: &SourceContext,
    token: &Secret,
) -> Result<HttpRequest, SyncError> {
    let mut url = reqwest::Url::parse(&format!("{}/debug_token", super::meta::api_root(context)))
        .map_err(|e| SyncError::Connector {
        connector: "meta",
        detail: format!("base URL: {e}"),
    })?;
    url.query_pairs_mut()
        .append_pair("input_token", token.expose());
    Ok(HttpRequest::get(url.to_string()))
}

/// Unix seconds to milliseconds, with Meta's 0 (never) as `None`.
fn instant_ms(value: Option<&Value>) -> Result<Option<i64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let seconds = value
                .as_i64()
                .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| format!("should be Unix seconds, found {value}"))?;
            Ok((seconds > 0).then(|| seconds.saturating_mul(1000)))
        }
    }
}

/// Reads an accepted `debug_token` answer; the error names the field that is not the
/// documented shape.
pub fn parse_debug_token(response: &HttpResponse) -> Result<MetaTokenInfo, String> {
    let body = response
        .json()
        .map_err(|e| format!("debug_token: the body is not JSON: {e}"))?;
    let data = body
        .get("data")
        .filter(|d| d.is_object())
        .ok_or("debug_token: field \"data\" is missing or not an object")?;
    let text = |key: &str| {
        data.get(key).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let is_valid = data
        .get("is_valid")
        .and_then(Value::as_bool)
        .ok_or("debug_token: field \"data.is_valid\" is missing or not a boolean")?;
    let scopes = match data.get("scopes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|s| {
                s.as_str().map(str::to_owned).ok_or_else(|| {
                    format!("debug_token: field \"data.scopes\" holds {s}, not a string")
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(format!(
                "debug_token: field \"data.scopes\" should be an array, found {other}"
            ));
        }
    };
    let error = data.get("error").map(|e| {
        let number = |k: &str| e.get(k).and_then(Value::as_i64).unwrap_or(0);
        let subcode = number("subcode");
        format!(
            "error {}/{subcode} ({}): {}",
            number("code"),
            token_problem(subcode),
            e.get("message").and_then(Value::as_str).unwrap_or("")
        )
    });
    Ok(MetaTokenInfo {
        is_valid,
        app_id: text("app_id"),
        token_type: text("type"),
        expires_at_ms: instant_ms(data.get("expires_at"))
            .map_err(|e| format!("debug_token: field \"data.expires_at\" {e}"))?,
        data_access_expires_at_ms: instant_ms(data.get("data_access_expires_at"))
            .map_err(|e| format!("debug_token: field \"data.data_access_expires_at\" {e}"))?,
        scopes,
        error,
    })
}

/// What an error-190 subcode says happened to the token (Meta's "Handle errors" guide,
/// "Authentication error subcodes"). Any subcode of 190 means the token must be replaced.
pub fn token_problem(subcode: i64) -> &'static str {
    match subcode {
        458 => "the app is no longer installed for the user",
        459 => "the user must log in to Facebook to fix their account",
        460 => "the password changed",
        463 => "the token expired",
        464 => "the user is not confirmed",
        467 => "the token is invalid",
        492 => "the session is invalid",
        _ => "the token is invalid or was revoked",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: Value) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: Default::default(),
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn a_system_user_token_never_expires_and_a_user_token_does() {
        // The shape of Meta's own System User example.
        let system_user = parse_debug_token(&response(serde_json::json!({"data": {
            "app_id": "634974688087057", "type": "SYSTEM_USER", "application": "Lookback",
            "data_access_expires_at": 0, "expires_at": 0, "is_valid": true,
            "issued_at": 1_712_099_387, "scopes": ["ads_read", "business_management"],
            "granular_scopes": [{"scope": "ads_read"}], "user_id": "104169029247128"}})))
        .unwrap();
        assert_eq!(system_user.expires_at_ms, None);
        assert_eq!(system_user.data_access_expires_at_ms, None);
        assert_eq!(system_user.token_type.as_deref(), Some("SYSTEM_USER"));
        assert_eq!(system_user.app_id.as_deref(), Some("634974688087057"));
        assert_eq!(system_user.refusal(), None);

        let user = parse_debug_token(&response(serde_json::json!({"data": {
            "app_id": "1", "type": "USER", "expires_at": 1_780_000_000,
            "data_access_expires_at": 1_787_000_000, "is_valid": true, "scopes": ["ads_management"]}})))
        .unwrap();
        assert_eq!(user.expires_at_ms, Some(1_780_000_000_000));
        assert_eq!(user.data_access_expires_at_ms, Some(1_787_000_000_000));
        assert_eq!(user.refusal(), None, "ads_management includes reading");
    }

    #[test]
    fn an_invalid_token_or_one_without_ads_read_is_refused_with_the_reason() {
        let expired = parse_debug_token(&response(serde_json::json!({"data": {
            "app_id": "1", "type": "USER", "expires_at": 1_700_000_000, "is_valid": false, "scopes": [],
            "error": {"code": 190, "message": "Error validating access token: Session has expired", "subcode": 463}}})))
        .unwrap();
        let reason = expired.refusal().unwrap();
        assert!(
            reason.contains("190/463") && reason.contains("the token expired"),
            "{reason}"
        );

        let no_read = parse_debug_token(&response(serde_json::json!({"data": {
            "app_id": "1", "type": "SYSTEM_USER", "expires_at": 0, "is_valid": true,
            "scopes": ["pages_show_list", "business_management"]}})))
        .unwrap();
        let reason = no_read.refusal().unwrap();
        assert!(
            reason.contains("lacks the ads_read permission") && reason.contains("pages_show_list")
        );
    }

    #[test]
    fn a_body_not_of_the_documented_shape_names_the_field() {
        let error = parse_debug_token(&response(
            serde_json::json!({"data": {"is_valid": true, "scopes": "ads_read"}}),
        ))
        .unwrap_err();
        assert!(error.contains("data.scopes"), "{error}");
        let error = parse_debug_token(&response(
            serde_json::json!({"data": {"is_valid": true, "expires_at": "soon"}}),
        ))
        .unwrap_err();
        assert!(error.contains("data.expires_at"), "{error}");
        let error = parse_debug_token(&response(serde_json::json!({"data": {}}))).unwrap_err();
        assert!(error.contains("data.is_valid"), "{error}");
    }

    #[test]
    fn the_request_carries_the_token_to_inspect_under_the_versioned_root() {
        let context = SourceContext {
            source_id: "ads".into(),
            source_name: "ads".into(),
            base_url: "https://graph.facebook.com/v25.0".into(),
            account: Some("act_1".into()),
            restatement_days: 28,
            page_size: 500,
            now_ms: 0,
        };
        let request = debug_token_request(&context, &Secret::new("EAAtoken")).unwrap();
        // The pinned version, whatever version the base URL names (like every Meta request).
        assert_eq!(
            request.url,
            format!(
                "https://graph.facebook.com/{}/debug_token?input_token=EAAtoken",
                crate::api_versions::META.version.unwrap()
            )
        );
    }
}
