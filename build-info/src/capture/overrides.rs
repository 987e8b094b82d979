//! `BUILD_INFO_*` variables that force a fact, the way Go packagers use `-ldflags -X`.

use super::script::Script;
use crate::model::BuildFacts;
use crate::model::rfc3339_utc;

/// The override of the revision; also its `revision_source`, the name a container build
/// passes the revision under (build-info/README.md, "Docker").
const REVISION: &str = "BUILD_INFO_REVISION";

/// What the overrides changed that later steps must know.
pub(super) struct Applied {
    /// `BUILD_INFO_PROGRAM`: replaces the binary's own name in the generated code.
    pub program: Option<String>,
    /// The revision or tag was forced: git's `describe` no longer applies.
    pub revision_forced: bool,
    /// `BUILD_INFO_DESCRIBE` was set: keep it as it is.
    pub describe_forced: bool,
}

/// Applies every override that is set.
pub(super) fn apply(script: &mut Script, facts: &mut BuildFacts) -> Applied {
    let program = script.var("BUILD_INFO_PROGRAM");
    if let Some(p) = &program {
        facts.program.clone_from(p);
    }
    let time = |v: String| match v.parse::<i64>() {
        Ok(secs) => rfc3339_utc(secs),
        Err(_) => v,
    };
    let mut revision_forced = false;
    let mut revision_set = false;
    let mut describe_forced = false;
    let fields: [(&str, &mut String, bool); 15] = [
        ("BUILD_INFO_VERSION", &mut facts.version, false),
        (REVISION, &mut facts.revision, false),
        ("BUILD_INFO_BRANCH", &mut facts.branch, false),
        ("BUILD_INFO_TAG", &mut facts.tag, false),
        ("BUILD_INFO_DESCRIBE", &mut facts.describe, false),
        ("BUILD_INFO_COMMIT_TIME", &mut facts.commit_time, true),
        ("BUILD_INFO_BUILD_USER", &mut facts.build_user, false),
        ("BUILD_INFO_BUILD_DATE", &mut facts.build_date, true),
        ("BUILD_INFO_RUST_VERSION", &mut facts.rust_version, false),
        ("BUILD_INFO_RUST_COMMIT", &mut facts.rust_commit, false),
        ("BUILD_INFO_RUST_CHANNEL", &mut facts.rust_channel, false),
        ("BUILD_INFO_HOST", &mut facts.host, false),
        ("BUILD_INFO_TARGET", &mut facts.target, false),
        ("BUILD_INFO_PROFILE", &mut facts.profile, false),
        ("BUILD_INFO_OPT_LEVEL", &mut facts.opt_level, false),
    ];
    for (name, slot, is_time) in fields {
        if let Some(v) = script.var(name) {
            revision_forced |= matches!(name, "BUILD_INFO_REVISION" | "BUILD_INFO_TAG");
            revision_set |= name == REVISION;
            describe_forced |= name == "BUILD_INFO_DESCRIBE";
            *slot = if is_time { time(v) } else { v };
        }
    }
    if revision_set {
        // `BUILD_INFO_TAG` alone changes what `describe` says, not the revision or its source.
        REVISION.clone_into(&mut facts.revision_source);
    }
    if let Some(list) = script.var("BUILD_INFO_FEATURES") {
        facts.features = list
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        facts.features.sort();
    }
    if let Some(m) = script.var("BUILD_INFO_MODIFIED") {
        facts.modified = match m.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => {
                script.problem(format!(
                    "BUILD_INFO_MODIFIED={m:?} is neither true nor false"
                ));
                None
            }
        };
    }
    Applied {
        program,
        revision_forced,
        describe_forced,
    }
}
