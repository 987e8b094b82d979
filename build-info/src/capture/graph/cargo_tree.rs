//! Reading `cargo tree --format {p}|{f}` output: one occurrence per line, with its depth,
//! parent and edge kind, and the `{p}` text split into name, version and source. Output with
//! several roots (`--workspace`, several `-p`) is read whole, and [`subtree`] takes one
//! root's part out of it.

use std::collections::{BTreeMap, BTreeSet};

use super::GraphError;
use crate::model::{GitOrigin, Source};

/// One line of the tree.
#[derive(Debug, Clone)]
pub(super) struct Occurrence {
    pub(super) depth: usize,
    /// Index of the parent occurrence.
    pub(super) parent: Option<usize>,
    /// Reached from its parent through a build-dependency edge.
    pub(super) build_edge: bool,
    /// Reached from its parent through a dev-dependency edge (`-e dev`).
    // Read by the build side's workspace resolution only (feature `build`).
    #[cfg_attr(not(feature = "build"), allow(dead_code))]
    pub(super) dev_edge: bool,
    /// `{p}` text: identifies the package.
    pub(super) package: String,
    /// `{p}|{f}` text: identifies the node (a package with one feature set).
    pub(super) node: String,
}

pub(super) fn parse_tree(output: &str) -> Result<Vec<Occurrence>, GraphError> {
    let mut occurrences: Vec<Occurrence> = Vec::new();
    // stack[d] = index of the latest occurrence at depth d; build[d] = children of stack[d]
    // are currently under a [build-dependencies] header (dev[d]: [dev-dependencies]).
    let mut stack: Vec<usize> = Vec::new();
    let mut build: Vec<bool> = Vec::new();
    let mut dev: Vec<bool> = Vec::new();
    for line in output.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let (depth, rest) = strip_prefix_units(line);
        if let Some(header) = rest.strip_prefix('[') {
            // A header after n units introduces the children (at depth n + 1) of the
            // occurrence at depth n.
            if build.len() <= depth {
                build.resize(depth + 1, false);
                dev.resize(depth + 1, false);
            }
            build[depth] = header.starts_with("build-dependencies");
            dev[depth] = header.starts_with("dev-dependencies");
            continue;
        }
        // `(*)`: the children were printed at the node's first occurrence.
        let rest = rest.strip_suffix(" (*)").unwrap_or(rest);
        let package = match rest.rfind('|') {
            Some(i) => &rest[..i],
            None => rest,
        };
        if !package.contains(" v") {
            return Err(GraphError::Parse(format!("unexpected line {line:?}")));
        }
        stack.truncate(depth);
        build.truncate(depth + 1);
        dev.truncate(depth + 1);
        let parent = if depth == 0 {
            None
        } else {
            stack.last().copied()
        };
        if depth > 0 && parent.is_none() {
            return Err(GraphError::Parse(format!("line without parent: {line:?}")));
        }
        let build_edge = depth > 0 && build.get(depth - 1).copied().unwrap_or(false);
        let dev_edge = depth > 0 && dev.get(depth - 1).copied().unwrap_or(false);
        occurrences.push(Occurrence {
            depth,
            parent,
            build_edge,
            dev_edge,
            package: package.to_owned(),
            node: rest.to_owned(),
        });
        stack.push(occurrences.len() - 1);
        if build.len() <= depth {
            build.resize(depth + 1, false);
            dev.resize(depth + 1, false);
        }
        build[depth] = false;
        dev[depth] = false;
    }
    if occurrences.is_empty() {
        return Err(GraphError::Parse("no packages in cargo tree output".into()));
    }
    Ok(occurrences)
}

/// The `{p}` texts of the roots (one per tree), in order.
pub(super) fn roots(occurrences: &[Occurrence]) -> Vec<&str> {
    occurrences
        .iter()
        .filter(|o| o.depth == 0)
        .map(|o| o.package.as_str())
        .collect()
}

/// The tree of the root `root` (its `{p}` text) alone, as if `cargo tree` had printed only
/// that root, without dev-dependency edges (they are not linked into the program).
///
/// `(*)` marks a node whose children were printed at its first occurrence, which may be under
/// another root: children are therefore looked up by node (`{p}|{f}`) across all the trees,
/// and each node is expanded once, at its first occurrence in the result. `None` when no root
/// is `root`.
// The build side's workspace resolution is its only user (feature `build`).
#[cfg_attr(not(feature = "build"), allow(dead_code))]
pub(super) fn subtree(occurrences: &[Occurrence], root: &str) -> Option<Vec<Occurrence>> {
    let start = occurrences
        .iter()
        .position(|o| o.depth == 0 && o.package == root)?;
    let mut children: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, o) in occurrences.iter().enumerate() {
        if let Some(p) = o.parent {
            children
                .entry(occurrences[p].node.as_str())
                .or_default()
                .push(i);
        }
    }
    let mut out: Vec<Occurrence> = Vec::new();
    let mut expanded: BTreeSet<&str> = BTreeSet::new();
    // Depth-first, children in printed order: (source occurrence, parent in `out`).
    let mut stack: Vec<(usize, Option<usize>)> = vec![(start, None)];
    while let Some((i, parent)) = stack.pop() {
        let o = &occurrences[i];
        let depth = parent.map_or(0, |p| out[p].depth + 1);
        out.push(Occurrence {
            depth,
            parent,
            build_edge: parent.is_some() && o.build_edge,
            dev_edge: false,
            package: o.package.clone(),
            node: o.node.clone(),
        });
        let here = out.len() - 1;
        if expanded.insert(o.node.as_str()) {
            for &c in children.get(o.node.as_str()).into_iter().flatten().rev() {
                if !occurrences[c].dev_edge {
                    stack.push((c, Some(here)));
                }
            }
        }
    }
    Some(out)
}

