//! Small shared helpers with no knowledge of commands or storage.

pub mod glob;
pub mod long_double;
