//! Scrape benchmark (written next).
fn main() {}
