//! A real browser for the tests of HTML output: Debian's `chromium-headless-shell`, driven over
//! the DevTools protocol.
//!
//! The protocol goes through `--remote-debugging-pipe`: Chromium reads commands on its fd 3
//! and writes answers and events on its fd 4, each message one JSON document followed by a NUL
//! byte. A pipe needs no port (nothing else on the machine can talk to the browser) and no
//! WebSocket client; `sh` moves the pipes that [`std::process::Command`] gives as stdin and
//! stdout to fds 3 and 4 (`exec … 3<&0 4>&1`), so no `unsafe` `pre_exec` is needed.
//!
//! Everything the browser starts (its renderer, GPU and zygote processes) is in one process
//! group, killed when the [`Browser`] drops; every wait has a deadline. Each browser has a
//! fresh profile in the directory its test gives, and no background networking: the
//! [`Browser::requests`] log is the page's requests only.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::child::Running;

/// The binary of Debian's package `chromium-headless-shell` (`/usr/bin/chromium-headless-shell`
/// is a shell script that runs it without `exec`).
const SHELL_BINARY: &str = "/usr/lib/chromium/chromium-headless-shell";

/// How long one protocol command may take (a navigation waits for its load separately).
const COMMAND_LIMIT: Duration = Duration::from_secs(30);

/// How long a page may take to fire its load event.
const LOAD_LIMIT: Duration = Duration::from_secs(30);

/// The tallest full-page screenshot taken, in CSS pixels (Chromium's textures stop at 16,384).
const MAX_SHOT_HEIGHT: f64 = 16_000.0;

/// The name of the binding the `securitypolicyviolation` listener reports through.
const CSP_BINDING: &str = "__testkitCspViolation";

/// The listener installed in every document before its own scripts run: each
/// `securitypolicyviolation` event reaches the test as a [`CSP_BINDING`] call (a binding is
/// outside the page's CSP, and its calls arrive as protocol events).
const CSP_LISTENER: &str = "document.addEventListener('securitypolicyviolation', (e) => { \
     window.__testkitCspViolation(JSON.stringify({directive: e.violatedDirective, \
     blocked: e.blockedURI, sample: e.sample})); });";

/// The path of Chromium's headless shell; panics naming the Debian package when it is missing.
pub fn chromium_path() -> PathBuf {
    let shell = Path::new(SHELL_BINARY);
    if shell.is_file() {
        return shell.to_owned();
    }
    panic!(
        "{SHELL_BINARY} is missing: install the Debian package chromium-headless-shell \
         (scripts/test-all.sh does)"
    )
}

/// A page's paint and navigation timing, in milliseconds since its navigation started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// `first-paint`.
    pub first_paint: f64,
    /// `first-contentful-paint`: the first text or image drawn.
    pub first_contentful_paint: f64,
    /// The end of `DOMContentLoaded`.
    pub dom_content_loaded: f64,
    /// The end of the load event.
    pub load: f64,
}

/// A headless Chromium with one page, killed (with every process it started) when dropped.
pub struct Browser {
    /// `sh` exec'd into Chromium, the leader of its own process group.
    process: Running,
    commands: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    /// The page's session (flat sessions: commands carry its `sessionId`).
    session: String,
    /// The page's events since the last [`Browser::open`].
    events: Vec<Value>,
    /// The URL last opened.
    url: String,
    /// Where Chromium's stderr goes.
    log: PathBuf,
}

