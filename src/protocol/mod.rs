//! The protocol edge: request framing in, typed replies out, and the error texts.
//!
//! Nothing here knows about storage or tenants; `command::dispatch` is the glue.

pub mod args;
pub mod error;
pub mod reply;
pub mod request;

pub use error::{CmdError, ProtocolError};
pub use reply::{encode, Proto, Reply};
