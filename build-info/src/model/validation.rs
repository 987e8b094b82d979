//! The rules every graph obeys, checked in one place for what the build side writes and for
//! what readers decode: as strict as auditable-serde, plus exactly one root.

use std::fmt;

use super::graph::Graph;

/// Why a graph breaks the format's rules. Package numbers are indices into the list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidationError {
    /// A package without a name.
    EmptyName {
        /// Index of the package.
        package: usize,
    },
    /// A version that is not SemVer.
    Version {
        /// Index of the package.
        package: usize,
        /// Its name.
        name: String,
        /// The version as written.
        version: String,
    },
    /// A dependency index past the end of the list.
    DependencyOutOfRange {
        /// Index of the package.
        package: usize,
        /// The index it names.
        dependency: usize,
    },
    /// A package that lists itself as a dependency.
    SelfDependency {
        /// Index of the package.
        package: usize,
    },
    /// A package that depends on itself through other packages.
    Cycle {
        /// Index of the lowest-numbered package on a cycle.
        package: usize,
    },
    /// A non-empty graph with no root.
    NoRoot,
    /// More than one package marked as the root.
    MultipleRoots {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationError::EmptyName { package } => write!(f, "package {package}: empty name"),
            ValidationError::Version {
                package,
                name,
                version,
            } => write!(
                f,
                "package {package}: version {version:?} of {name} is not SemVer"
            ),
            ValidationError::DependencyOutOfRange {
                package,
                dependency,
            } => write!(
                f,
                "package {package}: dependency index {dependency} is out of range"
            ),
            ValidationError::SelfDependency { package } => {
                write!(f, "package {package}: depends on itself")
            }
            ValidationError::Cycle { package } => {
                write!(f, "package {package}: is on a dependency cycle")
            }
            ValidationError::NoRoot => f.write_str("no package is marked as the root"),
            ValidationError::MultipleRoots { count } => {
                write!(f, "{count} packages are marked as the root")
            }
        }
    }
}

impl std::error::Error for ValidationError {}

impl Graph {
    /// Checks the format's rules: names non-empty, versions SemVer, dependency indices in
    /// range, no package depending on itself directly or through others, and exactly one
    /// root (an empty graph, "not captured", has none).
    pub fn validate(&self) -> Result<(), ValidationError> {
        let len = self.packages.len();
        for (i, p) in self.packages.iter().enumerate() {
            if p.name.is_empty() {
                return Err(ValidationError::EmptyName { package: i });
            }
            if !is_semver(&p.version) {
                return Err(ValidationError::Version {
                    package: i,
                    name: p.name.clone(),
                    version: p.version.clone(),
                });
            }
            for &d in &p.dependencies {
                if d == i {
                    return Err(ValidationError::SelfDependency { package: i });
                }
                if d >= len {
                    return Err(ValidationError::DependencyOutOfRange {
                        package: i,
                        dependency: d,
                    });
                }
            }
        }
        match self.packages.iter().filter(|p| p.root).count() {
            0 if len > 0 => return Err(ValidationError::NoRoot),
            0 | 1 => {}
            count => return Err(ValidationError::MultipleRoots { count }),
        }
        match first_on_cycle(self) {
            Some(package) => Err(ValidationError::Cycle { package }),
            None => Ok(()),
        }
    }
}

/// Depth-first search with three colours: an edge into a package still on the stack closes
/// a cycle. Two allocations whatever the size, since every decoded graph goes through here;
/// only a graph that has a cycle pays for finding the lowest package on one.
fn first_on_cycle(graph: &Graph) -> Option<usize> {
    const NEW: u8 = 0;
    const ON_STACK: u8 = 1;
    const DONE: u8 = 2;
    let len = graph.packages.len();
    let mut colour = vec![NEW; len];
    // (package, index of the next dependency to follow)
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut cyclic = false;
    'roots: for start in 0..len {
        if colour[start] != NEW {
            continue;
        }
        colour[start] = ON_STACK;
        stack.push((start, 0));
        while let Some(top) = stack.last_mut() {
            let (at, next) = *top;
            match graph.packages[at].dependencies.get(next) {
                Some(&d) => {
                    top.1 += 1;
                    match colour[d] {
                        NEW => {
                            colour[d] = ON_STACK;
                            stack.push((d, 0));
                        }
                        ON_STACK => {
                            cyclic = true;
                            break 'roots;
                        }
                        _ => {}
                    }
                }
                None => {
                    colour[at] = DONE;
                    stack.pop();
                }
            }
        }
    }
    if !cyclic {
        return None;
    }
    // The lowest package that can reach itself.
    (0..len).find(|&i| {
        graph.packages[i]
            .dependencies
            .iter()
            .any(|&d| reaches(graph, d, i))
    })
}

