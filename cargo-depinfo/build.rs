//! Build script: embeds build-info (cargo-depinfo inspects itself with it).

fn main() {
    buildinfo::build::emit();
}
