//! Driving the real window: an Xvfb display, tauri-driver on port 4444 in front of
//! WebKitWebDriver, and the few W3C WebDriver calls the end-to-end tests need.
//!
//! tauri-driver listens on 4444 and talks to WebKitWebDriver on its native port 4445; asking
//! tauri-driver to listen on 4445 makes the two collide, so 4444 is fixed here.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::TestHome;

const DRIVER_PORT: u16 = 4444;
/// WebKitWebDriver's own port, which tauri-driver talks to.
const NATIVE_DRIVER_PORT: u16 = 4445;

/// The key under which W3C WebDriver returns an element reference.
const W3C_ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A child started in its own process group, the whole group killed when dropped. tauri-driver
/// starts WebKitWebDriver, which starts the app: killing tauri-driver alone would leave
/// WebKitWebDriver holding port 4445, and the next tauri-driver would spin on it.
pub struct ProcessGroupGuard(pub Child);

impl Drop for ProcessGroupGuard {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

/// Waits until nothing listens on `port` any more.
fn wait_until_free(port: u16, within: Duration) {
    let deadline = Instant::now() + within;
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "port {port} is still taken; a WebKitWebDriver from an earlier run is still alive"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A virtual X display. Uses an existing `DISPLAY` if the caller has one, else starts Xvfb.
pub struct Display {
    pub name: String,
    _xvfb: Option<XvfbGuard>,
}

/// An Xvfb server stopped with SIGTERM when dropped, so that it removes its own lock file
/// (`/tmp/.X{n}-lock`) and socket; SIGKILL would leave them behind, and a machine that runs the
/// tests many times would run out of display numbers.
struct XvfbGuard {
    child: Child,
    number: u32,
}

impl Drop for XvfbGuard {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Only what our server left behind: by now another test's server may hold the number.
        let lock = format!("/tmp/.X{}-lock", self.number);
        let still_ours = std::fs::read_to_string(&lock)
            .map(|text| text.trim() == pid)
            .unwrap_or(false);
        if still_ours {
            let _ = std::fs::remove_file(&lock);
            let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{}", self.number));
        }
    }
}

impl Display {
    /// A display of 1400×900, as the window opens at about 1280×820.
    pub fn start() -> Display {
        Display::start_sized(1400, 900)
    }

    /// A display of `width`×`height` (larger, for windows resized beyond 1400×900).
    ///
    /// Xvfb picks a free display number itself (`-displayfd`) and writes it once it accepts
    /// connections, so tests of one binary, which run in parallel, never race for a number.
    pub fn start_sized(width: u32, height: u32) -> Display {
        if let Ok(name) = std::env::var("LOOKBACK_TEST_DISPLAY") {
            return Display { name, _xvfb: None };
        }
        let screen = format!("{width}x{height}x24");
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                screen.as_str(),
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start Xvfb (install the xvfb package; the README's test command does)");
        let stdout = child.stdout.take().expect("Xvfb's stdout is piped");
        let stderr = child.stderr.take().expect("Xvfb's stderr is piped");
        let (number_tx, number_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(stdout);
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut reader, &mut line);
            let _ = number_tx.send(line);
            // Keep the pipe open while Xvfb runs: a closed one could end it with SIGPIPE.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let (log_tx, log_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut text);
            let _ = log_tx.send(text);
        });
        let announced = number_rx.recv_timeout(Duration::from_secs(60));
        match announced
            .ok()
            .and_then(|line| line.trim().parse::<u32>().ok())
        {
            Some(number) => Display {
                name: format!(":{number}"),
                _xvfb: Some(XvfbGuard { child, number }),
            },
            None => {
                let _ = child.kill();
                let _ = child.wait();
                let log = log_rx
                    .recv_timeout(Duration::from_secs(5))
                    .unwrap_or_default();
                panic!("Xvfb did not announce a display within 60 s; it printed:\n{log}");
            }
        }
    }
}

/// tauri-driver running on port 4444 with the test's display and home.
pub struct TauriDriver {
    /// Dropped first: the driver's process group is killed before the turn passes on.
    _child: ProcessGroupGuard,
    _turn: MutexGuard<'static, ()>,
}

