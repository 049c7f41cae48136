//! INCRBYFLOAT's and HINCRBYFLOAT's arithmetic, as Redis does it on x86-64: in C's `long double`
//! (the x87 80-bit format: a 64-bit significand, exponents down to 2^-16445 with subnormals, up
//! to 2^16383), parsed by `strtold`, printed by `%.17Lf` with trailing zeros trimmed. So
//! `3.1 + 0.2` is "3.3" (an f64 would give 3.3000000000000003), `3.1 + 1e17` is
//! "100000000000000003.1015625" and `1e309` is a number, printed digit for digit as Redis does.
//!
//! Values are exact binary numbers `mantissa * 2^exp` held in big integers, so every step
//! (parsing, the one addition, printing) is rounded once, to nearest with ties to even, exactly
//! where the hardware and glibc round.

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{One, Zero};

/// Significand bits of the x87 extended format.
const MANT_BITS: u64 = 64;
/// The weight of the lowest significand bit of the smallest subnormal.
const MIN_LSB_EXP: i64 = -16445;
/// The exponent of the top bit of the largest finite value.
const MAX_TOP_EXP: i64 = 16383;
/// `string2ld` refuses strings this long or longer (Redis's `MAX_LONG_DOUBLE_CHARS`).
const MAX_CHARS: usize = 5 * 1024;
/// Decimals `%.17Lf` prints.
const DECIMALS: u32 = 17;

/// A `long double` value: finite, or an infinity (NaN never survives parsing or adding here).
#[derive(Debug, Clone, PartialEq)]
pub enum LongDouble {
    /// `mant * 2^exp`, `mant` at most 64 bits (a signed zero keeps no sign: Redis prints
    /// both as "0").
    Finite {
        mant: BigInt,
        exp: i64,
    },
    Infinite {
        negative: bool,
    },
}

impl LongDouble {
    pub fn zero() -> LongDouble {
        LongDouble::Finite {
            mant: BigInt::zero(),
            exp: 0,
        }
    }

    pub fn is_finite(&self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    /// Redis's `string2ld`: the whole string must be a number `strtold` reads without a range
    /// error (so `1e5000` and `1e-5000` are refused, `inf` is an infinity, NaN is refused).
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_CHARS || s[0].is_ascii_whitespace() {
            return None;
        }
        let (negative, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let lower = body.to_ascii_lowercase();
        if lower == b"inf" || lower == b"infinity" {
            return Some(LongDouble::Infinite { negative });
        }
        let (mant, exp) = match lower.strip_prefix(b"0x") {
            Some(hex) => parse_hex(hex)?,
            None => parse_decimal(&lower)?,
        };
        let rounded = round(signed(negative, mant), exp);
        match &rounded {
            // Overflow, and a nonzero number too small for even a subnormal: ERANGE.
            LongDouble::Infinite { .. } => None,
            LongDouble::Finite { mant: m, .. } if m.is_zero() && !is_zero_literal(&lower) => None,
            _ => Some(rounded),
        }
    }

    /// `self + other`, rounded once.
    pub fn add(&self, other: &LongDouble) -> LongDouble {
        use LongDouble::*;
        match (self, other) {
            (Infinite { negative: a }, Infinite { negative: b }) if a != b => {
                // inf - inf is NaN: callers refuse any non-finite result alike.
                Infinite { negative: false }
            }
            (Infinite { negative }, _) | (_, Infinite { negative }) => Infinite {
                negative: *negative,
            },
            (Finite { mant: a, exp: ea }, Finite { mant: b, exp: eb }) => {
                let e = (*ea).min(*eb);
                let sum = (a << (ea - e) as usize) + (b << (eb - e) as usize);
                round(sum, e)
            }
        }
    }

    /// The nearest `f64` (an infinity beyond its range), for comparisons that need no more.
    pub fn to_f64(&self) -> f64 {
        use num_traits::ToPrimitive;
        match self {
            LongDouble::Infinite { negative: true } => f64::NEG_INFINITY,
            LongDouble::Infinite { negative: false } => f64::INFINITY,
            // At most 64 significant bits, so the product rounds once more at most.
            LongDouble::Finite { mant, exp } => {
                mant.to_f64().unwrap_or(0.0) * 2f64.powi((*exp).clamp(-2000, 2000) as i32)
            }
        }
    }

    /// Redis's `ld2string(..., LD_STR_HUMAN)`: `%.17Lf`, trailing zeros and a bare point
    /// trimmed, "-0" as "0". Only finite values are printed (Redis refuses the others first).
    pub fn to_human(&self) -> String {
        let LongDouble::Finite { mant, exp } = self else {
            unreachable!("only finite values are printed");
        };
        let negative = mant.sign() == Sign::Minus;
        let m = mant.magnitude();
        let mut text = if *exp >= 0 {
            (m << *exp as usize).to_string()
        } else {
            // The value times 10^17, rounded to an integer (ties to even), as printf rounds.
            let denom = BigUint::one() << (-exp) as usize;
            let scaled = m * BigUint::from(10u32).pow(DECIMALS);
            let (mut q, r) = (&scaled / &denom, &scaled % &denom);
            let twice = r << 1usize;
            if twice > denom || (twice == denom && q.bit(0)) {
                q += 1u32;
            }
            let digits = q.to_string();
            let width = DECIMALS as usize + 1;
            let digits = format!("{digits:0>width$}");
            let (int, frac) = digits.split_at(digits.len() - DECIMALS as usize);
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                int.to_string()
            } else {
                format!("{int}.{frac}")
            }
        };
        if negative && text != "0" {
            text.insert(0, '-');
        }
        text
    }
}

