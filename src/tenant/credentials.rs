//! Credentials: token secrets and admin password hashes.
//!
//! Secrets are never stored: only `sha256:<salt>:<digest>` of salt + secret. Token secrets are
//! 32 random bytes from the OS generator, so a fast hash is sound (there is nothing to brute
//! force); Redis itself stores ACL passwords as unsalted SHA-256. A secret names its token
//! (`tkv_<token-id>_<random>`), so AUTH checks one hash, not every token of the tenant.

use sha2::{Digest, Sha256};

/// A salted SHA-256 of `secret`, in the stored text form.
pub fn hash_secret(secret: &[u8]) -> String {
    let salt = random_bytes::<16>();
    format!(
        "sha256:{}:{}",
        hex::encode(salt),
        hex::encode(digest(&salt, secret))
    )
}

fn digest(salt: &[u8], secret: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(secret);
    h.finalize().into()
}

/// Checks `secret` against a stored hash, in constant time for equal-length digests.
pub fn verify(secret: &[u8], stored: &str) -> bool {
    let mut parts = stored.splitn(3, ':');
    let (Some("sha256"), Some(salt), Some(want)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Ok(salt), Ok(want)) = (hex::decode(salt), hex::decode(want)) else {
        return false;
    };
    constant_time_eq(&digest(&salt, secret), &want)
}

/// Equality that takes the same time wherever the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the OS random number generator is available");
    b
}

/// A new token id (short, for TENANT.TOKEN.LIST/REVOKE).
pub fn new_token_id() -> String {
    hex::encode(random_bytes::<6>())
}

/// A new secret for token `id`.
pub fn new_secret(id: &str) -> String {
    format!("tkv_{id}_{}", hex::encode(random_bytes::<32>()))
}

/// The token id a secret names, if it has the expected shape.
pub fn token_id_of(secret: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(secret).ok()?;
    let rest = s.strip_prefix("tkv_")?;
    let (id, _) = rest.split_once('_')?;
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let s = new_secret("abc");
        let h = hash_secret(s.as_bytes());
        assert!(verify(s.as_bytes(), &h));
        assert!(!verify(b"wrong", &h));
        assert!(!h.contains(&s));
        assert_ne!(hash_secret(s.as_bytes()), h, "salted");
        assert_eq!(token_id_of(s.as_bytes()), Some("abc"));
        assert_eq!(token_id_of(b"nope"), None);
    }
}
