//! The store file: a versioned header followed by length-prefixed encrypted records.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "CONNCRED"
//!      8     2  format version (u16 LE) = 1
//!     10     2  algorithm id (u16 LE) = 1 (AES-256-GCM, HKDF-SHA256 subkeys)
//!     12     4  flags (u32 LE) = 0, reserved
//!     16     8  generation (u64 LE): +1 on every write
//!     24     4  record count (u32 LE)
//!     28    16  key id (HKDF of the master key): tells "wrong key" from "damaged"
//!     44    12  header nonce (fresh per write)
//!     56    16  header tag: GMAC over bytes 0..28 and SHA-256 of the record area
//!     72     …  records, sorted by (kind, platform, name), each:
//!                 kind u8 (1 credential, 2 token)
//!                 platform length u8, platform bytes
//!                 name length u16 LE, name bytes (credential name or token account)
//!                 nonce [12]
//!                 ciphertext length u32 LE, ciphertext‖tag
//! ```
//!
//! Each record is sealed with AES-256-GCM under a fresh nonce, with associated data binding its
//! kind, platform and name ([`crate::crypto`]): a record swapped with another, or renamed, fails
//! authentication and is named in the error. The header tag covers the record count and a hash
//! of the whole record area, so a removed, duplicated or reordered record, or any flipped byte
//! between records, is detected too. The generation and header nonce identify a file version:
//! a handle compares them to know whether another process wrote the store.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use conn_core::secret::Secret;
use ring::aead::NONCE_LEN;
use ring::digest;

use crate::crypto::{record_aad, Cipher, KEY_ID_LEN, TAG_LEN};
use crate::error::{CredsError, CredsResult, RecordRef};
use crate::names::{self, MAX_VALUE_LEN};

/// File magic.
pub const MAGIC: [u8; 8] = *b"CONNCRED";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Algorithm id 1: AES-256-GCM records, HKDF-SHA256 subkeys.
pub const ALG_AES_256_GCM: u16 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 72;

const AUTH_PREFIX_LEN: usize = 28;
const HEADER_TAG_LABEL: &[u8] = b"conn-creds/v1 header\0";

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Credential = 1,
    Token = 2,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Kind::Credential),
            2 => Some(Kind::Token),
            _ => None,
        }
    }
}

/// A decrypted record with its sealed form, so a rewrite re-uses the ciphertext of records it
/// did not change. Cloning is cheap (shared buffers).
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) ciphertext: Arc<[u8]>,
    pub(crate) value: Arc<Secret>,
}

impl Entry {
    /// Seals a new value for (kind, platform, name).
    pub(crate) fn seal(
        cipher: &Cipher,
        kind: Kind,
        platform: &str,
        name: &str,
        value: Secret,
    ) -> CredsResult<Self> {
        let aad = record_aad(kind as u8, platform, name);
        let (nonce, ct) = cipher.seal(&aad, value.expose_secret().as_bytes())?;
        Ok(Self {
            nonce,
            ciphertext: ct.into(),
            value: Arc::new(value),
        })
    }
}

/// platform → name → entry.
pub(crate) type Table = BTreeMap<String, BTreeMap<String, Entry>>;

/// Every record of a store, decrypted.
#[derive(Clone, Default)]
pub(crate) struct Records {
    pub(crate) creds: Table,
    pub(crate) tokens: Table,
}

impl Records {
    pub(crate) fn table(&self, kind: Kind) -> &Table {
        match kind {
            Kind::Credential => &self.creds,
            Kind::Token => &self.tokens,
        }
    }

    pub(crate) fn table_mut(&mut self, kind: Kind) -> &mut Table {
        match kind {
            Kind::Credential => &mut self.creds,
            Kind::Token => &mut self.tokens,
        }
    }

    pub(crate) fn get(&self, kind: Kind, platform: &str, name: &str) -> Option<&Entry> {
        self.table(kind).get(platform)?.get(name)
    }