fn signed(negative: bool, m: BigUint) -> BigInt {
    BigInt::from_biguint(if negative { Sign::Minus } else { Sign::Plus }, m)
}

/// Whether a literal's significand is all zeros (`0`, `0.000e5`, `0x0p3`): zero by value, not
/// by underflow.
fn is_zero_literal(lower: &[u8]) -> bool {
    let (body, exp_mark) = match lower.strip_prefix(b"0x") {
        Some(hex) => (hex, b'p'),
        None => (lower, b'e'),
    };
    body.iter()
        .take_while(|&&c| c != exp_mark)
        .all(|&c| c == b'0' || c == b'.')
}

/// Digits with at most one point, at least one digit: (digits, digits after the point).
fn significand(s: &[u8], radix: u32) -> Option<(BigUint, usize)> {
    let mut digits = Vec::with_capacity(s.len());
    let (mut point, mut after) = (false, 0);
    for &c in s {
        if c == b'.' && !point {
            point = true;
        } else {
            digits.push((c as char).to_digit(radix)? as u8);
            after += usize::from(point);
        }
    }
    if digits.is_empty() {
        return None;
    }
    Some((BigUint::from_radix_be(&digits, radix)?, after))
}

/// An optional exponent's digits after its mark: `[+-]digits`.
fn exponent(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Past any range a long double has: saturate (the value is then zero or overflows).
    let v = std::str::from_utf8(digits)
        .ok()?
        .parse::<i64>()
        .unwrap_or(i64::MAX / 4)
        .min(i64::MAX / 4);
    Some(if neg { -v } else { v })
}

/// A hexadecimal literal after `0x`: exactly `mant * 2^exp`.
fn parse_hex(s: &[u8]) -> Option<(BigUint, i64)> {
    let (sig, exp) = match s.iter().position(|&c| c == b'p') {
        Some(i) => (&s[..i], exponent(&s[i + 1..])?),
        None => (s, 0),
    };
    let (mant, after) = significand(sig, 16)?;
    Some((mant, exp.checked_sub(4 * after as i64)?))
}

/// A decimal literal as an exact binary value with more bits than the significand holds, and a
/// sticky bit for what lies below them, so rounding it once more rounds the true value.
fn parse_decimal(s: &[u8]) -> Option<(BigUint, i64)> {
    let (sig, exp) = match s.iter().position(|&c| c == b'e') {
        Some(i) => (&s[..i], exponent(&s[i + 1..])?),
        None => (s, 0),
    };
    let (digits, after) = significand(sig, 10)?;
    if digits.is_zero() {
        return Some((digits, 0));
    }
    let k = exp - after as i64;
    let ndigits = digits.to_string().len() as i64;
    // Far outside the range: overflow, or nothing but zero.
    if k + ndigits > 5000 {
        return Some((BigUint::one(), MAX_TOP_EXP + 1));
    }
    if k + ndigits < -5000 {
        return Some((BigUint::zero(), 0));
    }
    let ten = BigUint::from(10u32);
    if k >= 0 {
        return Some((digits * ten.pow(k as u32), 0));
    }
    let denom = ten.pow((-k) as u32);
    // A quotient of at least 66 bits: the significand, a rounding bit, and one below it (a
    // subnormal rounds higher up still). Bit lengths put the quotient within one bit.
    let shift = (MANT_BITS as i64 + 3 + denom.bits() as i64 - digits.bits() as i64).max(0);
    let num = digits << shift as usize;
    let (q, r) = (&num / &denom, &num % &denom);
    let sticky = u32::from(!r.is_zero());
    Some(((q << 1usize) + sticky, -shift - 1))
}

