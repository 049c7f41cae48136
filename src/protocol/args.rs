//! Argument parsing shared by all handlers: numbers with Redis's strictness and error texts,
//! and case-insensitive option matching.

use super::error::CmdError;
use super::request::parse_i64;
use bytes::Bytes;

/// An integer argument (`string2ll` rules), or `ERR value is not an integer or out of range`.
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// A 32-bit integer argument (Redis's `getIntFromObjectOrReply`: database indexes).
pub fn int32(arg: &[u8]) -> Result<i64, CmdError> {
    let v = int(arg)?;
    if v < i32::MIN as i64 || v > i32::MAX as i64 {
        return Err(CmdError::err(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    Ok(v)
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
        lower if lower.trim_start_matches(['+', '-']).starts_with("0x") => parse_hex_float(lower)?,
        _ => s.parse().ok()?,
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Redis's `string2d` (scores, weights: `getDoubleFromObject`): [`parse_f64`], and a number
/// out of a double's range is refused as `strtod`'s ERANGE makes Redis refuse it: too large
/// (`1e309`, not infinity by name) or too small to be anything but zero (`1e-400`).
pub fn parse_f64_in_range(arg: &[u8]) -> Option<f64> {
    let v = parse_f64(arg)?;
    if !v.is_finite() || v == 0.0 {
        let lower = std::str::from_utf8(arg).ok()?.to_ascii_lowercase();
        if lower.contains("inf") {
            return Some(v);
        }
        let body = lower.trim_start_matches(['+', '-']);
        let (body, exponent) = match body.strip_prefix("0x") {
            Some(hex) => (hex, 'p'),
            None => (body, 'e'),
        };
        let mantissa = body.split(exponent).next().unwrap_or("");
        let nonzero = mantissa.chars().any(|c| c.is_ascii_hexdigit() && c != '0');
        if !v.is_finite() || nonzero {
            return None;
        }
    }
    Some(v)
}

/// C's hexadecimal floats (`0x10`, `0x1.8p3`), which Redis accepts through `strtold`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (neg, s) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let s = s.strip_prefix("0x")?;
    let (mant, exp) = match s.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    let v = v * 2f64.powi(exp);
    Some(if neg { -v } else { v })
}

/// ASCII case-insensitive comparison of an argument with an option name.
pub fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// Lossy UTF-8 of an argument, for error messages and names.
pub fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// A request's arguments copied out of the read buffer, for a command kept past its request
/// (queued by MULTI, parked by a blocking command).
pub fn to_owned(args: &[&[u8]]) -> Vec<Bytes> {
    args.iter().map(|a| Bytes::copy_from_slice(a)).collect()
}

/// Kept arguments, borrowed again to run.
pub fn borrowed(args: &[Bytes]) -> Vec<&[u8]> {
    args.iter().map(|a| &a[..]).collect()
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
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"-0x1.8p1"), Some(-3.0));
        assert_eq!(parse_f64(b"0x"), None);
    }

    #[test]
    fn floats_in_range_refuse_what_strtod_finds_out_of_range() {
        for ok in [
            &b"1e308"[..],
            b"inf",
            b"+inf",
            b"-Infinity",
            b"0",
            b"-0",
            b"0e999",
            b"0.000",
        ] {
            assert!(parse_f64_in_range(ok).is_some(), "{}", text(ok));
        }
        assert_eq!(
            parse_f64_in_range(b"1e-310"),
            Some(1e-310),
            "subnormal, not zero"
        );
        for bad in [
            &b"1e309"[..],
            b"-1e309",
            b"1e-400",
            b"0.5e-400",
            b"0x1p99999",
            b"nan",
        ] {
            assert_eq!(parse_f64_in_range(bad), None, "{}", text(bad));
        }
    }
}