    pub(crate) fn insert(&mut self, kind: Kind, platform: &str, name: &str, entry: Entry) {
        self.table_mut(kind)
            .entry(platform.to_owned())
            .or_default()
            .insert(name.to_owned(), entry);
    }

    pub(crate) fn remove(&mut self, kind: Kind, platform: &str, name: &str) -> bool {
        let table = self.table_mut(kind);
        let Some(names) = table.get_mut(platform) else {
            return false;
        };
        let removed = names.remove(name).is_some();
        if names.is_empty() {
            table.remove(platform);
        }
        removed
    }

    pub(crate) fn len(&self) -> usize {
        let count = |t: &Table| t.values().map(BTreeMap::len).sum::<usize>();
        count(&self.creds) + count(&self.tokens)
    }

    fn iter(&self) -> impl Iterator<Item = (Kind, &str, &str, &Entry)> {
        flat(Kind::Credential, &self.creds).chain(flat(Kind::Token, &self.tokens))
    }
}

fn flat(kind: Kind, t: &Table) -> impl Iterator<Item = (Kind, &str, &str, &Entry)> {
    t.iter().flat_map(move |(p, names)| {
        names
            .iter()
            .map(move |(n, e)| (kind, p.as_str(), n.as_str(), e))
    })
}

/// Identifies one written version of the store file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version {
    pub(crate) generation: u64,
    pub(crate) nonce: [u8; NONCE_LEN],
}

/// The fixed header fields.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub(crate) version: Version,
    count: u32,
    key_id: [u8; KEY_ID_LEN],
    tag: [u8; TAG_LEN],
}

/// Reads the header: magic, version and algorithm are checked here; the tag later, with the key.
pub(crate) fn parse_header(file: &Path, bytes: &[u8]) -> CredsResult<Header> {
    let unsupported = |detail: String| CredsError::UnsupportedFormat {
        file: file.to_owned(),
        detail,
    };
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(unsupported(format!(
            "no store header (expected magic {:?}, file is {} bytes)",
            String::from_utf8_lossy(&MAGIC),
            bytes.len()
        )));
    }
    if bytes.len() < HEADER_LEN {
        return Err(CredsError::integrity(
            file,
            RecordRef::Header,
            format!("truncated header ({} of {HEADER_LEN} bytes)", bytes.len()),
        ));
    }
    let mut r = Reader::new(bytes, MAGIC.len());
    let version = r.u16().unwrap_or(0);
    let alg = r.u16().unwrap_or(0);
    if version != FORMAT_VERSION {
        return Err(unsupported(format!(
            "format version {version}; this build reads version {FORMAT_VERSION}"
        )));
    }
    if alg != ALG_AES_256_GCM {
        return Err(unsupported(format!(
            "algorithm id {alg}; this build knows {ALG_AES_256_GCM} (AES-256-GCM)"
        )));
    }
    let header = (|| {
        let _flags = r.u32()?;
        let generation = r.u64()?;
        let count = r.u32()?;
        let key_id = r.array::<KEY_ID_LEN>()?;
        let nonce = r.array::<NONCE_LEN>()?;
        let tag = r.array::<TAG_LEN>()?;
        Some(Header {
            version: Version { generation, nonce },
            count,
            key_id,
            tag,
        })
    })();
    header.ok_or_else(|| CredsError::integrity(file, RecordRef::Header, "truncated header"))
}

