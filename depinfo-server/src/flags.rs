//! The command-line flags both programs share: the bounds of the one HTTP server they serve
//! through.

use std::time::Duration;

use clap::Args;

/// The bounds of the one HTTP server the exporter and the catalog serve through.
#[derive(Debug, Args)]
pub struct ServerFlags {
    /// Connections open at once. When all are taken, a newcomer takes the slot of the
    /// connection that has waited longest for a request head (an idle or slow client), or of
    /// one whose client has taken none of its answer for a second or has taken longer than
    /// --header-read-timeout.
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_connections: u64,
    /// Seconds a client may take to send a request's head (a silent connection is closed
    /// after that), and to take an answer before its slot may go to a newcomer.
    #[arg(long, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout: u64,
}

impl ServerFlags {
    /// The connections allowed at once.
    pub fn max_connections(&self) -> usize {
        usize::try_from(self.max_connections).unwrap_or(usize::MAX)
    }

    /// The time allowed for a request head.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout)
    }
}
