//! Outbound JSON POSTs for alert notifications (Slack incoming webhooks). Lives here because
//! lookback-sync is the only crate that speaks HTTP; the alert crate decides what to send,
//! when to retry and when to give up.

use std::time::Duration;

use crate::secret::Secret;

/// Why one POST failed. The message never contains the URL: an incoming-webhook URL is itself
/// the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostFailure {
    /// The HTTP status when the server answered, `None` for a connection failure or timeout.
    pub status: Option<u16>,
    pub detail: String,
}

/// POSTs `json` to the secret `url` once, with a timeout. 2xx is success.
pub async fn post_json(url: &Secret, json: &str, timeout: Duration) -> Result<(), PostFailure> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| PostFailure {
            status: None,
            detail: e.without_url().to_string(),
        })?;
    let response = client
        .post(url.expose())
        .header("content-type", "application/json")
        .body(json.to_owned())
        .send()
        .await
        .map_err(|e| PostFailure {
            status: None,
            detail: url.redact(&e.without_url().to_string()),
        })?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        Ok(())
    } else {
        let body = response.text().await.unwrap_or_default();
        let excerpt: String = url.redact(&body).chars().take(200).collect();
        Err(PostFailure {
            status: Some(status),
            detail: format!("HTTP {status}: {excerpt}"),
        })
    }
}
