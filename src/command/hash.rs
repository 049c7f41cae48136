//! Hashes (Redis's `t_hash.c`).

use super::spec::CommandSpec;

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[];
