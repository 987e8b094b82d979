//! Reading what others made, within limits.
//!
//! - [`untrusted_file`]: the one way a file someone else controls is opened (no FIFO or device
//!   waits, a size cap before any read).
//! - [`binary_reader`]: the `.bldinfo` and `.dep-v0` sections of ELF, Mach-O and PE binaries,
//!   found without loading the whole file, inflated within a limit.
//!   [`binary_reader::symbols`] reads their symbol tables and debug information (DWARF),
//!   within limits, for the functions that advisories name.
//! - [`sections`]: those sections decoded into an [`inventory::Inventory`].
//! - [`inventory`]: the data model every command of cargo depinfo works on.
//! - [`text_safety`]: values from binaries, pages and answers made safe to print on a
//!   terminal.
//!
//! The layers, from the ground up: `untrusted_file` and `text_safety`; `binary_reader`;
//! `inventory`; `sections`.

pub mod binary_reader;
pub mod inventory;
pub mod sections;
pub mod text_safety;
pub mod untrusted_file;
