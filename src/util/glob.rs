//! Redis glob matching (`stringmatchlen` semantics), shared by KEYS, SCAN MATCH, CONFIG GET and
//! every other command that takes a pattern, so that all of them agree with Redis byte for byte.
//!
//! Supported: `*`, `?`, `[abc]`, `[^abc]`, `[a-z]`, and `\x` escapes. Matching is on raw bytes.

/// True when `text` matches the glob `pattern`. `nocase` folds ASCII case (CONFIG GET does).
pub fn matches(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_inner(pattern, text, nocase, &mut skip_longer, 0)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// Mirrors Redis's `stringmatchlen_impl`, including its two defences against abusive patterns:
/// a nesting bound, and `skip_longer`, which stops retrying earlier `*`s once the rest of the
/// pattern failed at every later position (without it `a*a*a*...b` is exponential).
fn match_inner(p: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, depth: u32) -> bool {
    if depth > 1000 {
        return false;
    }
    let (mut pi, mut si) = (0usize, 0usize);
    while pi < p.len() && si < s.len() {
        match p[pi] {
            b'*' => {
                while pi + 1 < p.len() && p[pi + 1] == b'*' {
                    pi += 1;
                }
                if pi + 1 == p.len() {
                    return true;
                }
                while si < s.len() {
                    if match_inner(&p[pi + 1..], &s[si..], nocase, skip_longer, depth + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => si += 1,
            b'[' => {
                pi += 1;
                let not = pi < p.len() && p[pi] == b'^';
                if not {
                    pi += 1;
                }
                let mut matched = false;
                loop {
                    if pi >= p.len() {
                        // Unterminated class: step back so the shared advance below ends the
                        // pattern, as Redis does.
                        pi -= 1;
                        break;
                    }
                    if p[pi] == b'\\' && pi + 1 < p.len() {
                        pi += 1;
                        if eq(p[pi], s[si], nocase) {
                            matched = true;
                        }
                    } else if p[pi] == b']' {
                        break;
                    } else if pi + 2 < p.len() && p[pi + 1] == b'-' {
                        let (mut lo, mut hi) = (p[pi], p[pi + 2]);
                        let mut c = s[si];
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        if nocase {
                            lo = lo.to_ascii_lowercase();
                            hi = hi.to_ascii_lowercase();
                            c = c.to_ascii_lowercase();
                        }
                        pi += 2;
                        if c >= lo && c <= hi {
                            matched = true;
                        }
                    } else if eq(p[pi], s[si], nocase) {
                        matched = true;
                    }
                    pi += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
            }
            c => {
                let c = if c == b'\\' && pi + 1 < p.len() {
                    pi += 1;
                    p[pi]
                } else {
                    c
                };
                if !eq(c, s[si], nocase) {
                    return false;
                }
                si += 1;
            }
        }
        pi += 1;
        if si == s.len() {
            while pi < p.len() && p[pi] == b'*' {
                pi += 1;
            }
            break;
        }
    }
    pi == p.len() && si == s.len()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_cases() {
        // As Redis's stringmatchlen: an empty string matches nothing (KEYS/SCAN special-case
        // the lone "*" pattern before matching, as Redis does).
        assert!(!matches(b"*", b"", false));
        assert!(matches(b"*", b"anything", false));
        assert!(matches(b"h?llo", b"hello", false));
        assert!(!matches(b"h?llo", b"hllo", false));
        assert!(matches(b"h*llo", b"heeeello", false));
        assert!(matches(b"h[ae]llo", b"hallo", false));
        assert!(!matches(b"h[ae]llo", b"hillo", false));
        assert!(matches(b"h[^e]llo", b"hallo", false));
        assert!(!matches(b"h[^e]llo", b"hello", false));
        assert!(matches(b"h[a-b]llo", b"hbllo", false));
        assert!(matches(b"h[b-a]llo", b"hallo", false));
        assert!(matches(b"h\\*llo", b"h*llo", false));
        assert!(!matches(b"h\\*llo", b"hello", false));
        assert!(matches(b"MAXMEMORY*", b"maxmemory-policy", true));
        assert!(!matches(b"a*", b"b", false));
        assert!(matches(b"*a*b", b"xxaxxb", false));
        assert!(!matches(b"", b"a", false));
        assert!(matches(b"", b"", false));
    }

    #[test]
    fn pathological_pattern_terminates() {
        let pat = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b".to_vec();
        let text = vec![b'a'; 40];
        assert!(!matches(&pat, &text, false));
    }
}
