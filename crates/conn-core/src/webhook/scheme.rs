//! Signature schemes (what a sender signs and how it writes the signature) and the keyed state
//! each active secret becomes.

use hmac::Hmac;
use http::HeaderName;
use sha1::Sha1;
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

pub(super) const SHA1_LEN: usize = 20;
pub(super) const SHA256_LEN: usize = 32;

/// How a webhook's signature is computed and where it is sent.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureScheme {
    /// Douyin: lowercase hex SHA-1 of (secret bytes ‖ raw body bytes); plain SHA-1, not HMAC.
    Sha1SecretBody {
        /// The header carrying the signature (`x-douyin-signature`).
        header: HeaderName,
    },
    /// Generic HMAC-SHA256 (Stripe/GitHub style): a MAC over the payload keyed with the secret.
    HmacSha256 {
        /// The header carrying the signature (`x-hub-signature-256`, ...).
        header: HeaderName,
        /// How the MAC is written in the header.
        encoding: SignatureEncoding,
        /// A prefix before the encoded MAC, like GitHub's `sha256=` (matched case-insensitively).
        prefix: Option<String>,
        /// What the MAC covers.
        payload: SignedPayload,
    },
}

impl SignatureScheme {
    /// The header carrying the signature.
    pub fn header(&self) -> &HeaderName {
        match self {
            Self::Sha1SecretBody { header } | Self::HmacSha256 { header, .. } => header,
        }
    }
}

/// How a MAC is written in its header.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureEncoding {
    /// Hexadecimal, either case accepted, lowercase produced.
    Hex,
    /// Standard base64 alphabet, padding optional on input, padded on output.
    Base64,
}

/// What an HMAC signature covers.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedPayload {
    /// The raw body bytes.
    Body,
    /// `"{timestamp}.{body}"` (Stripe style), with the timestamp exactly as sent in the timestamp
    /// header: needs [`WebhookVerifier::with_timestamp_header`](super::WebhookVerifier::with_timestamp_header).
    TimestampDotBody,
}

/// The scheme's parameters with per-secret state keyed once and cloned per message: re-keying
/// would cost more than the hash of a typical body.
#[derive(Clone)]
pub(super) enum Keys {
    /// SHA-1 hashers already fed with their secret.
    Sha1(Vec<Sha1>),
    /// HMACs already keyed (their inner and outer pad blocks are hashed).
    Hmac {
        encoding: SignatureEncoding,
        prefix: Option<String>,
        payload: SignedPayload,
        macs: Vec<Hmac<Sha256>>,
    },
}

impl Keys {
    pub(super) fn for_scheme(scheme: &SignatureScheme) -> Self {
        match scheme {
            SignatureScheme::Sha1SecretBody { .. } => Self::Sha1(Vec::new()),
            SignatureScheme::HmacSha256 {
                encoding,
                prefix,
                payload,
                ..
            } => Self::Hmac {
                encoding: *encoding,
                prefix: prefix.clone(),
                payload: *payload,
                macs: Vec::new(),
            },
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Self::Sha1(hashers) => hashers.len(),
            Self::Hmac { macs, .. } => macs.len(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Constant-time equality of two byte strings of the same length, compared a 64-bit word at a
/// time with `subtle` (a byte-wise `ct_eq` costs more than hex decoding a signature).
pub(super) fn ct_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    fn word(chunk: &[u8]) -> u64 {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        u64::from_ne_bytes(w)
    }
    if a.len() != b.len() {
        return false;
    }
    let mut equal = Choice::from(1);
    let (mut wa, mut wb) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut wa).zip(&mut wb) {
        equal &= word(x).ct_eq(&word(y));
    }
    equal &= word(wa.remainder()).ct_eq(&word(wb.remainder()));
    equal.into()
}