/// Whether `to` is reachable from `from`.
fn reaches(graph: &Graph, from: usize, to: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = vec![false; graph.packages.len()];
    while let Some(i) = stack.pop() {
        if i == to {
            return true;
        }
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        stack.extend(graph.packages[i].dependencies.iter().copied());
    }
    false
}

/// SemVer 2.0 syntax: `MAJOR.MINOR.PATCH[-PRE][+BUILD]`, numbers without leading zeros,
/// identifiers of ASCII alphanumerics and `-`, numeric pre-release identifiers without
/// leading zeros.
fn is_semver(version: &str) -> bool {
    let (rest, build) = match version.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let numeric = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    let identifier =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| numeric(p))
        && pre.is_none_or(|p| {
            p.split('.').all(|id| {
                identifier(id) && (!id.bytes().all(|b| b.is_ascii_digit()) || numeric(id))
            })
        })
        && build.is_none_or(|b| b.split('.').all(identifier))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Package, Source};

    fn graph(edges: &[&[usize]], root: usize) -> Graph {
        Graph {
            packages: edges
                .iter()
                .enumerate()
                .map(|(i, deps)| Package {
                    root: i == root,
                    dependencies: deps.to_vec(),
                    ..Package::new(format!("p{i}"), "1.0.0", Source::CratesIo)
                })
                .collect(),
        }
    }

    fn error(g: &Graph) -> String {
        g.validate().unwrap_err().to_string()
    }

    #[test]
    fn accepts_a_dag_with_one_root_and_the_empty_graph() {
        assert_eq!(graph(&[&[1, 2], &[2], &[]], 0).validate(), Ok(()));
        assert_eq!(Graph::default().validate(), Ok(()));
    }

    #[test]
    fn rejects_each_broken_rule_with_its_own_message() {
        assert_eq!(
            error(&graph(&[&[5]], 0)),
            "package 0: dependency index 5 is out of range"
        );
        assert_eq!(
            error(&graph(&[&[1], &[1]], 0)),
            "package 1: depends on itself"
        );
        assert_eq!(
            error(&graph(&[&[1], &[2], &[3], &[1]], 0)),
            "package 1: is on a dependency cycle"
        );
        assert_eq!(
            error(&graph(&[&[2], &[], &[0]], 1)),
            "package 0: is on a dependency cycle"
        );
        assert_eq!(
            error(&graph(&[&[], &[]], 9)),
            "no package is marked as the root"
        );
        let mut two = graph(&[&[], &[]], 0);
        two.packages[1].root = true;
        assert_eq!(error(&two), "2 packages are marked as the root");
        let mut unnamed = graph(&[&[]], 0);
        unnamed.packages[0].name.clear();
        assert_eq!(error(&unnamed), "package 0: empty name");
        let mut bad = graph(&[&[]], 0);
        bad.packages[0].version = "one".into();
        assert_eq!(
            error(&bad),
            "package 0: version \"one\" of p0 is not SemVer"
        );
    }

    #[test]
    fn a_package_that_only_reaches_a_cycle_is_not_blamed() {
        // 0 -> 1 -> 2 -> 1: 0 depends on the cycle but is not on it.
        assert_eq!(
            graph(&[&[1], &[2], &[1]], 0).validate(),
            Err(ValidationError::Cycle { package: 1 })
        );
    }

    #[test]
    fn semver_syntax() {
        for ok in [
            "0.0.0",
            "1.10.0",
            "1.0.0-alpha.1",
            "1.0.0-0a",
            "1.0.0+build.5",
            "1.0.0-rc-1+x",
        ] {
            assert!(is_semver(ok), "{ok}");
        }
        for bad in [
            "",
            "1",
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.0.0-",
            "1.0.0-01",
            "1.0.0+",
            "1.0.0-a..b",
            "1.a.0",
            "v1.0.0",
            "1.0.0-é",
        ] {
            assert!(!is_semver(bad), "{bad}");
        }
    }
}
