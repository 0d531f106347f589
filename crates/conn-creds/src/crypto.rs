//! The encryption key and the AEAD around it.
//!
//! - The master key is 32 bytes ([`EncryptionKey`]), from `API_CREDENTIAL_ENCRYPTION_KEY` (base64)
//!   or from a key file generated with the system CSPRNG.
//! - Two subkeys are derived from it with HKDF-SHA256 (`ring::hkdf`): the AES-256-GCM record key
//!   and a 16-byte key identifier stored in the file header, so a wrong key is recognised before
//!   any record is touched and is reported as such rather than as damage. Using separate subkeys
//!   keeps the identifier from being a function of the encryption key itself.
//! - Every seal uses a fresh 96-bit nonce from `ring::rand::SystemRandom`. With random nonces
//!   AES-GCM stays within its bounds for far more than 2^32 seals per key; a store rewrites a few
//!   records per write, so rotation is a hygiene step, not a necessity.

use std::fmt;

use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{CredsError, CredsResult};

/// Length of the master key in bytes.
pub const KEY_LEN: usize = 32;
/// Length of the key identifier kept in the file header.
pub const KEY_ID_LEN: usize = 16;
/// Length of an AES-GCM tag.
pub const TAG_LEN: usize = 16;

/// A 32-byte master key. Zeroized on drop; `Debug` redacts.
///
/// ```
/// use conn_creds::EncryptionKey;
/// let k = EncryptionKey::generate().unwrap();
/// let again = EncryptionKey::from_base64(&k.to_base64()).unwrap();
/// assert_eq!(k, again);
/// assert_eq!(format!("{k:?}"), "EncryptionKey([redacted])");
/// assert!(EncryptionKey::from_base64("too short").is_err());
/// ```
#[derive(Clone)]
pub struct EncryptionKey(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey([redacted])")
    }
}

impl PartialEq for EncryptionKey {
    fn eq(&self, other: &Self) -> bool {
        self.0[..].ct_eq(&other.0[..]).into()
    }
}

impl Eq for EncryptionKey {}

impl EncryptionKey {
    /// 32 bytes from the system CSPRNG.
    pub fn generate() -> CredsResult<Self> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        SystemRandom::new()
            .fill(&mut bytes[..])
            .map_err(|_| CredsError::Task("the system random generator failed".into()))?;
        Ok(Self(bytes))
    }

    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Parses base64 (standard or URL-safe alphabet, padded or not) of exactly 32 bytes.
    /// Errors say what is wrong and the expected form, never the value.
    pub fn from_base64(text: &str) -> CredsResult<Self> {
        Self::parse(text, "the given key")
    }

    pub(crate) fn parse(text: &str, origin: &str) -> CredsResult<Self> {
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
            Some(bytes) if bytes.len() == KEY_LEN => {
                let mut key = Zeroizing::new([0u8; KEY_LEN]);
                key.copy_from_slice(&bytes);
                return Ok(Self(key));
            }
            Some(bytes) => format!("decodes to {} bytes, not {KEY_LEN}", bytes.len()),
            None => format!("not base64 ({} characters)", text.chars().count()),
        };
        Err(CredsError::KeyFormat {
            origin: origin.to_owned(),
            problem,
        })
    }

    /// The key as standard padded base64 (the form the key file and the variable hold).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&self.0[..]))
    }
}

struct SubkeyLen(usize);

impl hkdf::KeyType for SubkeyLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// Salt and labels of the HKDF derivation; changing them is a format change.
const HKDF_SALT: &[u8] = b"conn-creds/store/v1";
const INFO_RECORD_KEY: &[u8] = b"conn-creds/v1 aes-256-gcm record key";
const INFO_KEY_ID: &[u8] = b"conn-creds/v1 key id";

fn derive(key: &EncryptionKey, info: &[u8], out: &mut [u8]) -> CredsResult<()> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(&key.0[..]);
    let infos = [info];
    prk.expand(&infos, SubkeyLen(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| CredsError::Task("HKDF key derivation failed".into()))
}

/// The record cipher: AES-256-GCM under the derived record key.
pub(crate) struct Cipher {
    key: LessSafeKey,
    key_id: [u8; KEY_ID_LEN],
    rng: SystemRandom,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(AES-256-GCM, [redacted])")
    }
}