/// Decodes and decrypts a whole store file.
///
/// Order of checks, so each failure gets the most useful name: header format; framing of every
/// record (key-independent); the key id (wrong key); each record's tag (names the record); the
/// header tag over the count and record area (removed/reordered records, damage between them).
pub(crate) fn decode(file: &Path, bytes: &[u8], cipher: &Cipher) -> CredsResult<(Header, Records)> {
    let header = parse_header(file, bytes)?;
    let area = &bytes[HEADER_LEN..];
    let raw = parse_records(file, area)?;
    let header_ok = || {
        cipher.verify_tag(
            &header.version.nonce,
            &header_aad(&bytes[..AUTH_PREFIX_LEN], area),
            &header.tag,
        )
    };
    if &header.key_id != cipher.key_id() {
        // Either the key is wrong or the key id itself was damaged; the header tag tells which.
        return Err(if header_ok() {
            CredsError::integrity(file, RecordRef::Header, "key id field damaged")
        } else {
            CredsError::WrongKey {
                file: file.to_owned(),
                key_origin: String::new(),
            }
        });
    }
    let mut records = Records::default();
    for r in &raw {
        let aad = record_aad(r.kind as u8, &r.platform, &r.name);
        let plain = cipher.open(&r.nonce, &aad, r.ciphertext).ok_or_else(|| {
            CredsError::integrity(
                file,
                r.record_ref(),
                "authentication failed (record altered, or moved from another name)",
            )
        })?;
        let text = std::str::from_utf8(&plain).map_err(|_| {
            CredsError::integrity(file, r.record_ref(), "decrypted value is not UTF-8")
        })?;
        let entry = Entry {
            nonce: r.nonce,
            ciphertext: r.ciphertext.into(),
            value: Arc::new(Secret::new(text)),
        };
        records.insert(r.kind, &r.platform, &r.name, entry);
    }
    if usize::try_from(header.count).ok() != Some(raw.len()) || !header_ok() {
        return Err(CredsError::integrity(
            file,
            RecordRef::Header,
            format!(
                "record list does not match the header (header says {} records, found {}; records removed, reordered or altered)",
                header.count,
                raw.len()
            ),
        ));
    }
    if records.len() != raw.len() {
        return Err(CredsError::integrity(
            file,
            RecordRef::Header,
            "duplicate records",
        ));
    }
    Ok((header, records))
}

/// Encodes and seals a store file with the given generation. Unchanged records keep their
/// ciphertext; the header gets a fresh nonce and tag.
pub(crate) fn encode(
    records: &Records,
    generation: u64,
    cipher: &Cipher,
) -> CredsResult<(Vec<u8>, Version)> {
    let count = u32::try_from(records.len()).map_err(|_| CredsError::TooLarge {
        field: "records",
        limit: u32::MAX as usize,
    })?;
    let mut out = Vec::with_capacity(HEADER_LEN + records.len() * 96);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&ALG_AES_256_GCM.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&generation.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(cipher.key_id());
    let nonce = cipher.fresh_nonce()?;
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&[0u8; TAG_LEN]);
    debug_assert_eq!(out.len(), HEADER_LEN);
    for (kind, platform, name, e) in records.iter() {
        let plen = u8::try_from(platform.len()).map_err(|_| CredsError::TooLarge {
            field: "platform",
            limit: u8::MAX as usize,
        })?;
        let nlen = u16::try_from(name.len()).map_err(|_| CredsError::TooLarge {
            field: "name",
            limit: u16::MAX as usize,
        })?;
        let clen = u32::try_from(e.ciphertext.len()).map_err(|_| CredsError::TooLarge {
            field: "value",
            limit: MAX_VALUE_LEN,
        })?;
        out.push(kind as u8);
        out.push(plen);
        out.extend_from_slice(platform.as_bytes());
        out.extend_from_slice(&nlen.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&e.nonce);
        out.extend_from_slice(&clen.to_le_bytes());
        out.extend_from_slice(&e.ciphertext);
    }
    let tag = cipher.tag(
        &nonce,
        &header_aad(&out[..AUTH_PREFIX_LEN], &out[HEADER_LEN..]),
    )?;
    out[HEADER_LEN - TAG_LEN..HEADER_LEN].copy_from_slice(&tag);
    Ok((out, Version { generation, nonce }))
}

