build_info::build_info!();
fn main() {
    println!("{VERSION}");
}