impl Cipher {
    pub(crate) fn new(key: &EncryptionKey) -> CredsResult<Self> {
        let mut record_key = Zeroizing::new([0u8; KEY_LEN]);
        derive(key, INFO_RECORD_KEY, &mut record_key[..])?;
        let mut key_id = [0u8; KEY_ID_LEN];
        derive(key, INFO_KEY_ID, &mut key_id)?;
        let unbound = UnboundKey::new(&AES_256_GCM, &record_key[..])
            .map_err(|_| CredsError::Task("AES-256-GCM key setup failed".into()))?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            key_id,
            rng: SystemRandom::new(),
        })
    }

    pub(crate) fn key_id(&self) -> &[u8; KEY_ID_LEN] {
        &self.key_id
    }

    pub(crate) fn fresh_nonce(&self) -> CredsResult<[u8; NONCE_LEN]> {
        let mut n = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut n)
            .map_err(|_| CredsError::Task("the system random generator failed".into()))?;
        Ok(n)
    }

    /// Encrypts `plaintext` under a fresh nonce; returns the nonce and ciphertext‖tag.
    pub(crate) fn seal(
        &self,
        aad: &[u8],
        plaintext: &[u8],
    ) -> CredsResult<([u8; NONCE_LEN], Vec<u8>)> {
        let nonce = self.fresh_nonce()?;
        let mut buf = Vec::with_capacity(plaintext.len() + TAG_LEN);
        buf.extend_from_slice(plaintext);
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .map_err(|_| CredsError::Task("AES-256-GCM encryption failed".into()))?;
        Ok((nonce, buf))
    }

    /// Decrypts ciphertext‖tag; `None` when authentication fails (wrong key, other AAD, damage).
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Option<Zeroizing<Vec<u8>>> {
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        let len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                &mut buf,
            )
            .ok()?
            .len();
        buf.truncate(len);
        Some(buf)
    }

    /// A tag over `aad` alone (GMAC): authenticates the header and the record list.
    pub(crate) fn tag(&self, nonce: &[u8; NONCE_LEN], aad: &[u8]) -> CredsResult<[u8; TAG_LEN]> {
        let mut empty: [u8; 0] = [];
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                &mut empty,
            )
            .map_err(|_| CredsError::Task("AES-256-GCM tagging failed".into()))?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Checks a tag made by [`Cipher::tag`].
    pub(crate) fn verify_tag(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        tag: &[u8; TAG_LEN],
    ) -> bool {
        let mut buf = tag.to_vec();
        self.key
            .open_in_place(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                &mut buf,
            )
            .is_ok()
    }
}

/// The associated data that binds a record to its kind and (platform, name): a record moved to
/// another name, or a credential moved into a token slot, fails authentication.
pub(crate) fn record_aad(kind: u8, platform: &str, name: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(24 + platform.len() + name.len());
    aad.extend_from_slice(b"conn-creds/v1 record\0");
    aad.push(kind);
    aad.extend_from_slice(&(platform.len() as u32).to_le_bytes());
    aad.extend_from_slice(platform.as_bytes());
    aad.extend_from_slice(&(name.len() as u32).to_le_bytes());
    aad.extend_from_slice(name.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_aad_binding() {
        let c = Cipher::new(&EncryptionKey::generate().unwrap()).unwrap();
        let aad = record_aad(1, "douyin", "app_secret");
        let (n1, ct1) = c.seal(&aad, b"s3cret").unwrap();
        let (n2, ct2) = c.seal(&aad, b"s3cret").unwrap();
        assert_ne!(n1, n2, "fresh nonce per seal");
        assert_ne!(ct1, ct2);
        assert_eq!(&c.open(&n1, &aad, &ct1).unwrap()[..], b"s3cret");
        let other = record_aad(1, "douyin", "app_id");
        assert!(c.open(&n1, &other, &ct1).is_none());
        let mut bad = ct1.clone();
        bad[0] ^= 1;
        assert!(c.open(&n1, &aad, &bad).is_none());
        let c2 = Cipher::new(&EncryptionKey::generate().unwrap()).unwrap();
        assert!(c2.open(&n1, &aad, &ct1).is_none());
        assert_ne!(c.key_id(), c2.key_id());

        let t = c.tag(&n1, b"header").unwrap();
        assert!(c.verify_tag(&n1, b"header", &t));
        assert!(!c.verify_tag(&n1, b"headex", &t));
        assert!(!c2.verify_tag(&n1, b"header", &t));
    }

    #[test]
    fn key_parsing_accepts_both_alphabets_and_names_the_form() {
        let raw = [0xfbu8; 32];
        let k = EncryptionKey::from_bytes(raw);
        let std = base64::engine::general_purpose::STANDARD.encode(raw);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        assert!(std.contains('+') || std.contains('/'));
        assert_eq!(EncryptionKey::from_base64(&std).unwrap(), k);
        assert_eq!(EncryptionKey::from_base64(&url).unwrap(), k);
        assert_eq!(EncryptionKey::from_base64(&format!(" {std}\n")).unwrap(), k);

        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        let e = EncryptionKey::parse(&short, "API_CREDENTIAL_ENCRYPTION_KEY").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("16 bytes"), "{text}");
        assert!(text.contains("openssl rand -base64 32"), "{text}");
        assert!(!text.contains(&short), "{text}");
        let e = EncryptionKey::from_base64("not base64 at all!").unwrap_err();
        assert!(e.to_string().contains("not base64"), "{e}");
    }
}