/// tauri-driver's port is fixed, so the window tests of one test binary, which the test
/// harness runs on parallel threads, take turns: each holds this while its driver runs.
static ONE_DRIVER_AT_A_TIME: Mutex<()> = Mutex::new(());

impl TauriDriver {
    pub fn start(display: &Display, home: &TestHome) -> TauriDriver {
        TauriDriver::start_with_env(display, home, &[])
    }

    /// Starts tauri-driver with extra environment, which the launched app inherits.
    pub fn start_with_env(display: &Display, home: &TestHome, env: &[(&str, &str)]) -> TauriDriver {
        let turn = ONE_DRIVER_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        wait_until_free(DRIVER_PORT, Duration::from_secs(10));
        wait_until_free(NATIVE_DRIVER_PORT, Duration::from_secs(10));
        let mut cmd = Command::new(tauri_driver_bin());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.args(["--port", &DRIVER_PORT.to_string()])
            .env("DISPLAY", &display.name)
            .env_remove("WAYLAND_DISPLAY")
            // Software rendering: Xvfb has no GPU, and WebKit's DMA-BUF renderer fails there.
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        home.apply(&mut cmd);
        let child = ProcessGroupGuard(
            cmd.spawn()
                .expect("start tauri-driver (cargo install tauri-driver --locked)"),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", DRIVER_PORT)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {DRIVER_PORT}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        TauriDriver {
            _child: child,
            _turn: turn,
        }
    }
}

fn tauri_driver_bin() -> String {
    if let Ok(path) = std::env::var("TAURI_DRIVER") {
        return path;
    }
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")))
        .map(|p| p.join("bin/tauri-driver"));
    match cargo_bin {
        Some(p) if p.exists() => p.display().to_string(),
        _ => "tauri-driver".to_string(),
    }
}

/// One WebDriver session: the app launched by tauri-driver.
pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
}

/// How long to wait for the UI to show something before failing.
pub const UI_TIMEOUT: Duration = Duration::from_secs(30);

