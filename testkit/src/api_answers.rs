//! Prometheus HTTP API answers for a synthetic fleet, as the benchmarks serve them.

use crate::http_server::{Reply, Server};

/// The two answers a real Prometheus gives for `rust_mod_info` and for `*_build_info` over a
/// fleet of `instances` instances of `programs` programs (`service-N`), each with `crates`
/// crates (`crate-NNN`) at a few versions per crate (`1.{c % 4}.{(i + c) % 3}`).
pub fn fleet_answers(instances: usize, crates: usize, programs: usize) -> (String, String) {
    let mut mod_info = Vec::new();
    let mut build_info = Vec::new();
    for i in 0..instances {
        let instance = format!("10.{}.{}.{}:8080", i / 65_536, (i / 256) % 256, i % 256);
        let program = format!("service-{}", i % programs);
        for c in 0..crates {
            mod_info.push(serde_json::json!({
                "metric": {"__name__": "rust_mod_info", "direct": "true", "instance": instance,
                           "job": "fleet", "name": format!("crate-{c:03}"), "program": program,
                           "source": "crates.io", "version": format!("1.{}.{}", c % 4, (i + c) % 3)},
                "value": [1_763_770_000.123, "1"]
            }));
        }
        build_info.push(serde_json::json!({
            "metric": {"__name__": format!("service_{}_build_info", i % programs), "instance": instance,
                       "job": "fleet", "revision": format!("{:040x}", i % 3),
                       "rustversion": "1.95.0", "version": "1.0.0"},
            "value": [1_763_770_000.123, "1"]
        }));
    }
    let wrap = |result: Vec<serde_json::Value>| {
        serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": result}})
            .to_string()
    };
    (wrap(mod_info), wrap(build_info))
}

/// A fake Prometheus HTTP API on loopback serving [`fleet_answers`]: `mod_info` for a query
/// about `rust_mod_info`, `build_info` for any other.
pub fn fleet_api(mod_info: String, build_info: String) -> Server {
    Server::start(move |target| {
        let body = if target.contains("query=rust_mod_info") {
            &mod_info
        } else {
            &build_info
        };
        Reply::ok("application/json", body.as_bytes())
    })
}

/// An instant-vector answer: `foreign` series of another metric (`http_requests_total`, each
/// with `name` and `version` labels, as a careless or hostile server could send), then the
/// sample objects `ours` gives (JSON objects, written as they are).
pub fn answer_with_foreign(foreign: usize, ours: impl IntoIterator<Item = String>) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(foreign * 230 + 200_000);
    out.push_str(r#"{"status":"success","data":{"resultType":"vector","result":["#);
    for n in 0..foreign {
        let _ = write!(
            out,
            r#"{{"metric":{{"__name__":"http_requests_total","instance":"10.0.{}.{}:8080","job":"web","name":"route-{n}","version":"1.0.{n}","code":"200"}},"value":[1763770000.123,"{n}"]}},"#,
            n / 256 % 256,
            n % 256
        );
    }
    for (n, sample) in ours.into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&sample);
    }
    out.push_str("]}}");
    out
}
