//! Captures the build facts and the dependency graph for `buildinfo::build_info!()`.

fn main() {
    buildinfo::build::emit();
}
