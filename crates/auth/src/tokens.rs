//! The `auth:` section of sightline.yml: bearer tokens with scopes.
//!
//! ```yaml
//! auth:
//!   tokens:
//!     - name: grafana
//!       sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//!       scopes: [read]
//!     - name: agent
//!       token_file: secrets/agent.token
//!       scopes: [write]
//! ```
//!
//! A token is never stored in the clear in the file: either its SHA-256
//! (hex) or a file holding it (read at start and on reload; surrounding
//! whitespace trimmed, as Prometheus trims `*_file` secrets). Tokens are
//! long random strings, so one SHA-256 suffices (unlike passwords, which
//! bcrypt slows on purpose).

use crate::scope::Scope;
use crate::{Error, Result};
use serde::Deserialize;
use std::path::Path;

/// `auth:` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// Bearer tokens.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
}

/// One token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// A name for logs and errors.
    pub name: String,
    /// SHA-256 of the token, hex.
    #[serde(default)]
    pub sha256: Option<String>,
    /// A file holding the token, relative to the config file's folder.
    #[serde(default)]
    pub token_file: Option<String>,
    /// What it may do.
    pub scopes: Vec<Scope>,
}

/// A checked token.
#[derive(Debug, Clone)]
pub struct Token {
    /// Its name.
    pub name: String,
    hash: [u8; 32],
    /// What it may do.
    pub scopes: Vec<Scope>,
}

/// The tokens in force.
#[derive(Debug, Clone, Default)]
pub struct Tokens(Vec<Token>);

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fn parse_hex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

impl AuthSection {
    /// Checks the section (`at` formats an error at a field path of the
    /// file) and reads token files relative to `base`.
    pub fn tokens(&self, base: &Path, at: &dyn Fn(&str, String) -> String) -> Result<Tokens> {
        let mut out = Vec::new();
        for (i, t) in self.tokens.iter().enumerate() {
            let field = |f: &str| format!("auth.tokens[{i}].{f}");
            if t.scopes.is_empty() {
                return Err(Error::Invalid(at(
                    &field("scopes"),
                    format!("token {:?} has no scopes (read, write, admin)", t.name),
                )));
            }
            let hash = match (&t.sha256, &t.token_file) {
                (Some(h), None) => parse_hex(h).ok_or_else(|| {
                    Error::Invalid(at(
                        &field("sha256"),
                        "not a SHA-256 in hex (64 hex digits)".into(),
                    ))
                })?,
                (None, Some(f)) => {
                    let p = base.join(f);
                    let text = std::fs::read_to_string(&p).map_err(|e| {
                        Error::Invalid(at(
                            &field("token_file"),
                            format!("reading {}: {e}", p.display()),
                        ))
                    })?;
                    let token = text.trim();
                    if token.is_empty() {
                        return Err(Error::Invalid(at(
                            &field("token_file"),
                            format!("{} is empty", p.display()),
                        )));
                    }
                    sha256(token.as_bytes())
                }
                _ => {
                    return Err(Error::Invalid(at(
                        &format!("auth.tokens[{i}]"),
                        format!(
                            "token {:?} needs exactly one of sha256 or token_file",
                            t.name
                        ),
                    )))
                }
            };
            out.push(Token {
                name: t.name.clone(),
                hash,
                scopes: t.scopes.clone(),
            });
        }
        Ok(Tokens(out))
    }
}

impl Tokens {
    /// Whether any token is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The token `presented` is, if any.
    pub fn find(&self, presented: &str) -> Option<&Token> {
        let h = sha256(presented.as_bytes());
        // Compare every byte of every entry: no early exit tells a
        // caller how close its guess came.
        let mut found = None;
        for t in &self.0 {
            let diff = t
                .hash
                .iter()
                .zip(h.iter())
                .fold(0u8, |a, (x, y)| a | (x ^ y));
            if diff == 0 && found.is_none() {
                found = Some(t);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &str, msg: String) -> String {
        format!("{path}: {msg}")
    }

    #[test]
    fn issue_18_tokens_by_hash_and_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t"), "secret-two\n").unwrap();
        let hex: String = sha256(b"secret-one")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let s = AuthSection {
            tokens: vec![
                TokenConfig {
                    name: "one".into(),
                    sha256: Some(hex),
                    token_file: None,
                    scopes: vec![Scope::Read],
                },
                TokenConfig {
                    name: "two".into(),
                    sha256: None,
                    token_file: Some("t".into()),
                    scopes: vec![Scope::Write],
                },
            ],
        };
        let t = s.tokens(dir.path(), &at).unwrap();
        assert_eq!(t.find("secret-one").unwrap().name, "one");
        assert_eq!(t.find("secret-two").unwrap().name, "two");
        assert!(t.find("secret-three").is_none());
        let bad = AuthSection {
            tokens: vec![TokenConfig {
                name: "x".into(),
                sha256: Some("abc".into()),
                token_file: None,
                scopes: vec![Scope::Read],
            }],
        };
        let e = bad.tokens(dir.path(), &at).unwrap_err().to_string();
        assert!(e.starts_with("auth.tokens[0].sha256: not a SHA-256"), "{e}");
    }
}