fn header_aad(prefix: &[u8], area: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(HEADER_TAG_LABEL.len() + prefix.len() + 32);
    aad.extend_from_slice(HEADER_TAG_LABEL);
    aad.extend_from_slice(prefix);
    aad.extend_from_slice(digest::digest(&digest::SHA256, area).as_ref());
    aad
}

struct RawRecord<'a> {
    kind: Kind,
    platform: String,
    name: String,
    nonce: [u8; NONCE_LEN],
    ciphertext: &'a [u8],
}

impl RawRecord<'_> {
    fn record_ref(&self) -> RecordRef {
        match self.kind {
            Kind::Credential => RecordRef::Credential {
                platform: self.platform.clone(),
                name: self.name.clone(),
            },
            Kind::Token => RecordRef::Token {
                platform: self.platform.clone(),
                account: self.name.clone(),
            },
        }
    }
}

fn parse_records<'a>(file: &Path, area: &'a [u8]) -> CredsResult<Vec<RawRecord<'a>>> {
    let mut r = Reader::new(area, 0);
    let mut out = Vec::new();
    while !r.done() {
        let index = out.len();
        let offset = HEADER_LEN + r.pos;
        let broken = |detail: &str| {
            CredsError::integrity(file, RecordRef::Index { index, offset }, detail.to_owned())
        };
        let kind = r
            .u8()
            .and_then(Kind::from_byte)
            .ok_or_else(|| broken("unknown record kind"))?;
        let platform = r
            .u8()
            .and_then(|n| r.bytes(usize::from(n)))
            .and_then(|b| std::str::from_utf8(b).ok())
            .filter(|p| names::check_platform(p).is_ok())
            .ok_or_else(|| broken("bad platform field"))?
            .to_owned();
        let name_ok = |n: &str| match kind {
            Kind::Credential => names::check_name(n).is_ok(),
            Kind::Token => names::check_account(n).is_ok(),
        };
        let name = r
            .u16()
            .and_then(|n| r.bytes(usize::from(n)))
            .and_then(|b| std::str::from_utf8(b).ok())
            .filter(|n| name_ok(n))
            .ok_or_else(|| broken("bad name field"))?
            .to_owned();
        let nonce = r.array::<NONCE_LEN>().ok_or_else(|| broken("truncated"))?;
        let ciphertext = r
            .u32()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| (TAG_LEN..=MAX_VALUE_LEN + TAG_LEN).contains(n))
            .and_then(|n| r.bytes(n))
            .ok_or_else(|| broken("bad or truncated ciphertext"))?;
        out.push(RawRecord {
            kind,
            platform,
            name,
            nonce,
            ciphertext,
        });
    }
    Ok(out)
}

