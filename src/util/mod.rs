//! Small shared helpers with no knowledge of commands or storage.

pub mod glob;
