#![doc = include_str!("../README.md")]

// The layers, each importing only those below it:
// - `http_server`: the one HTTP server of both programs (bounds, slots, signals), on tokio
//   and hyper; each passes its routes;
// - `exporter` and `catalog`, each a program's work over cargo-depinfo's library (the binary
//   reader, the model, the HTTP client, the Prometheus API);
// - `flags`: the command-line flags both programs share;
// - the binaries (src/bin), which parse, run and turn errors into exit codes.

// `depinfo-catalog`: a namespace of its own (its server handles Unix signals).
#[cfg(unix)]
pub mod catalog;
// `depinfo-exporter` (Linux: it reads /proc): a namespace of its own.
#[cfg(target_os = "linux")]
pub mod exporter;
pub mod flags;
#[cfg(unix)]
mod http_server;