/// A bounds-checked little-endian reader: every read past the end is `None`, never a panic.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], pos: usize) -> Self {
        Self { buf, pos }
    }
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N)?.try_into().ok()
    }
    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }
    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::EncryptionKey;

    fn sample(cipher: &Cipher) -> Records {
        let mut r = Records::default();
        for (p, n, v) in [
            ("douyin", "app_id", "id-1"),
            ("douyin", "app_secret", "secret-1"),
            ("ths", "refresh_token", "rt-1"),
        ] {
            let e = Entry::seal(cipher, Kind::Credential, p, n, Secret::new(v)).unwrap();
            r.insert(Kind::Credential, p, n, e);
        }
        let e = Entry::seal(
            cipher,
            Kind::Token,
            "douyin",
            "_000open+id",
            Secret::new("{}"),
        )
        .unwrap();
        r.insert(Kind::Token, "douyin", "_000open+id", e);
        r
    }

    /// The store file parser on hostile files: a valid file with bytes flipped, inserted,
    /// removed or cut, and random bytes after a valid magic. No panic, no allocation driven by
    /// a length field beyond the file, errors short. Seeded; 10,000 cases.
    #[test]
    fn the_parser_never_panics_on_damaged_files() {
        use conn_core::testing::fuzz;
        use proptest::prelude::*;
        let c = Cipher::new(&EncryptionKey::generate().unwrap()).unwrap();
        let (valid, _) = encode(&sample(&c), 7, &c).unwrap();
        let n = valid.len();
        #[derive(Debug, Clone)]
        enum Edit {
            Flip(usize, u8),
            Insert(usize, u8),
            Remove(usize),
            Cut(usize),
        }
        let edit = prop_oneof![
            (0..n, 1u8..=255).prop_map(|(i, b)| Edit::Flip(i, b)),
            (0..n, any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
            (0..n).prop_map(Edit::Remove),
            (0..n).prop_map(Edit::Cut),
        ];
        let damaged = prop::collection::vec(edit, 1..6).prop_map(move |edits| {
            let mut b = valid.clone();
            for e in edits {
                match e {
                    Edit::Flip(i, x) if i < b.len() => b[i] ^= x,
                    Edit::Insert(i, x) => b.insert(i.min(b.len()), x),
                    Edit::Remove(i) if i < b.len() => {
                        b.remove(i);
                    }
                    Edit::Cut(i) => b.truncate(i),
                    _ => {}
                }
            }
            b
        });
        let random = prop::collection::vec(any::<u8>(), 0..300).prop_map(|tail| {
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
            b.extend_from_slice(&ALG_AES_256_GCM.to_le_bytes());
            b.extend(tail);
            b
        });
        let file = std::path::Path::new("store.bin");
        let ran = fuzz(10_000, prop_oneof![damaged, random], |bytes| {
            let _ = parse_header(file, &bytes);
            if let Err(e) = decode(file, &bytes, &c) {
                prop_assert!(e.to_string().len() <= 1024, "{}", e.to_string().len());
            }
            Ok(())
        });
        assert_eq!(ran, 10_000);
    }

    #[test]
    fn encode_decode_round_trip() {
        let c = Cipher::new(&EncryptionKey::generate().unwrap()).unwrap();
        let (bytes, v) = encode(&sample(&c), 7, &c).unwrap();
        let (h, r) = decode(Path::new("s"), &bytes, &c).unwrap();
        assert_eq!(h.version, v);
        assert_eq!(h.version.generation, 7);
        assert_eq!(r.len(), 4);
        assert_eq!(
            r.get(Kind::Credential, "douyin", "app_secret")
                .unwrap()
                .value
                .expose_secret(),
            "secret-1"
        );
        assert!(r.get(Kind::Token, "douyin", "_000open+id").is_some());
        assert!(r.get(Kind::Credential, "douyin", "_000open+id").is_none());
    }

    #[test]
    fn every_single_byte_flip_is_detected_and_typed() {
        let c = Cipher::new(&EncryptionKey::generate().unwrap()).unwrap();
        let (bytes, _) = encode(&sample(&c), 1, &c).unwrap();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            let e = match decode(Path::new("s"), &b, &c) {
                Ok(_) => panic!("flip at byte {i} went unnoticed"),
                Err(e) => e,
            };
            match e {
                CredsError::Integrity { .. } => {}
                CredsError::UnsupportedFormat { .. } if i < 12 => {}
                other => panic!("byte {i}: unexpected {other:?}"),
            }
        }
        for len in [0, 5, 40, HEADER_LEN + 3, bytes.len() - 1] {
            assert!(decode(Path::new("s"), &bytes[..len], &c).is_err(), "{len}");
        }
    }

    #[test]
    fn wrong_key_is_not_reported_as_damage() {
        let c = Cipher::new(&EncryptionKey::generate().unwrap()).unwrap();
        let other = Cipher::new(&EncryptionKey::generate().unwrap()).unwrap();
        let (bytes, _) = encode(&sample(&c), 1, &c).unwrap();
        let e = decode(Path::new("s"), &bytes, &other).err().unwrap();
        assert!(e.is_wrong_key(), "{e:?}");
    }
}
