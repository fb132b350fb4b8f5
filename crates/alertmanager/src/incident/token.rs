//! Signed acknowledge links: a click from a chat message or an e-mail
//! acknowledges without a login, so the link itself must prove it came
//! from us and must stop working after a while.
//!
//! A token is `<id>.<expiry unix seconds>.<hex HMAC-SHA256>` over
//! `ack:<id>:<expiry>`, keyed with 32 random bytes generated at the first
//! start and kept in `incidents.key` in the data directory (mode 0600), so
//! links sent before a restart keep working.

use std::path::Path;

use chrono::{DateTime, Utc};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::statefile::write_atomic;
use crate::{Error, Result};

/// File name of the signing key inside the data directory.
pub const KEY_FILE: &str = "incidents.key";

/// The key acknowledge links are signed with.
pub struct LinkKey(hmac::Key);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

impl LinkKey {
    /// Reads `incidents.key` in `dir`, creating it on the first start. A
    /// key file of the wrong size is replaced: old links then stop
    /// working, which is better than refusing to start.
    pub fn load_or_create(dir: &Path) -> Result<LinkKey> {
        let path = dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() == 32 => return Ok(LinkKey::from_bytes(&bytes)),
            Ok(bytes) => tracing::error!(
                "{} holds {} bytes, not 32; generating a new key (older acknowledge links stop working)",
                path.display(),
                bytes.len()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(Error::State {
                    op: "read",
                    path,
                    source,
                })
            }
        }
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| Error::Config("no system randomness for the incident link key".into()))?;
        write_atomic(&path, &bytes)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(LinkKey::from_bytes(&bytes))
    }

    /// A key from raw bytes (tests).
    pub fn from_bytes(bytes: &[u8]) -> LinkKey {
        LinkKey(hmac::Key::new(hmac::HMAC_SHA256, bytes))
    }

    /// A token acknowledging incident `id` until `expires`.
    pub fn sign(&self, id: u64, expires: DateTime<Utc>) -> String {
        let exp = expires.timestamp();
        let tag = hmac::sign(&self.0, format!("ack:{id}:{exp}").as_bytes());
        format!("{id}.{exp}.{}", hex(tag.as_ref()))
    }

    /// The incident id a token acknowledges, if it is ours and has not
    /// expired at `now`; the error says which check failed.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> std::result::Result<u64, String> {
        let mut parts = token.splitn(3, '.');
        let (Some(id), Some(exp), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("malformed acknowledge token".into());
        };
        let id: u64 = id
            .parse()
            .map_err(|_| "malformed acknowledge token".to_string())?;
        let exp: i64 = exp
            .parse()
            .map_err(|_| "malformed acknowledge token".to_string())?;
        let sig = unhex(sig).ok_or("malformed acknowledge token")?;
        hmac::verify(&self.0, format!("ack:{id}:{exp}").as_bytes(), &sig)
            .map_err(|_| "acknowledge token signature does not match".to_string())?;
        if now.timestamp() > exp {
            return Err("acknowledge link has expired".into());
        }
        Ok(id)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn tokens_verify_until_they_expire() {
        let k = LinkKey::from_bytes(&[7; 32]);
        let t0 = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let tok = k.sign(42, t0 + chrono::Duration::hours(1));
        assert!(tok.starts_with("42.1800003600."), "{tok}");
        // 32 bytes of tag as hex.
        assert_eq!(tok.rsplit('.').next().unwrap().len(), 64);
        assert_eq!(k.verify(&tok, t0), Ok(42));
        assert_eq!(
            k.verify(&tok, t0 + chrono::Duration::hours(2)),
            Err("acknowledge link has expired".into())
        );
        // Another id, another expiry or another key: refused.
        let forged = tok.replacen("42.", "43.", 1);
        assert!(k.verify(&forged, t0).unwrap_err().contains("signature"));
        let longer = tok.replacen(".1800003600.", ".1900000000.", 1);
        assert!(k.verify(&longer, t0).unwrap_err().contains("signature"));
        let other = LinkKey::from_bytes(&[8; 32]);
        assert!(other.verify(&tok, t0).is_err());
        assert!(k.verify("junk", t0).unwrap_err().contains("malformed"));
    }

    #[test]
    fn key_is_kept_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let tok = LinkKey::load_or_create(dir.path()).unwrap().sign(1, t0);
        assert_eq!(std::fs::read(dir.path().join(KEY_FILE)).unwrap().len(), 32);
        let again = LinkKey::load_or_create(dir.path()).unwrap();
        assert_eq!(again.verify(&tok, t0), Ok(1));
    }
}