impl Browser {
    /// Starts Chromium with a fresh profile under `dir` (created; its stderr goes to
    /// `dir/chromium.log`) and opens one blank page, its console, network and log watched.
    pub fn start(dir: &Path) -> Browser {
        let profile = dir.join("chromium-profile");
        std::fs::create_dir_all(&profile)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", profile.display()));
        let log = dir.join("chromium.log");
        let log_file = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let mut cmd = Command::new("sh");
        // Our stdin pipe becomes Chromium's fd 3 (commands), our stdout pipe its fd 4
        // (answers); its own stdin is /dev/null and its stdout joins its stderr in the log.
        cmd.arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2"#)
            .arg(chromium_path())
            .args(flags(&profile))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut process = Running::spawn(&mut cmd);
        let commands = process.child().stdin.take().expect("piped stdin");
        let answers = process.child().stdout.take().expect("piped stdout");
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(answers);
            let mut message = Vec::new();
            loop {
                message.clear();
                match reader.read_until(0, &mut message) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if message.last() == Some(&0) {
                    message.pop();
                }
                let Ok(value) = serde_json::from_slice::<Value>(&message) else {
                    continue;
                };
                if sender.send(value).is_err() {
                    break;
                }
            }
        });
        let mut browser = Browser {
            process,
            commands,
            messages,
            next_id: 0,
            session: String::new(),
            events: Vec::new(),
            url: String::new(),
            log,
        };
        let target = browser.browser_call("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap_or_default().to_owned();
        let attached = browser.browser_call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        attached["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromium: no sessionId in {attached}"))
            .clone_into(&mut browser.session);
        for domain in ["Page", "Runtime", "Network", "Log", "DOM"] {
            browser.call(&format!("{domain}.enable"), json!({}));
        }
        browser.call("Runtime.addBinding", json!({"name": CSP_BINDING}));
        browser.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": CSP_LISTENER}),
        );
        browser
    }

    /// The id of Chromium's process group (its process id): every process it started is in it.
    pub fn process_group(&mut self) -> u32 {
        self.process.child().id()
    }

    /// Sends `method` to the page and returns its result; panics with the protocol's error.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    /// Sends `method` to the browser itself (no session).
    fn browser_call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = serde_json::Map::new();
        message.insert("id".to_owned(), json!(id));
        message.insert("method".to_owned(), json!(method));
        message.insert("params".to_owned(), params);
        if let Some(session) = session {
            message.insert("sessionId".to_owned(), json!(session));
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        if let Err(e) = self
            .commands
            .write_all(&bytes)
            .and_then(|()| self.commands.flush())
        {
            panic!("chromium: cannot send {method}: {e}{}", self.log_tail());
        }
        let deadline = Instant::now() + COMMAND_LIMIT;
        loop {
            let message = self.next_message(deadline, method);
            if message["id"].as_u64() == Some(id) {
                if let Some(error) = message.get("error") {
                    panic!("chromium: {method} failed: {error}");
                }
                return message["result"].clone();
            }
        }
    }

    /// The next message (events are kept on the way); panics after `deadline`.
    fn next_message(&mut self, deadline: Instant, waiting_for: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(left) {
            Ok(message) => {
                if message.get("method").is_some() && message["sessionId"] == json!(self.session) {
                    self.events.push(message.clone());
                }
                message
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("chromium: no answer to {waiting_for} within its time limit; killed")
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!(
                    "chromium exited while waiting for {waiting_for}{}",
                    self.log_tail()
                )
            }
        }
    }

    /// The end of Chromium's stderr, for a failure message.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("\n--- {} (end)\n{tail}", self.log.display())
    }

    /// Takes the events that arrived since the last command (without waiting).
    fn drain(&mut self) {
        while let Ok(message) = self.messages.try_recv() {
            if message.get("method").is_some() && message["sessionId"] == json!(self.session) {
                self.events.push(message);
            }
        }
    }

    /// Opens the file at `path` and waits for its load event; the logs start afresh.
    pub fn open(&mut self, path: &Path) {
        let path = path
            .canonicalize()
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
        let url = file_url(&path);
        self.open_url(&url);
    }

    /// Opens `url` and waits for its load event; the logs start afresh.
    pub fn open_url(&mut self, url: &str) {
        self.drain();
        self.events.clear();
        url.clone_into(&mut self.url);
        let answer = self.call("Page.navigate", json!({"url": url}));
        if let Some(error) = answer.get("errorText") {
            panic!("chromium cannot open {url}: {error}");
        }
        let deadline = Instant::now() + LOAD_LIMIT;
        let what = format!("the load of {url}");
        // The load event of this navigation: events before it were kept by `call`.
        let mut seen = self.events.len();
        loop {
            if self.events[seen..]
                .iter()
                .any(|e| e["method"] == "Page.loadEventFired")
            {
                break;
            }
            seen = self.events.len();
            self.next_message(deadline, &what);
        }
    }

    /// Evaluates `expression` in the page (promises awaited) and returns its value as JSON;
    /// panics with the exception when it throws.
    pub fn evaluate(&mut self, expression: &str) -> Value {
        let answer = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(details) = answer.get("exceptionDetails") {
            panic!("chromium: {expression} threw: {details}");
        }
        answer["result"]["value"].clone()
    }

    /// How many elements match `selector`, read through the DOM domain (so also with scripts
    /// disabled).
    pub fn count(&mut self, selector: &str) -> usize {
        let root = self.call("DOM.getDocument", json!({"depth": 0}));
        let found = self.call(
            "DOM.querySelectorAll",
            json!({"nodeId": root["root"]["nodeId"], "selector": selector}),
        );
        found["nodeIds"].as_array().map_or(0, Vec::len)
    }

    /// The outer HTML of the first element matching `selector`, read through the DOM domain;
    /// panics when there is none.
    pub fn outer_html(&mut self, selector: &str) -> String {
        let root = self.call("DOM.getDocument", json!({"depth": 0}));
        let found = self.call(
            "DOM.querySelector",
            json!({"nodeId": root["root"]["nodeId"], "selector": selector}),
        );
        let node = found["nodeId"].as_u64().unwrap_or(0);
        assert!(node != 0, "no element matches {selector:?} in {}", self.url);
        let html = self.call("DOM.getOuterHTML", json!({"nodeId": node}));
        html["outerHTML"].as_str().unwrap_or_default().to_owned()
    }

    /// Lets pages read and write the clipboard (`navigator.clipboard`) without asking.
    pub fn grant_clipboard(&mut self) {
        self.browser_call(
            "Browser.grantPermissions",
            json!({"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}),
        );
    }

    /// Turns the page's scripts off (or on again) for the next [`Browser::open`].
    pub fn set_scripts_disabled(&mut self, disabled: bool) {
        self.call(
            "Emulation.setScriptExecutionDisabled",
            json!({"value": disabled}),
        );
    }

    /// Clicks the middle of the first element matching `selector` with the mouse (scrolled
    /// into view first), as a person does.
    pub fn click(&mut self, selector: &str) {
        let quoted = serde_json::to_string(selector).unwrap();
        let at = self.evaluate(&format!(
            "(() => {{ const e = document.querySelector({quoted}); if (!e) return null; \
             e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); \
             return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        let (Some(x), Some(y)) = (at[0].as_f64(), at[1].as_f64()) else {
            panic!("no element matches {selector:?} in {}", self.url);
        };
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Focuses the first element matching `selector` and types `text` into it, one
    /// character (one `input` event) at a time.
    pub fn type_text(&mut self, selector: &str, text: &str) {
        let quoted = serde_json::to_string(selector).unwrap();
        let found = self.evaluate(&format!(
            "(() => {{ const e = document.querySelector({quoted}); if (!e) return false; \
             e.focus(); return document.activeElement === e; }})()"
        ));
        assert_eq!(
            found,
            json!(true),
            "cannot focus {selector:?} in {}",
            self.url
        );
        for c in text.chars() {
            self.call("Input.insertText", json!({"text": c.to_string()}));
        }
    }

    /// Clears the text of the input matching `selector` as a person does (select all, delete),
    /// which fires its `input` event.
    pub fn clear_text(&mut self, selector: &str) {
        let quoted = serde_json::to_string(selector).unwrap();
        self.evaluate(&format!(
            "(() => {{ const e = document.querySelector({quoted}); e.focus(); e.select(); }})()"
        ));
        for kind in ["rawKeyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": "Backspace", "code": "Backspace",
                       "windowsVirtualKeyCode": 8}),
            );
        }
    }

    /// The events named `method` since the last [`Browser::open`].
    fn events_named(&mut self, method: &str) -> Vec<Value> {
        self.drain();
        self.events
            .iter()
            .filter(|e| e["method"] == method)
            .map(|e| e["params"].clone())
            .collect()
    }

    /// Every request the page made since it was opened (`Network.requestWillBeSent`), but
    /// the page's own URL and `data:` URLs: a self-contained page has none. Requests a
    /// Content-Security-Policy blocked are listed too (the page tried).
    pub fn requests(&mut self) -> Vec<String> {
        let own = self.url.clone();
        self.events_named("Network.requestWillBeSent")
            .iter()
            .filter_map(|p| p["request"]["url"].as_str())
            .filter(|url| *url != own && !url.starts_with("data:"))
            .map(str::to_owned)
            .collect()
    }

    /// The page's errors since it was opened, one line each: `console.error` calls,
    /// uncaught exceptions, and the browser's log entries at level error (where
    /// Content-Security-Policy violations are reported).
    pub fn errors(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        self.drain();
        for event in &self.events {
            let p = &event["params"];
            match event["method"].as_str() {
                Some("Runtime.consoleAPICalled") if p["type"] == "error" => {
                    let args: Vec<String> = p["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| match a.get("value") {
                            Some(Value::String(s)) => s.clone(),
                            Some(v) => v.to_string(),
                            None => a["description"].as_str().unwrap_or("?").to_owned(),
                        })
                        .collect();
                    errors.push(format!("console.error: {}", args.join(" ")));
                }
                Some("Runtime.exceptionThrown") => {
                    let d = &p["exceptionDetails"];
                    let text = d["exception"]["description"]
                        .as_str()
                        .or_else(|| d["text"].as_str())
                        .unwrap_or("?");
                    errors.push(format!("uncaught exception: {text}"));
                }
                Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                    let e = &p["entry"];
                    errors.push(format!(
                        "log ({}): {} {}",
                        e["source"].as_str().unwrap_or("?"),
                        e["text"].as_str().unwrap_or("?"),
                        e["url"].as_str().unwrap_or("")
                    ));
                }
                _ => {}
            }
        }
        errors
    }

    /// The `securitypolicyviolation` events of the page since it was opened, as JSON text
    /// (`{"directive", "blocked", "sample"}`).
    pub fn csp_violations(&mut self) -> Vec<String> {
        self.events_named("Runtime.bindingCalled")
            .iter()
            .filter(|p| p["name"] == CSP_BINDING)
            .filter_map(|p| p["payload"].as_str().map(str::to_owned))
            .collect()
    }

    /// Writes a PNG of the whole page (up to 16,000 CSS pixels tall) to `path`. The window
    /// is made as tall as the page for the shot, so that sticky headers and lazily painted
    /// parts are where a reader scrolling down would see them.
    pub fn screenshot(&mut self, path: &Path) {
        let metrics = self.call("Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let width = size["width"].as_f64().unwrap_or(1280.0).ceil();
        let height = size["height"]
            .as_f64()
            .unwrap_or(800.0)
            .ceil()
            .min(MAX_SHOT_HEIGHT);
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        // Scrolled to the top, and one frame drawn at the new size.
        self.evaluate(
            "window.scrollTo(0, 0); new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))",
        );
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        self.call("Emulation.clearDeviceMetricsOverride", json!({}));
        let data = shot["data"].as_str().unwrap_or_default();
        let png = base64_decode(data)
            .unwrap_or_else(|| panic!("chromium: a screenshot that is not base64: {data:.40}"));
        std::fs::write(path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// The page's paint and navigation timing, once its first contentful paint is recorded
    /// (waiting up to 10 s for it).
    pub fn timing(&mut self) -> Timing {
        const SCRIPT: &str = "(() => { \
            const p = {}; for (const e of performance.getEntriesByType('paint')) p[e.name] = e.startTime; \
            const n = performance.getEntriesByType('navigation')[0]; \
            return {fp: p['first-paint'], fcp: p['first-contentful-paint'], \
                    dcl: n ? n.domContentLoadedEventEnd : null, load: n ? n.loadEventEnd : null}; })()";
        let started = Instant::now();
        loop {
            let t = self.evaluate(SCRIPT);
            let field = |name: &str| t[name].as_f64();
            if let (Some(fp), Some(fcp), Some(dcl), Some(load)) =
                (field("fp"), field("fcp"), field("dcl"), field("load"))
                && load > 0.0
            {
                return Timing {
                    first_paint: fp,
                    first_contentful_paint: fcp,
                    dom_content_loaded: dcl,
                    load,
                };
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "chromium: no paint timing for {} after 10 s: {t}",
                self.url
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: the renderer and helper processes as well as the browser.
        let group = format!("-{}", self.process.child().id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        self.process.kill();
    }
}

/// Chromium's flags: headless, a private profile, nothing that talks to the network by
/// itself, and `--no-sandbox` only as root (Chromium refuses to start as root otherwise).
fn flags(profile: &Path) -> Vec<String> {
    let mut flags: Vec<String> = [
        "--headless",
        "--remote-debugging-pipe",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-breakpad",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
        "--no-pings",
        "--mute-audio",
        "--hide-scrollbars",
        "--window-size=1280,900",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    flags.push(format!("--user-data-dir={}", profile.display()));
    if running_as_root() {
        flags.push("--no-sandbox".to_owned());
    }
    flags
}

/// Whether this process runs as root: the owner of `/proc/self` is its effective user.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The `file://` URL of the absolute `path`, with every byte but unreserved ones and `/`
/// percent-encoded.
pub fn file_url(path: &Path) -> String {
    use std::fmt::Write as _;
    use std::os::unix::ffi::OsStrExt as _;
    let mut url = String::from("file://");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            url.push(char::from(b));
        } else {
            let _ = write!(url, "%{b:02X}");
        }
    }
    url
}

/// Standard base64 (with padding) decoded; `None` on anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for quad in bytes.chunks(4) {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad;
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
        assert_eq!(base64_decode("aGV5").unwrap(), b"hey");
        assert_eq!(base64_decode("iVBORw0KGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
        assert_eq!(base64_decode("a GV5"), None);
        assert_eq!(base64_decode("aGV"), None);
    }

    #[test]
    fn file_urls_encode_what_a_url_cannot_hold() {
        assert_eq!(
            file_url(Path::new("/tmp/a b/r#1%.html")),
            "file:///tmp/a%20b/r%231%25.html"
        );
    }
}
