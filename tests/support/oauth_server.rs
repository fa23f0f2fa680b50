//! A real OAuth 2.0 server for the OAuth tests: npm `oauth2-mock-server` (pinned in
//! `tests/oauth-server/package.json`, installed by `.ci/setup`) started with
//! `tests/oauth-server/start.mjs` on a free loopback port, one per test, stopped when dropped.
//! See start.mjs for what it adds to the package (client secrets checked, PKCE S256 required,
//! refresh tokens honoured only if issued and not revoked, separate `expires_in` and JWT `exp`).

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::Value;

/// A running OAuth server; killed when dropped.
pub struct OAuthServer {
    /// `http://127.0.0.1:PORT`.
    pub issuer: String,
    child: Child,
    /// Kept open: the server exits when its stdin closes, so it cannot outlive the test.
    _stdin: ChildStdin,
}

impl OAuthServer {
    /// Starts the server with `config` (see start.mjs: clients, refresh_tokens, expires_in,
    /// token_lifetime, shopify_shape).
    pub fn start(config: &Value) -> OAuthServer {
        let dir = crate::repo_root().join("tests").join("oauth-server");
        assert!(
            dir.join("node_modules").join("oauth2-mock-server").exists(),
            "the OAuth test server is not installed: run .ci/setup (npm install in {})",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg(dir.join("start.mjs"))
            .arg(config.to_string())
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node with tests/oauth-server/start.mjs");
        let stdin = child.stdin.take().expect("server stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("server stdout"))
            .read_line(&mut line)
            .expect("read the OAuth server's address");
        let started: Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("the OAuth server did not start: {line:?}"));
        OAuthServer {
            issuer: started["issuer"].as_str().expect("issuer").to_owned(),
            child,
            _stdin: stdin,
        }
    }

    /// The token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.issuer)
    }

    /// The consent (authorization) endpoint.
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.issuer)
    }

    /// Revokes a refresh token, as a user removing the app's access would
    /// (`POST /revoke?token=…`, the form of Google's revoke endpoint).
    pub fn revoke(&self, refresh_token: &str) {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/revoke", self.issuer),
            &[("token", refresh_token)],
        )
        .expect("revoke URL");
        let status = reqwest::blocking::Client::new()
            .post(url)
            .send()
            .expect("revoke")
            .status();
        assert!(status.is_success(), "revoke answered {status}");
    }
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
