//! Typed command errors and the one place where they become Redis error text.
//!
//! Handlers and storage return these; the encoder renders them at the protocol edge. Every
//! string here matches Redis 7 byte for byte, because clients and test suites compare them.

use std::borrow::Cow;
use std::fmt;

/// An error that ends one command with an error reply; the connection lives on.
#[derive(Debug, Clone, PartialEq)]
pub enum CmdError {
    UnknownCommand {
        name: String,
        args: String,
    },
    UnknownSubcommand {
        sub: String,
        container: String,
    },
    WrongArity(String),
    Syntax,
    WrongType,
    NotInteger,
    NotFloat,
    Overflow,
    NanOrInfinity,
    NoSuchKey,
    InvalidExpire(&'static str),
    DbIndexOutOfRange,
    NoAuth,
    WrongPass,
    /// Any other error: the full text including its code (`ERR ...`, `NOPERM ...`).
    Other(Cow<'static, str>),
}

impl CmdError {
    pub fn err(msg: impl Into<Cow<'static, str>>) -> Self {
        CmdError::Other(msg.into())
    }

    /// The error text without the leading `-` and trailing CRLF.
    pub fn text(&self) -> Cow<'_, str> {
        use CmdError::*;
        match self {
            UnknownCommand { name, args } => Cow::Owned(format!(
                "ERR unknown command '{}', with args beginning with: {}",
                truncate(name, 128),
                args
            )),
            UnknownSubcommand { sub, container } => Cow::Owned(format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                truncate(sub, 128),
                container.to_ascii_uppercase()
            )),
            WrongArity(cmd) => {
                Cow::Owned(format!("ERR wrong number of arguments for '{cmd}' command"))
            }
            Syntax => Cow::Borrowed("ERR syntax error"),
            WrongType => {
                Cow::Borrowed("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            NotInteger => Cow::Borrowed("ERR value is not an integer or out of range"),
            NotFloat => Cow::Borrowed("ERR value is not a valid float"),
            Overflow => Cow::Borrowed("ERR increment or decrement would overflow"),
            NanOrInfinity => Cow::Borrowed("ERR increment would produce NaN or Infinity"),
            NoSuchKey => Cow::Borrowed("ERR no such key"),
            InvalidExpire(cmd) => Cow::Owned(format!("ERR invalid expire time in '{cmd}' command")),
            DbIndexOutOfRange => Cow::Borrowed("ERR DB index is out of range"),
            NoAuth => Cow::Borrowed("NOAUTH Authentication required."),
            WrongPass => {
                Cow::Borrowed("WRONGPASS invalid username-password pair or user is disabled.")
            }
            Other(s) => Cow::Borrowed(s),
        }
    }

    /// The error code (first word), used for the `errorstat_<code>` INFO counters.
    pub fn code(&self) -> String {
        let t = self.text();
        t.split(' ').next().unwrap_or("ERR").to_string()
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// Redis's `%.128s`: cut long names so an error reply stays small.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Errors that end the connection: the client sent something that is not RESP, or exceeded a
/// framing limit. The text is sent as `-ERR Protocol error: ...` before closing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigInline,
    UnbalancedQuotes,
    TooBigMbulkCount,
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    ExpectedDollar(u8),
    TooBigBulkCount,
    InvalidBulkLength,
    UnauthenticatedBulkLength,
    /// The query buffer outgrew `client-query-buffer-limit`: Redis closes without a reply.
    QueryBufferLimit,
}

impl ProtocolError {
    /// The reply sent before closing, or `None` when Redis closes silently.
    pub fn reply_text(&self) -> Option<String> {
        use ProtocolError::*;
        let detail = match self {
            TooBigInline => "too big inline request".to_string(),
            UnbalancedQuotes => "unbalanced quotes in request".to_string(),
            TooBigMbulkCount => "too big mbulk count string".to_string(),
            InvalidMultibulkLength => "invalid multibulk length".to_string(),
            UnauthenticatedMultibulkLength => "unauthenticated multibulk length".to_string(),
            ExpectedDollar(c) => format!("expected '$', got '{}'", *c as char),
            TooBigBulkCount => "too big bulk count string".to_string(),
            InvalidBulkLength => "invalid bulk length".to_string(),
            UnauthenticatedBulkLength => "unauthenticated bulk length".to_string(),
            QueryBufferLimit => return None,
        };
        Some(format!("ERR Protocol error: {detail}"))
    }
}
