//! Lists (Redis's `t_list.c`).

use super::spec::CommandSpec;

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[];
