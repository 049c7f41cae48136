//! Sorted sets (Redis's `t_zset.c`).

use super::spec::CommandSpec;

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[];
