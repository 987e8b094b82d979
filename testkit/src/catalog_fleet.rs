//! What the catalog's tests share: the real `depinfo-catalog` started on a port it
//! picks, its stderr kept line by line, and fake instances that publish `rust_build_info` and
//! serve (or lie about) their dependency lists, on a page a test may change ([`Page`]).

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::child::Running;
use crate::http_server::{EXPOSITION, Reply, Server};

/// The stderr lines of a running catalog, as they arrive.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    /// Every line so far.
    pub fn all(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until a line holds every one of `parts`; panics with every line after `limit`.
    #[track_caller]
    pub fn wait_for(&self, parts: &[&str], limit: Duration) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self
                .all()
                .into_iter()
                .find(|l| parts.iter().all(|p| l.contains(p)))
            {
                return line;
            }
            assert!(
                started.elapsed() < limit,
                "no stderr line with {parts:?} within {limit:?}:\n{}",
                self.all().join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Starts `cmd ARGS` (`cmd`: the `depinfo-catalog` binary) with stdin and stdout
/// on `/dev/null`, and waits (at most 60 s) for the address it announces on stderr. Returns
/// its guard (killed on drop), that address, and its stderr lines (kept as they come).
pub fn start_catalog<S: AsRef<std::ffi::OsStr>>(
    mut cmd: Command,
    args: impl IntoIterator<Item = S>,
) -> (Running, String, Lines) {
    let mut catalog = Running::spawn(
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let stderr = catalog
        .child()
        .stderr
        .take()
        .expect("the catalog's stderr is piped");
    let lines = Lines::default();
    let kept = lines.clone();
    let (addr_tx, addr_rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.strip_prefix("cargo-depinfo catalog listening on ") {
                let _ = addr_tx.send(addr.trim().to_owned());
            }
            kept.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line);
        }
    });
    let addr = match addr_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(addr) => addr,
        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => panic!(
            "the catalog announced no address:\n{}",
            lines.all().join("\n")
        ),
    };
    (catalog, addr, lines)
}

/// A fake instance on `listener`: `/metrics` is `metrics` (the text format), each
/// `/deps/<digest>` of `lists` answers its body as it is (honest or not), anything else 404.
pub fn fake_instance(
    listener: TcpListener,
    metrics: String,
    lists: Vec<(String, Vec<u8>)>,
) -> Server {
    fake_instance_with_page(listener, &Page::new(metrics), lists)
}

/// The `/metrics` page of a fake instance, which a test can change while it runs (a new
/// build, digests that go).
#[derive(Clone, Default)]
pub struct Page(Arc<Mutex<String>>);

impl Page {
    /// A page holding `text`.
    pub fn new(text: String) -> Page {
        Page(Arc::new(Mutex::new(text)))
    }

    /// Serves `text` from now on.
    pub fn set(&self, text: String) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = text;
    }
}

/// [`fake_instance`] whose `/metrics` is what `page` holds at each request.
pub fn fake_instance_with_page(
    listener: TcpListener,
    page: &Page,
    lists: Vec<(String, Vec<u8>)>,
) -> Server {
    let page = page.clone();
    Server::start_on(listener, move |path| {
        if path == "/metrics" {
            let text = page
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            return Reply::ok(EXPOSITION, text);
        }
        lists
            .iter()
            .find(|(digest, _)| path.strip_prefix("/deps/") == Some(digest.as_str()))
            .map_or_else(Reply::not_found, |(_, body)| {
                Reply::ok("text/plain; charset=utf-8", body.clone())
            })
    })
}

/// Sends SIGTERM to `child` and waits (at most 10 s) for its exit: whether it exited 0.
pub fn terminate(child: &mut Running) -> bool {
    let pid = child.child().id().to_string();
    let sent = crate::child::run(
        Command::new("kill").args(["-TERM", &pid]),
        Duration::from_secs(10),
    );
    assert!(sent.status.success(), "kill -TERM {pid} failed");
    child.wait(Duration::from_secs(10)).success()
}

/// A Prometheus ([`crate::start_prometheus`]) for a catalog test, its configuration and data
/// in `dir`: every second it scrapes the `fleet` targets (job `fleet`), the `jobs` (more
/// entries of `scrape_configs`, as YAML), and the catalog that is to listen at `catalog` (job
/// `catalog`). Returns its guard and address.
pub fn start_catalog_prometheus(
    dir: &std::path::Path,
    fleet: &[&str],
    jobs: &str,
    catalog: &str,
) -> (Running, String) {
    let config = dir.join("prometheus.yml");
    let fleet = fleet.join("', '");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: fleet\n    static_configs:\n      - targets: ['{fleet}']\n{jobs}  - job_name: catalog\n    static_configs:\n      - targets: ['{catalog}']\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", config.display()));
    crate::fleet::start_prometheus(&config, &dir.join("data"))
}
