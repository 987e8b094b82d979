//! The crate-name rule, once: what a crate name may hold, and that `-` and `_` are one
//! character when names are compared, as crates.io treats them.

/// True for a name a crate can have: one or more of `[a-zA-Z0-9_-]`.
///
/// ```
/// use buildinfo::model::is_crate_name;
/// assert!(is_crate_name("proc-macro2"));
/// assert!(!is_crate_name("serde json"));
/// assert!(!is_crate_name(""));
/// ```
pub fn is_crate_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The name with every `-` as `_`: two crate names are the same crate when their normalized
/// forms are equal.
///
/// ```
/// assert_eq!(buildinfo::model::normalize_crate_name("proc-macro2"), "proc_macro2");
/// ```
pub fn normalize_crate_name(name: &str) -> String {
    name.replace('-', "_")
}

/// True when `a` and `b` name the same crate (`-` and `_` match each other), without
/// allocating: for filters that compare many names.
///
/// ```
/// use buildinfo::model::same_crate_name;
/// assert!(same_crate_name("serde-json", "serde_json"));
/// assert!(!same_crate_name("serde", "serde_json"));
/// ```
pub fn same_crate_name(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| x == y || matches!((x, y), (b'-', b'_') | (b'_', b'-')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names() {
        assert!(is_crate_name("a"));
        assert!(is_crate_name("A_b-9"));
        assert!(!is_crate_name("a.b"));
        assert!(!is_crate_name("é"));
        assert_eq!(normalize_crate_name("a-b_c"), "a_b_c");
        assert!(same_crate_name("a-b_c", "a_b-c"));
        assert!(same_crate_name("", ""));
        assert!(!same_crate_name("a-b", "a.b"));
        assert!(!same_crate_name("ab", "abc"));
        assert!(!same_crate_name("a-", "a-b"));
        assert!(!same_crate_name("a-b", "a-c"));
    }
}
