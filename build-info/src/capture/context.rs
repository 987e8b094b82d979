//! Who built the program and when.

use std::process::Command;
use std::time::{Duration, SystemTime};

use super::process;
use super::script::Script;
use crate::model::BuildFacts;
use crate::model::UNKNOWN;
use crate::model::rfc3339_utc;

/// Fills `build_user` (when `record_user`) and `build_date` (`SOURCE_DATE_EPOCH` first).
pub(super) fn capture(script: &mut Script, record_user: bool, facts: &mut BuildFacts) {
    if record_user {
        facts.build_user = build_user(script);
    }
    facts.build_date = match script.var("SOURCE_DATE_EPOCH") {
        Some(s) => match s.trim().parse::<i64>() {
            Ok(secs) => rfc3339_utc(secs),
            Err(_) => {
                script.problem(format!(
                    "SOURCE_DATE_EPOCH={s:?} is not a number of seconds"
                ));
                UNKNOWN.into()
            }
        },
        None => {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
            rfc3339_utc(now)
        }
    };
}

fn build_user(script: &mut Script) -> String {
    let user = script
        .var("USER")
        .or_else(|| script.var("USERNAME"))
        .or_else(|| script.var("LOGNAME"))
        .or_else(|| {
            // Containers often run without USER set: ask the system.
            process::run(Command::new("id").arg("-un"), Duration::from_secs(5))
                .ok()
                .filter(|o| o.success)
                .map(|o| o.stdout.trim().to_owned())
                .filter(|u| !u.is_empty())
        });
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| script.var("HOSTNAME"))
        .or_else(|| script.var("COMPUTERNAME"));
    match (user, host) {
        (Some(u), Some(h)) => format!("{u}@{h}"),
        (Some(u), None) => u,
        (None, Some(h)) => format!("{UNKNOWN}@{h}"),
        (None, None) => UNKNOWN.into(),
    }
}