/// Rounds `m * 2^e` to the format: a 64-bit significand, ties to even, subnormals below
/// 2^-16382, an infinity past the largest finite value.
fn round(m: BigInt, e: i64) -> LongDouble {
    let negative = m.sign() == Sign::Minus;
    let a = m.magnitude();
    if a.is_zero() {
        return LongDouble::Finite {
            mant: BigInt::zero(),
            exp: 0,
        };
    }
    let top = e + a.bits() as i64 - 1;
    let lsb = (top - (MANT_BITS as i64 - 1)).max(MIN_LSB_EXP);
    let (mut q, mut e) = (a.clone(), e);
    if lsb > e {
        let shift = (lsb - e) as u64;
        let rem_mask = (BigUint::one() << shift) - 1u32;
        let rem = a & &rem_mask;
        let half = BigUint::one() << (shift - 1);
        q = a >> shift;
        if rem > half || (rem == half && q.bit(0)) {
            q += 1u32;
        }
        e = lsb;
        if q.bits() > MANT_BITS {
            q >>= 1usize;
            e += 1;
        }
    }
    if !q.is_zero() && e + q.bits() as i64 - 1 > MAX_TOP_EXP {
        return LongDouble::Infinite { negative };
    }
    LongDouble::Finite {
        mant: signed(negative, q),
        exp: e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(cur: &str, by: &str) -> String {
        let (a, b) = (
            LongDouble::parse(cur.as_bytes()).unwrap(),
            LongDouble::parse(by.as_bytes()).unwrap(),
        );
        a.add(&b).to_human()
    }

    /// Replies of redis-server 7.0.15 on x86-64 to `SET k <cur>`, `INCRBYFLOAT k <by>`.
    #[test]
    fn adds_and_prints_as_redis_does() {
        for (cur, by, want) in [
            ("10.5", "0.1", "10.6"),
            ("3.1", "0.2", "3.3"),
            ("0", "0.1", "0.1"),
            ("3.1", "1e17", "100000000000000003.1015625"),
            ("5.0e3", "2.0e2", "5200"),
            ("0", "-0", "0"),
            ("-0.1", "0.1", "0"),
            ("1", "-1.5", "-0.5"),
            ("0", "0x1p-2", "0.25"),
            ("0", "1e-18", "0"),
            ("0", "-1e-18", "0"),
            ("0", "1.5e-17", "0.00000000000000002"),
            ("1e30", "1", "1000000000000000000024696061952"),
            ("0", "0.000003814697265625", "0.00000381469726562"),
            ("0", "-2.5e-10", "-0.00000000025"),
            ("0", "1e-4950", "0"),
            ("1.5", "0x10", "17.5"),
            ("0", "1e309", "999999999999999999986349424581256454766307763249906048699722933664407363742116431635427166600418245409398702382304152749971957328402423172341126484032370375772746974788657214625693651444984012739133113268869496442311034817571120406763557498021655642425941543468850939783228659030453659621446207643423114002432"),
        ] {
            assert_eq!(incr(cur, by), want, "{cur} + {by}");
        }
    }

    #[test]
    fn parses_as_string2ld() {
        for ok in [
            "1",
            "-1.5",
            "+.5",
            "5.",
            "1e5",
            "1E+05",
            "0x1p3",
            "0X.8",
            "inf",
            "-Infinity",
            "0e99999",
            "1e4931",
            "1e-4950",
        ] {
            assert!(LongDouble::parse(ok.as_bytes()).is_some(), "{ok}");
        }
        for bad in [
            "", " 1", "1 ", "abc", ".", "1e", "1e+", "0x", "0xp3", "nan", "1e4933", "-1e4933",
            "1e-5000", "1..2", "--1",
        ] {
            assert!(LongDouble::parse(bad.as_bytes()).is_none(), "{bad:?}");
        }
        assert!(LongDouble::parse("1".repeat(MAX_CHARS).as_bytes()).is_none());
        let big = LongDouble::parse(b"1.1e4932").unwrap();
        assert!(!big.add(&big).is_finite(), "overflow is infinite");
    }
}
