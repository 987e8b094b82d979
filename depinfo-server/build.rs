//! Build script: embeds build-info (the exporter reports its own, and cargo-depinfo reads them).

fn main() {
    buildinfo::build::emit();
}
