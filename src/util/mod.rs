//! Small shared helpers with no knowledge of commands or storage.

pub mod decimal;
pub mod glob;
