//! The browser driver against pages of its own: each check it offers the report's tests is
//! shown to catch what it is for (a request, a console error, an exception, a CSP violation,
//! a script that should not run), and to stay quiet on a page that does none of these.

use std::process::{Command, Stdio};

use serde_json::json;
use testkit::{Browser, Reply, Scratch, Server};

/// A page that does nothing wrong: its script (allowed by hash-less CSP, none given) marks
/// the body, a button adds a row, an input echoes what is typed.
const QUIET: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>quiet</title></head>
<body><h1>Quiet</h1><table><tbody><tr data-row><td>a</td></tr></tbody></table>
<button type="button" id="add">Add</button><input type="search" id="q">
<p id="echo"></p>
<script>
document.body.dataset.ran = "yes";
document.getElementById("add").addEventListener("click", () => {
  const tr = document.createElement("tr"); tr.dataset.row = ""; tr.textContent = "b";
  document.querySelector("tbody").append(tr);
});
let inputs = 0;
document.getElementById("q").addEventListener("input", (e) => {
  inputs += 1; document.getElementById("echo").textContent = e.target.value + " " + inputs;
});
</script></body></html>
"#;

fn write(scratch: &Scratch, name: &str, html: &str) -> std::path::PathBuf {
    let path = scratch.join(name);
    std::fs::write(&path, html).unwrap();
    path
}

#[test]
fn each_check_of_the_driver_catches_what_it_is_for() {
    let scratch = Scratch::new("browser-driver");
    let server = Server::fixed(Reply::ok("image/png", "x"));
    let mut browser = Browser::start(&scratch);

    // A quiet page: no request, no error, no violation; its script ran; clicks and typing
    // reach it as events.
    browser.open(&write(&scratch, "quiet.html", QUIET));
    assert_eq!(browser.requests(), Vec::<String>::new());
    assert_eq!(browser.errors(), Vec::<String>::new());
    assert_eq!(browser.csp_violations(), Vec::<String>::new());
    assert_eq!(browser.evaluate("document.body.dataset.ran"), json!("yes"));
    assert_eq!(browser.count("tr[data-row]"), 1);
    browser.click("#add");
    assert_eq!(browser.count("tr[data-row]"), 2);
    browser.type_text("#q", "héllo");
    assert_eq!(
        browser.evaluate("document.getElementById('echo').textContent"),
        json!("héllo 5")
    );
    browser.clear_text("#q");
    assert_eq!(
        browser.evaluate("document.getElementById('echo').textContent"),
        json!(" 6")
    );
    let timing = browser.timing();
    assert!(
        timing.first_contentful_paint > 0.0 && timing.load >= timing.dom_content_loaded,
        "{timing:?}"
    );
    let shot = scratch.join("quiet.png");
    browser.screenshot(&shot);
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");

    // An image from the network: the log has the request, and the server saw it.
    let url = server.url("/x");
    browser.open(&write(
        &scratch,
        "request.html",
        &format!("<!doctype html><p>x</p><img src=\"{url}\" alt=\"\">"),
    ));
    assert_eq!(browser.requests(), std::slice::from_ref(&url));
    assert_eq!(server.requests().len(), 1, "{:?}", server.requests());

    // The same image under a CSP that forbids it: a violation event and a logged error,
    // and no request reaches the server.
    browser.open(&write(
        &scratch,
        "csp.html",
        &format!(
            "<!doctype html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"><p>x</p><img src=\"{url}\" alt=\"\">"
        ),
    ));
    browser.evaluate("new Promise((done) => setTimeout(done, 100))");
    let violations = browser.csp_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("img-src"), "{violations:?}");
    let errors = browser.errors();
    assert!(
        errors.iter().any(|e| e.contains("Content Security Policy")),
        "{errors:?}"
    );
    assert_eq!(server.requests().len(), 1, "{:?}", server.requests());

    // A console error and an uncaught exception.
    browser.open(&write(
        &scratch,
        "errors.html",
        "<!doctype html><p>x</p><script>console.error('bad', 42); null.boom;</script>",
    ));
    let errors = browser.errors();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0], "console.error: bad 42");
    assert!(
        errors[1].starts_with("uncaught exception: TypeError"),
        "{errors:?}"
    );

    // Scripts disabled: the page's script does not run, the DOM is still read.
    browser.set_scripts_disabled(true);
    browser.open(&scratch.join("quiet.html"));
    assert_eq!(browser.count("body[data-ran]"), 0);
    assert_eq!(browser.count("tr[data-row]"), 1);
    browser.set_scripts_disabled(false);
    browser.open(&scratch.join("quiet.html"));
    assert_eq!(browser.count("body[data-ran]"), 1);
}

#[test]
fn a_dropped_browser_leaves_no_process_behind() {
    let scratch = Scratch::new("browser-drop");
    let mut browser = Browser::start(&scratch);
    browser.open(&write(&scratch, "quiet.html", QUIET));
    let group = browser.process_group();
    let members = || {
        let out = Command::new("pgrep")
            .args(["-g", &group.to_string()])
            .stderr(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    // The browser, its renderer and its helpers.
    assert!(members() >= 2, "{} processes in group {group}", members());
    drop(browser);
    let started = std::time::Instant::now();
    while members() > 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{} processes of group {group} still run",
            members()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
