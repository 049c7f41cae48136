//! Argument parsing shared by all handlers: numbers with Redis's strictness and error texts,
//! and case-insensitive option matching.

use super::error::CmdError;
use super::request::parse_i64;

/// An integer argument (`string2ll` rules), or `ERR value is not an integer or out of range`.
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// A non-negative integer argument that must fit `usize` (counts, indexes, limits).
pub fn uint(arg: &[u8]) -> Result<u64, CmdError> {
    match parse_i64(arg) {
        Some(v) if v >= 0 => Ok(v as u64),
        _ => Err(CmdError::NotInteger),
    }
}

/// A float argument (`strtold` rules: no surrounding spaces, `inf` allowed, NaN refused).
pub fn float(arg: &[u8]) -> Result<f64, CmdError> {
    parse_f64(arg).ok_or(CmdError::NotFloat)
}

/// Parses a Redis float: rejects empty, leading/trailing spaces and NaN.
pub fn parse_f64(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || arg.len() > 5120 || arg[0].is_ascii_whitespace() {
        return None;
    }
    let s = std::str::from_utf8(arg).ok()?;
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        lower if lower.contains("inf") || lower.contains("nan") => return None,
        _ => s.parse().ok()?,
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// ASCII case-insensitive comparison of an argument with an option name.
pub fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// Lossy UTF-8 of an argument, for error messages and names.
pub fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b""), None);
        assert_eq!(parse_f64(b"abc"), None);
    }
}
