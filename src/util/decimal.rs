//! INCRBYFLOAT's arithmetic. Redis adds in `long double` (64-bit mantissa) and prints with
//! `%.17Lf`, trailing zeros trimmed, so `3.1 + 0.2` is "3.3" where f64 gives
//! "3.3000000000000003". Adding the two decimal strings exactly, then rounding to 17 decimals,
//! reproduces Redis for every input within 36 significant digits; beyond that (or for hex or
//! huge exponents) the caller falls back to f64 and `format_fixed`.

/// A decimal `mantissa * 10^exp`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Dec {
    m: i128,
    exp: i32,
}

const MAX_DIGITS: usize = 36;

fn parse(s: &[u8]) -> Option<Dec> {
    let (neg, rest) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (num, exp_part) = match rest.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut exp: i32 = match exp_part {
        Some(e) => std::str::from_utf8(e).ok()?.parse().ok()?,
        None => 0,
    };
    let (int, frac) = match num.iter().position(|&c| c == b'.') {
        Some(i) => (&num[..i], &num[i + 1..]),
        None => (num, &[][..]),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut m: i128 = 0;
    let mut digits = 0;
    for &c in int.iter().chain(frac) {
        if !c.is_ascii_digit() {
            return None;
        }
        if m == 0 && c == b'0' {
            continue;
        }
        digits += 1;
        if digits > MAX_DIGITS {
            return None;
        }
        m = m * 10 + (c - b'0') as i128;
    }
    exp = exp.checked_sub(frac.len() as i32)?;
    Some(Dec {
        m: if neg { -m } else { m },
        exp,
    })
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// `a + b` formatted as Redis's INCRBYFLOAT would, or None when exact decimal arithmetic
/// cannot represent it (the caller then uses f64).
pub fn add(a: &[u8], b: &[u8]) -> Option<String> {
    let (x, y) = (parse(a)?, parse(b)?);
    let exp = x.exp.min(y.exp);
    // In i64: exponents come from the client and their difference can pass i32.
    let scale = |d: Dec| -> Option<i128> {
        let shift = u32::try_from(d.exp as i64 - exp as i64).ok()?;
        d.m.checked_mul(pow10(shift)?)
    };
    let sum = scale(x)?.checked_add(scale(y)?)?;
    Some(format_dec(Dec { m: sum, exp }))
}

fn format_dec(d: Dec) -> String {
    // Round to 17 decimal places, ties to even as printf does (an exact decimal tie is, in
    // Redis's binary long double, a hair to either side; even matches the common case).
    let (mut m, mut exp) = (d.m, d.exp);
    if exp < -17 {
        let div = pow10((-17 - exp) as u32).unwrap_or(i128::MAX);
        let (q, r) = (m / div, m % div);
        let twice = r.abs() * 2;
        let up = twice > div || (twice == div && q % 2 != 0);
        m = q + if up { r.signum() } else { 0 };
        exp = -17;
    }
    let neg = m < 0;
    let digits = m.unsigned_abs().to_string();
    let mut out = String::new();
    if exp >= 0 {
        out.push_str(&digits);
        if digits != "0" {
            out.extend(std::iter::repeat_n('0', exp as usize));
        }
    } else {
        let frac_len = (-exp) as usize;
        let padded = format!("{digits:0>width$}", width = frac_len + 1);
        let (int, frac) = padded.split_at(padded.len() - frac_len);
        out.push_str(int);
        let frac = frac.trim_end_matches('0');
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
    }
    if neg && out.bytes().any(|c| c != b'0' && c != b'.') {
        out.insert(0, '-');
    }
    out
}

/// Fixed notation with up to 17 decimals, trailing zeros trimmed (Redis's human format).
pub fn format_fixed(v: f64) -> String {
    let s = format!("{v:.17}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_redis_long_double() {
        assert_eq!(add(b"3.1", b"0.2").unwrap(), "3.3");
        assert_eq!(add(b"10.5", b"0.1").unwrap(), "10.6");
        assert_eq!(add(b"0", b"0.000001").unwrap(), "0.000001");
        assert_eq!(add(b"0", b"1e-7").unwrap(), "0.0000001");
        assert_eq!(add(b"0", b"-2.5e-10").unwrap(), "-0.00000000025");
        assert_eq!(add(b"10", b"5.0e3").unwrap(), "5010");
        assert_eq!(add(b"1.5", b"1.5").unwrap(), "3");
        assert_eq!(add(b"0", b"1e-20").unwrap(), "0");
        assert_eq!(add(b"-1", b"1").unwrap(), "0");
        assert_eq!(
            add(b"1e30", b"1").unwrap(),
            "1000000000000000000000000000001"
        );
        assert!(add(b"0x10", b"1").is_none());
        assert!(add(b"0", b"1e-2147483648").is_none());
        assert!(add(b"1e2147483647", b"1e-2147483648").is_none());
        assert_eq!(format_fixed(1e20), "100000000000000000000");
        assert_eq!(format_fixed(-0.5), "-0.5");
    }
}