/// Strips the ASCII tree drawing (`|-- `, `` `-- ``, `|   `, four spaces) and returns the
/// depth of a package line (a header line gets the depth of the children it introduces
/// minus one, i.e. the number of units before it).
fn strip_prefix_units(line: &str) -> (usize, &str) {
    let mut rest = line;
    let mut units = 0;
    loop {
        if let Some(r) = rest
            .strip_prefix("|-- ")
            .or_else(|| rest.strip_prefix("`-- "))
        {
            return (units + 1, r);
        }
        if let Some(r) = rest
            .strip_prefix("|   ")
            .or_else(|| rest.strip_prefix("    "))
        {
            rest = r;
            units += 1;
            continue;
        }
        return (units, rest);
    }
}

/// The parts of a `{p}` string: `name vVERSION[ (SOURCE)][ (proc-macro)]`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct PackageText {
    pub(super) name: String,
    pub(super) version: String,
    pub(super) source: Source,
    pub(super) git: Option<GitOrigin>,
    pub(super) proc_macro: bool,
}

pub(super) fn parse_package(text: &str) -> Option<PackageText> {
    let (name, rest) = text.split_once(" v")?;
    let (version, rest) = match rest.split_once(' ') {
        Some((v, r)) => (v, r),
        None => (rest, ""),
    };
    // cargo prints `name vX (proc-macro) (source)`; accept the marker on either side.
    let (rest, proc_macro) = if let Some(r) = rest.strip_prefix("(proc-macro)") {
        (r.trim_start(), true)
    } else if let Some(r) = rest.strip_suffix(" (proc-macro)") {
        (r, true)
    } else if rest == "(proc-macro)" {
        ("", true)
    } else {
        (rest, false)
    };
    let detail = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')'));
    let (source, git) = match detail {
        None => (Source::CratesIo, None),
        Some(d) if d.starts_with("registry ") => (Source::Registry, None),
        Some(d) => match git_origin(d) {
            Some(g) => (Source::Git, Some(g)),
            None => (Source::Local, None),
        },
    };
    Some(PackageText {
        name: name.to_owned(),
        version: version.to_owned(),
        source,
        git,
        proc_macro,
    })
}

/// `https://user:pw@host/repo?branch=x#sha` → url `https://host/repo`, commit `sha`.
fn git_origin(detail: &str) -> Option<GitOrigin> {
    let (url, commit) = detail.rsplit_once('#')?;
    let scheme_end = url.find("://")?;
    if !commit.bytes().all(|b| b.is_ascii_hexdigit()) || commit.is_empty() {
        return None;
    }
    Some(GitOrigin {
        url: sanitize_url(&url[..scheme_end + 3], &url[scheme_end + 3..]),
        commit: commit.to_owned(),
    })
}

/// Drops credentials, query and fragment from a URL given as scheme and the rest.
pub(super) fn sanitize_url(scheme: &str, rest: &str) -> String {
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    if scheme == "file://" {
        // A local repository: its path says where the build machine keeps things.
        let last = rest.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        // Nor does a user name belong in it.
        let last = last.rsplit_once('@').map_or(last, |(_, l)| l);
        return format!("file://{last}");
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tree: &[Occurrence]) -> Vec<String> {
        tree.iter()
            .map(|o| {
                format!(
                    "{}{}{}",
                    "  ".repeat(o.depth),
                    if o.build_edge { "b:" } else { "" },
                    o.node
                )
            })
            .collect()
    }

    #[test]
    fn takes_one_root_out_of_several_trees() {
        // `cargo tree -p a -p b -e normal,build,dev`: b's `shared|fast` was expanded under a.
        let text = "\
a v0.1.0 (/w/a)|
`-- shared v0.1.0 (/w/shared)|fast
    `-- itoa v1.0.14|

b v0.1.0 (/w/b)|
|-- shared v0.1.0 (/w/shared)|fast (*)
|-- z v1.0.0|
[build-dependencies]
`-- cc v1.0.0|
[dev-dependencies]
`-- tester v1.0.0|
    `-- only-for-tests v1.0.0|
";
        let all = parse_tree(text).unwrap();
        assert_eq!(roots(&all), ["a v0.1.0 (/w/a)", "b v0.1.0 (/w/b)"]);
        assert!(
            all.iter()
                .any(|o| o.dev_edge && o.package == "tester v1.0.0")
        );
        let b = subtree(&all, "b v0.1.0 (/w/b)").unwrap();
        assert_eq!(
            names(&b),
            [
                "b v0.1.0 (/w/b)|",
                "  shared v0.1.0 (/w/shared)|fast",
                "    itoa v1.0.14|",
                "  z v1.0.0|",
                "  b:cc v1.0.0|",
            ]
        );
        assert_eq!(b[2].parent, Some(1));
        assert!(subtree(&all, "c v0.1.0 (/w/c)").is_none());

        // A member that another member depends on is printed in full under it, and its own
        // root line is then `(*)`.
        let text = "a v0.1.0 (/w/a)|\n`-- lib v0.1.0 (/w/lib)|x\n    `-- itoa v1.0.14|\n\nlib v0.1.0 (/w/lib)|x (*)\n";
        let all = parse_tree(text).unwrap();
        let lib = subtree(&all, "lib v0.1.0 (/w/lib)").unwrap();
        assert_eq!(names(&lib), ["lib v0.1.0 (/w/lib)|x", "  itoa v1.0.14|"]);
    }

    #[test]
    fn sanitizes_urls() {
        assert_eq!(
            sanitize_url("ssh://", "git@host:22/r.git?rev=1"),
            "ssh://host:22/r.git"
        );
        assert_eq!(
            sanitize_url("file://", "/tmp/x/repo.git/"),
            "file://repo.git"
        );
    }
}