impl Session {
    /// Launches `application` with `args` through tauri-driver and returns the session.
    pub fn launch(application: &Path, args: &[&str]) -> Session {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "tauri:options": { "application": application.display().to_string(), "args": args }
                }
            }
        });
        // tauri-driver accepts connections a moment before WebKitWebDriver behind it is ready,
        // and then drops the first request: retry a few times before calling it a failure.
        let mut attempt = 0;
        let resp: Value = loop {
            attempt += 1;
            match http
                .post(format!("http://127.0.0.1:{DRIVER_PORT}/session"))
                .json(&caps)
                .send()
            {
                Ok(resp) => break resp.json().expect("session JSON"),
                Err(err) if attempt < 5 => {
                    eprintln!("creating the WebDriver session failed ({err}); retrying");
                    std::thread::sleep(Duration::from_secs(2));
                }
                Err(err) => panic!("create WebDriver session: {err}"),
            }
        };
        let id = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {resp}"))
            .to_string();
        Session {
            http,
            base: format!("http://127.0.0.1:{DRIVER_PORT}/session/{id}"),
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp: Value = req
            .send()
            .expect("WebDriver request")
            .json()
            .expect("WebDriver JSON");
        resp["value"].clone()
    }

    /// Finds an element by CSS selector now; `None` if absent.
    pub fn find(&self, css: &str) -> Option<String> {
        let value = self.call(
            reqwest::Method::POST,
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        // A found element is {"element-6066-…": id}; "no such element" is an error object.
        value
            .get(W3C_ELEMENT_KEY)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    /// Waits until an element matching `css` exists and returns it.
    pub fn wait_for(&self, css: &str) -> String {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            if let Some(id) = self.find(css) {
                return id;
            }
            if Instant::now() > deadline {
                let body = self.eval("return document.body ? document.body.innerText : ''");
                panic!("no element {css} after {UI_TIMEOUT:?}; the page shows:\n{body}");
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// The rendered text of an element.
    pub fn text(&self, element: &str) -> String {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{element}/text"),
            None,
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// An attribute of an element.
    pub fn attr(&self, element: &str, name: &str) -> Option<String> {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{element}/attribute/{name}"),
            None,
        )
        .as_str()
        .map(str::to_string)
    }

    /// Types `text` into an input or textarea.
    pub fn type_text(&self, element: &str, text: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        );
    }

    /// Polls a script until it returns `true`, or fails with `what`.
    pub fn wait_until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + UI_TIMEOUT;
        while self.eval(script) != Value::Bool(true) {
            if Instant::now() > deadline {
                let body = self.eval("return document.body ? document.body.innerText : ''");
                panic!("timed out waiting for {what}; the page shows:\n{body}");
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    pub fn click(&self, element: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    /// Runs a script in the page and returns its result.
    pub fn eval(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Runs an asynchronous script in the page: it finishes by calling its last argument with
    /// the result (W3C "Execute Async Script"), e.g. after the next repaint.
    pub fn eval_async(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Resizes the window so that the page's viewport is `width`×`height` CSS pixels (the
    /// window has no decorations under Xvfb, so its size is the viewport's).
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
        self.wait_until(
            &format!("a {width}×{height} viewport"),
            &format!("return window.innerWidth === {width} && window.innerHeight === {height}"),
        );
    }

    /// Scrolls an element into view and moves the pointer onto its middle, as a user hovering
    /// it does.
    pub fn hover(&self, element: &str) {
        // The pointer can only move within the viewport: bring the element into it first.
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({
                "script": "arguments[0].scrollIntoView({block: 'center'}); return true",
                "args": [{W3C_ELEMENT_KEY: element}]
            })),
        );
        let answer = self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{
                "type": "pointer",
                "id": "mouse",
                "parameters": {"pointerType": "mouse"},
                "actions": [{
                    "type": "pointerMove",
                    "duration": 0,
                    "origin": {W3C_ELEMENT_KEY: element},
                    "x": 0,
                    "y": 0
                }]
            }]})),
        );
        assert!(answer.is_null(), "moving the pointer: {answer}");
    }

    /// Presses and releases a key on the focused element; `key` is a character or a WebDriver
    /// key code ("\u{E014}" is the right arrow).
    pub fn press_key(&self, key: &str) {
        let answer = self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{
                "type": "key",
                "id": "keyboard",
                "actions": [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]
            }]})),
        );
        assert!(answer.is_null(), "pressing {key:?}: {answer}");
    }

    /// The window's title.
    pub fn title(&self) -> String {
        self.call(reqwest::Method::GET, "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// A PNG screenshot of the window's content.
    ///
    /// WebKitWebDriver's screenshot waits for the page's next frame, and a page where nothing
    /// changes never draws one (the request then hangs): while it is taken, an invisible
    /// 1 px element changes every frame so that one is drawn.
    pub fn screenshot_png(&self) -> Vec<u8> {
        use base64::Engine;
        self.eval(
            "const dot = document.createElement('div'); dot.id = 'webdriver-repaint'; \
             dot.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none'; \
             document.body.append(dot); let odd = false; \
             const tick = () => { if (!dot.isConnected) return; odd = !odd; \
               dot.style.background = odd ? 'rgba(0,0,0,0.004)' : 'transparent'; requestAnimationFrame(tick); }; \
             requestAnimationFrame(tick); return true",
        );
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None);
        self.eval("document.getElementById('webdriver-repaint')?.remove(); return true");
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .expect("screenshot base64")
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.http.delete(&self.base).send();
    }
}

/// Key → attributed revenue in minor units, as the ROAS table in the window shows it (the key a
/// row carries, without the trailing `|` of a key whose second part is empty).
pub fn roas_revenue_by_key(session: &Session) -> std::collections::BTreeMap<String, i64> {
    let rows = session.eval(
        "return [...document.querySelectorAll('[data-testid=roas-table] tbody tr[data-key]')]\
           .map(tr => [tr.dataset.key, Number(tr.querySelector('[data-col=revenue]').dataset.minor)])",
    );
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().trim_end_matches('|').to_owned(),
                r[1].as_i64().unwrap(),
            )
        })
        .collect()
}
