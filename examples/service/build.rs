//! Captures the build facts and the dependency graph for `build_info::build_info!()`.

fn main() {
    build_info::build::emit();
}
