//! What the builder rejects, found at construction so that a scrape cannot fail.

/// An invalid option given to [`Builder`](crate::Builder); returned by
/// [`Builder::build`](crate::Builder::build), never at scrape time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An extra label name is not a Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
    #[error("invalid label name {name:?}: a label name matches [a-zA-Z_][a-zA-Z0-9_]*")]
    InvalidLabelName {
        /// The name as given.
        name: String,
    },
    /// An extra label name starts with `__`, which Prometheus reserves for itself.
    #[error("invalid label name {name:?}: names starting with \"__\" are reserved by Prometheus")]
    ReservedLabelName {
        /// The name as given.
        name: String,
    },
    /// An extra label has the name of a label the collector sets itself.
    #[error("label {name:?} clashes with a label the collector sets itself ({builtin})")]
    BuiltinLabel {
        /// The name as given.
        name: String,
        /// The labels the collector sets, comma-separated.
        builtin: &'static str,
    },
    /// The same extra label name was given twice.
    #[error("label {name:?} is given twice")]
    DuplicateLabel {
        /// The name as given.
        name: String,
    },
    /// The namespace is not a valid metric name prefix (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
    #[error(
        "invalid namespace {namespace:?}: a metric name prefix matches [a-zA-Z_:][a-zA-Z0-9_:]*"
    )]
    InvalidNamespace {
        /// The namespace as given.
        namespace: String,
    },
    /// The namespace would make `<namespace>_build_info` the fixed-name `rust_build_info`.
    #[error(
        "namespace {namespace:?} is reserved: {namespace}_build_info is the rust_build_info series every program publishes"
    )]
    ReservedNamespace {
        /// The namespace as given.
        namespace: String,
    },
    /// The program name override is empty.
    #[error("the program name must not be empty")]
    EmptyProgram,
    /// An allow- or deny-list entry cannot be a crate name (`[a-zA-Z0-9_-]+`).
    #[error("invalid crate name {name:?} in the {list} list: a crate name matches [a-zA-Z0-9_-]+")]
    InvalidCrateName {
        /// The entry as given.
        name: String,
        /// `allow` or `deny`.
        list: &'static str,
    },
}
