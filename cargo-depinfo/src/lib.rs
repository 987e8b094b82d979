#![doc = include_str!("../README.md")]

mod binary_reader;

pub use crate::binary_reader::{
    BinaryFormat, Limits, RawSections, ReadError, read_sections, read_sections_with,
};
