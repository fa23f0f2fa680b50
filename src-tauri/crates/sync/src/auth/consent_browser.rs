//! Opens an OAuth consent page. By default in the system browser (`xdg-open`, `open`, `start`
//! through the `open` crate); the environment variable `LOOKBACK_BROWSER` names another
//! command instead (its words split on whitespace, the URL appended as the last argument), which
//! is how a test plays the browser and how a user picks a browser other than the default.
//! `LOOKBACK_BROWSER=none` opens nothing: the URL is only printed, to paste by hand.

/// The environment variable that overrides the browser.
pub const BROWSER_VARIABLE: &str = "LOOKBACK_BROWSER";

/// How the consent page is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentBrowser {
    /// The system's default browser.
    System,
    /// This program and its first arguments; the URL is appended.
    Command(Vec<String>),
    /// Nothing is opened; the person opens the printed URL.
    PrintOnly,
}

impl ConsentBrowser {
    /// `LOOKBACK_BROWSER` if set, else the system browser.
    pub fn from_env() -> ConsentBrowser {
        match std::env::var(BROWSER_VARIABLE) {
            Ok(value) => ConsentBrowser::from_setting(&value),
            Err(_) => ConsentBrowser::System,
        }
    }

    /// The browser a `LOOKBACK_BROWSER` value names.
    pub fn from_setting(value: &str) -> ConsentBrowser {
        let words: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
        match words.as_slice() {
            [] => ConsentBrowser::System,
            [only] if only == "none" => ConsentBrowser::PrintOnly,
            _ => ConsentBrowser::Command(words),
        }
    }

    /// Opens `url` without waiting for the browser to close. An error is worded for a person
    /// who can still open the printed URL by hand.
    pub fn open(&self, url: &str) -> Result<(), String> {
        match self {
            ConsentBrowser::System => {
                open::that_detached(url).map_err(|e| format!("cannot open the system browser: {e}"))
            }
            ConsentBrowser::PrintOnly => Ok(()),
            ConsentBrowser::Command(words) => {
                let (program, arguments) = words
                    .split_first()
                    .ok_or_else(|| format!("{BROWSER_VARIABLE} is empty"))?;
                let mut child = std::process::Command::new(program)
                    .args(arguments)
                    .arg(url)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .map_err(|e| format!("cannot start {BROWSER_VARIABLE} ({program}): {e}"))?;
                // Reaped in the background so a browser that outlives the flow leaves no zombie.
                std::thread::spawn(move || {
                    let _ = child.wait();
                });
                Ok(())
            }
        }
    }
}
