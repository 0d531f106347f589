//! AES-256-GCM for token records at rest.
//!
//! The master key is the one conn-creds uses, in the same accepted form: 32 bytes as base64
//! (standard or URL-safe alphabet, padded or not) in `API_CREDENTIAL_ENCRYPTION_KEY`. The
//! record key is derived from it with HKDF-SHA256 under this crate's own salt and label, so a
//! Redis record and a conn-creds file never share a key even when the master key is the same.
//!
//! A record is `version (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`. The record's name
//! (`platform/account`) is the associated data: a record copied under another name does not
//! decrypt. Nonces are 96 random bits from `ring::rand::SystemRandom`.

use std::fmt;

use base64::Engine as _;
use conn_core::env::Env;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::{RedisError, Result};

/// The variable holding the master key (shared with conn-creds).
pub const ENCRYPTION_KEY_VAR: &str = "API_CREDENTIAL_ENCRYPTION_KEY";

const KEY_LEN: usize = 32;
const FORMAT_V1: u8 = 1;
const HKDF_SALT: &[u8] = b"conn-redis/tokens/v1";
const INFO_RECORD_KEY: &[u8] = b"conn-redis/v1 aes-256-gcm token record key";

/// Seals and opens token records. `Debug` redacts.
///
/// ```
/// use conn_redis::TokenCipher;
/// let cipher = TokenCipher::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")?;
/// let sealed = cipher.seal("douyin/acct", b"{}")?;
/// assert_eq!(&*cipher.open("douyin/acct", &sealed)?, b"{}");
/// assert!(cipher.open("douyin/other", &sealed).is_err()); // the name is bound in
/// assert!(TokenCipher::from_base64("short").is_err());
/// # Ok::<(), conn_redis::RedisError>(())
/// ```
pub struct TokenCipher {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCipher(AES-256-GCM, [redacted])")
    }
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl TokenCipher {
    /// From `API_CREDENTIAL_ENCRYPTION_KEY`.
    ///
    /// # Errors
    /// [`RedisError::Config`] naming the variable when it is unset (a Redis token store never
    /// writes tokens in clear) or not base64 of 32 bytes.
    pub fn from_env_with(env: &Env) -> Result<Self> {
        match env.secret(ENCRYPTION_KEY_VAR) {
            Some(key) => Self::from_base64(key.expose_secret()),
            None => Err(RedisError::Config {
                var: ENCRYPTION_KEY_VAR,
                problem: "not set; tokens in Redis are always encrypted: set it to 32 random bytes in base64 (the key conn-creds uses)".into(),
            }),
        }
    }

    /// From base64 of exactly 32 bytes (standard or URL-safe alphabet, padded or not).
    ///
    /// # Errors
    /// [`RedisError::Config`] saying what is wrong, never the value.
    pub fn from_base64(text: &str) -> Result<Self> {
        let text = text.trim();
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let decoded = engines
            .iter()
            .find_map(|e| e.decode(text).ok().map(Zeroizing::new));
        let problem = match decoded {
            Some(bytes) if bytes.len() == KEY_LEN => return Self::from_key(&bytes),
            Some(bytes) => format!("decodes to {} bytes, not {KEY_LEN}", bytes.len()),
            None => format!("not base64 ({} characters)", text.chars().count()),
        };
        Err(RedisError::Config {
            var: ENCRYPTION_KEY_VAR,
            problem,
        })
    }

    fn from_key(master: &[u8]) -> Result<Self> {
        let internal = |what: &str| RedisError::Config {
            var: ENCRYPTION_KEY_VAR,
            problem: format!("{what} failed"),
        };
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(master);
        let mut record_key = Zeroizing::new([0u8; KEY_LEN]);
        prk.expand(&[INFO_RECORD_KEY], Len(KEY_LEN))
            .and_then(|okm| okm.fill(&mut record_key[..]))
            .map_err(|_| internal("HKDF key derivation"))?;
        let unbound = UnboundKey::new(&AES_256_GCM, &record_key[..])
            .map_err(|_| internal("AES key setup"))?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        })
    }

    /// Encrypts `plaintext` bound to `name`.
    ///
    /// # Errors
    /// [`RedisError::Record`] if the system random generator fails.
    pub fn seal(&self, name: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| RedisError::Record {
            record: name.to_owned(),
            problem: "the system random generator failed".into(),
        })?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut body,
            )
            .map_err(|_| RedisError::Record {
                record: name.to_owned(),
                problem: "encryption failed".into(),
            })?;
        out.extend_from_slice(&body);
        body.iter_mut().for_each(|b| *b = 0);
        Ok(out)
    }

    /// Decrypts a record sealed under `name`.
    ///
    /// # Errors
    /// [`RedisError::Record`] for another format version, a truncated record, another key or
    /// another name.
    pub fn open(&self, name: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let bad = |problem: &str| RedisError::Record {
            record: name.to_owned(),
            problem: problem.to_owned(),
        };
        let (&version, rest) = sealed.split_first().ok_or_else(|| bad("empty record"))?;
        if version != FORMAT_V1 {
            return Err(bad("unknown record format version"));
        }
        if rest.len() < NONCE_LEN + 16 {
            return Err(bad("truncated record"));
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| bad("bad nonce"))?;
        let mut buf = Zeroizing::new(body.to_vec());
        let len = self
            .key
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut buf[..])
            .map_err(|_| {
                bad("cannot be decrypted: another API_CREDENTIAL_ENCRYPTION_KEY, a record moved from another name, or damage")
            })?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use conn_core::env::MapEnv;

    const K: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn round_trip_and_tamper() {
        let c = TokenCipher::from_base64(K).unwrap();
        let s = c.seal("ths/default", b"secret-json").unwrap();
        assert!(
            !s.windows(6).any(|w| w == b"secret"),
            "ciphertext leaks plaintext"
        );
        assert_eq!(&**c.open("ths/default", &s).unwrap(), b"secret-json");
        let mut t = s.clone();
        let last = t.len() - 1;
        t[last] ^= 1;
        assert!(c.open("ths/default", &t).is_err());
        assert!(c.open("ths/default", &s[..10]).is_err());
        assert!(c.open("ths/default", &[]).is_err());
        let other = TokenCipher::from_base64(&K.replace('M', "N")).unwrap();
        assert!(other.open("ths/default", &s).is_err());
    }

    #[test]
    fn key_forms_mirror_conn_creds() {
        // URL-safe and unpadded forms of the same 32 bytes are accepted.
        let raw = base64::engine::general_purpose::STANDARD.decode(K).unwrap();
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw);
        let a = TokenCipher::from_base64(K).unwrap();
        let b = TokenCipher::from_base64(&format!("  {url}\n")).unwrap();
        assert_eq!(&**b.open("x", &a.seal("x", b"v").unwrap()).unwrap(), b"v");
        for bad in ["", "not base64!", "AAAA"] {
            let e = TokenCipher::from_base64(bad).unwrap_err().to_string();
            assert!(e.starts_with(ENCRYPTION_KEY_VAR), "{e}");
        }
    }

    #[test]
    fn no_key_is_a_config_error_naming_the_variable() {
        let e = TokenCipher::from_env_with(&Env::from_source(MapEnv::new())).unwrap_err();
        assert!(matches!(
            e,
            RedisError::Config {
                var: ENCRYPTION_KEY_VAR,
                ..
            }
        ));
        assert_eq!(
            format!("{:?}", TokenCipher::from_base64(K).unwrap()),
            "TokenCipher(AES-256-GCM, [redacted])"
        );
    }
}
