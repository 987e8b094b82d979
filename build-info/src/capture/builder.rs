//! The build-script entry points: [`emit`] and the [`Builder`] behind it.

use std::path::PathBuf;

use super::script::Script;
use super::{context, graph, outputs, overrides, toolchain, vcs};
use crate::model::UNKNOWN;
use crate::model::{BuildFacts, Graph};

/// Captures everything with the default options. Same as `Builder::new().emit()`.
pub fn emit() {
    Builder::new().emit();
}

/// Options for the build side.
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    strict: bool,
    git: bool,
    dependencies: bool,
    checksums: bool,
    build_user: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            strict: false,
            git: true,
            dependencies: true,
            checksums: false,
            build_user: true,
        }
    }
}

impl Builder {
    /// Default options: everything captured, failures become warnings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fail the build instead of warning when a fact cannot be captured (an unknown revision,
    /// a failed dependency graph). For release pipelines. Also `BUILD_INFO_STRICT=1`.
    pub fn strict(mut self, on: bool) -> Self {
        self.strict = on;
        self
    }

    /// Read the revision, branch, tag, description and dirty state (default on).
    pub fn git(mut self, on: bool) -> Self {
        self.git = on;
        self
    }

    /// Capture the dependency graph and embed `.dep-v0` (default on).
    pub fn dependencies(mut self, on: bool) -> Self {
        self.dependencies = on;
        self
    }

    /// Embed Cargo.lock checksums in `.bldinfo` (default off: 32 bytes of entropy each, ~14.6 KB
    /// for 300 packages; the run-side table never holds them).
    pub fn checksums(mut self, on: bool) -> Self {
        self.checksums = on;
        self
    }

    /// Record `user@host` (default on; off writes `unknown`, for builds that must not say who
    /// ran them).
    pub fn build_user(mut self, on: bool) -> Self {
        self.build_user = on;
        self
    }

    /// Captures, writes the generated files into `OUT_DIR` and prints the `cargo:` lines.
    ///
    /// # Panics
    ///
    /// Only in strict mode, when something could not be captured, or when `OUT_DIR` is not
    /// set (it is not running as a build script).
    pub fn emit(self) {
        let out_dir =
            PathBuf::from(std::env::var_os("OUT_DIR").expect(
                "buildinfo::capture::emit must run from a build script (OUT_DIR is not set)",
            ));
        let mut script = Script::new(out_dir, self.strict);
        self.run(&mut script);
        script.finish();
    }

    /// The facts besides the graph: revision, toolchain, who and when, overrides.
    fn facts(
        &self,
        script: &mut Script,
        manifest_dir: &std::path::Path,
        facts: &mut BuildFacts,
    ) -> overrides::Applied {
        if self.git {
            vcs::capture(script, manifest_dir, facts);
        }
        let describe_from_git = facts.describe != UNKNOWN;
        script.note("vcs");
        toolchain::capture(script, facts);
        script.note("toolchain");
        context::capture(script, self.build_user, facts);
        let applied = overrides::apply(script, facts);
        if !applied.describe_forced {
            vcs::finish_describe(facts, describe_from_git && !applied.revision_forced);
        }
        if facts.revision == UNKNOWN {
            // Whatever named it (an override or a CI variable set to `unknown`), no revision
            // has no source.
            UNKNOWN.clone_into(&mut facts.revision_source);
        }
        if self.git && facts.revision == UNKNOWN {
            script.problem(
                "revision unknown: no git repository, CI variable or .cargo_vcs_info.json".into(),
            );
        }
        applied
    }

    /// Each concern in turn; each step reads what it needs through `script`, which records
    /// it for the rerun lines.
    fn run(&self, script: &mut Script) {
        if script
            .var("BUILD_INFO_STRICT")
            .is_some_and(|v| v != "0" && v != "false")
        {
            script.strict = true;
        }
        let manifest_dir = PathBuf::from(script.var("CARGO_MANIFEST_DIR").unwrap_or_default());
        let mut facts = BuildFacts {
            program: script
                .var("CARGO_PKG_NAME")
                .unwrap_or_else(|| UNKNOWN.into()),
            version: script
                .var("CARGO_PKG_VERSION")
                .unwrap_or_else(|| UNKNOWN.into()),
            ..BuildFacts::default()
        };
        // The graph's cargo runs beside the other steps: it only needs cargo's variables.
        let graph_inputs = self.dependencies.then(|| {
            let features = toolchain::features(script);
            graph::cache::prepare(script, &manifest_dir, features)
        });
        let (computed, applied) = std::thread::scope(|s| {
            let computing = graph_inputs
                .as_ref()
                .map(|inputs| s.spawn(move || graph::cache::compute(inputs)));
            let applied = self.facts(script, &manifest_dir, &mut facts);
            let computed = computing.map(|c| {
                c.join()
                    .unwrap_or_else(|_| graph::cache::Computed::panicked())
            });
            (computed, applied)
        });
        let graph = match (graph_inputs, computed) {
            (Some(inputs), Some(computed)) => {
                let mut graph = graph::cache::finish(script, inputs, computed, &mut facts);
                if vcs::in_cargo_checkout(script, &manifest_dir) {
                    // cargo tree names the checkout by its path; cargo itself took it from
                    // git (the checkout keeps no URL, so none is recorded).
                    graph.mark_local_as_git();
                }
                graph
            }
            _ => {
                script.note("graph: disabled");
                Graph::default()
            }
        };
        outputs::write(
            script,
            &facts,
            &graph,
            applied.program.as_deref(),
            self.checksums,
        );
        script.note("written");
    }
}
