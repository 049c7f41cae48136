//! Sets (Redis's `t_set.c`).

use super::spec::CommandSpec;

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[];
