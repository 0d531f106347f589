//! Signature, timestamp and replay checks of incoming webhooks.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha1::{Digest, Sha1};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

use super::{SeenIds, WebhookError};
use crate::clock::{self, SharedClock};
use crate::secret::Secret;

/// Default cap on a webhook body: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// Default capacity of the seen-id cache of [`WebhookVerifier::douyin`].
pub const DEFAULT_SEEN_IDS_CAPACITY: usize = 10_000;

/// Longest message id accepted, in bytes: with the cache's capacity, it bounds its memory.
pub const MAX_ID_LEN: usize = 512;

const SHA1_LEN: usize = 20;
const SHA256_LEN: usize = 32;

/// Base64 as senders write it: standard alphabet, padding optional.
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

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
    /// header: needs [`WebhookVerifier::with_timestamp_header`].
    TimestampDotBody,
}

/// What a successful [`WebhookVerifier::verify`] learned about the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The message id, when an id header is configured.
    pub id: Option<String>,
    /// The message timestamp (seconds since the Unix epoch), when a timestamp header is configured.
    pub timestamp: Option<i64>,
    /// Which secret matched, in the order they were added (0 is the first).
    pub secret_index: usize,
}

/// The scheme's parameters with per-secret state keyed once and cloned per message: re-keying
/// would cost more than the hash of a typical body.
#[derive(Clone)]
enum Keys {
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
    fn for_scheme(scheme: &SignatureScheme) -> Self {
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

    fn len(&self) -> usize {
        match self {
            Self::Sha1(hashers) => hashers.len(),
            Self::Hmac { macs, .. } => macs.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone)]
struct Config {
    scheme: SignatureScheme,
    keys: Keys,
    timestamp: Option<(HeaderName, Duration)>,
    id_header: Option<HeaderName>,
    max_body_bytes: usize,
    clock: SharedClock,
}

/// Verifies incoming webhooks: body size, signature, timestamp, replay.
///
/// Build one per endpoint and share it (it is `Clone`, clones share the seen-id cache). Several
/// secrets can be active at once for rotation: each is tried, and [`Verified::secret_index`]
/// says which one matched. An empty secret (an unset variable) is ignored, and a verifier without
/// any secret rejects everything with [`WebhookError::NoSecret`] rather than accepting a
/// signature anyone can compute.
///
/// `Debug` shows the configuration and the number of secrets, never a secret.
///
/// ```
/// use std::time::Duration;
/// use conn_core::webhook::{SignatureEncoding, SignatureScheme, SignedPayload, WebhookVerifier};
/// use http::HeaderName;
///
/// // GitHub style: `x-hub-signature-256: sha256=<hex HMAC-SHA256 of the body>`.
/// let verifier = WebhookVerifier::new(SignatureScheme::HmacSha256 {
///     header: HeaderName::from_static("x-hub-signature-256"),
///     encoding: SignatureEncoding::Hex,
///     prefix: Some("sha256=".into()),
///     payload: SignedPayload::Body,
/// })
/// .with_secret("old-secret")
/// .with_secret("new-secret")
/// .with_id_header(HeaderName::from_static("x-github-delivery"), 1000);
///
/// let body = br#"{"action":"opened"}"#;
/// let headers = verifier.sign_with(1, body, None, Some("delivery-1"))?;
/// let verified = verifier.verify(&headers, body)?;
/// assert_eq!(verified.secret_index, 1);
/// assert_eq!(verified.id.as_deref(), Some("delivery-1"));
/// assert!(verifier.verify(&headers, b"{}").is_err()); // another body
/// # Ok::<(), conn_core::webhook::WebhookError>(())
/// ```
#[derive(Clone)]
pub struct WebhookVerifier {
    config: Arc<Config>,
    seen: Option<Arc<SeenIds>>,
}

impl WebhookVerifier {
    /// A verifier for `scheme`, with no secret yet, no timestamp or id header, a 1 MiB body cap
    /// and the system clock.
    pub fn new(scheme: SignatureScheme) -> Self {
        let keys = Keys::for_scheme(&scheme);
        Self {
            config: Arc::new(Config {
                scheme,
                keys,
                timestamp: None,
                id_header: None,
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                clock: clock::system(),
            }),
            seen: None,
        }
    }

    /// Douyin's scheme: `x-douyin-signature` = hex SHA-1 of (client secret ‖ body), and a replay
    /// cache of [`DEFAULT_SEEN_IDS_CAPACITY`] ids keyed by `msg-id` (the platform retries an
    /// event up to 3 times). Add the client secret with [`with_secret`](Self::with_secret).
    ///
    /// ```
    /// use conn_core::secret::Secret;
    /// use conn_core::webhook::{douyin_signature, WebhookVerifier};
    ///
    /// let secret = Secret::new("client-secret");
    /// let verifier = WebhookVerifier::douyin().with_secret(secret.clone());
    /// let body = br#"{"event":"verify_webhook","content":{"challenge":12345}}"#;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("X-Douyin-Signature", douyin_signature(&secret, body).parse().unwrap());
    /// headers.insert("Msg-Id", "1".parse().unwrap());
    /// assert!(verifier.verify(&headers, body).is_ok());
    /// ```
    pub fn douyin() -> Self {
        Self::new(SignatureScheme::Sha1SecretBody {
            header: HeaderName::from_static("x-douyin-signature"),
        })
        .with_id_header(HeaderName::from_static("msg-id"), DEFAULT_SEEN_IDS_CAPACITY)
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Adds an active secret. Call it several times during a rotation: every active secret is
    /// tried. An empty secret is ignored (with a warning).
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Self {
        let secret = secret.into();
        if secret.is_empty() {
            tracing::warn!("ignoring an empty webhook secret");
            return self;
        }
        let bytes = secret.expose_secret().as_bytes();
        match &mut self.config_mut().keys {
            Keys::Sha1(keys) => keys.push(Sha1::new_with_prefix(bytes)),
            Keys::Hmac { macs, .. } => match Hmac::<Sha256>::new_from_slice(bytes) {
                Ok(mac) => macs.push(mac),
                // HMAC takes keys of any length; kept as a branch rather than a panic.
                Err(_) => tracing::warn!("ignoring a webhook secret HMAC-SHA256 cannot use"),
            },
        }
        self
    }

    /// Adds several active secrets (see [`with_secret`](Self::with_secret)).
    pub fn with_secrets(self, secrets: impl IntoIterator<Item = Secret>) -> Self {
        secrets.into_iter().fold(self, Self::with_secret)
    }

    /// Requires a timestamp header (seconds since the Unix epoch) and rejects a message whose
    /// timestamp is more than `tolerance` (whole seconds) away from the clock, in either
    /// direction, with [`WebhookError::StaleTimestamp`].
    pub fn with_timestamp_header(mut self, name: HeaderName, tolerance: Duration) -> Self {
        self.config_mut().timestamp = Some((name, tolerance));
        self
    }

    /// Requires an id header and rejects a message whose id was already accepted, remembering
    /// the last `capacity` ids (FIFO eviction). Ids are recorded only for messages with a good
    /// signature and timestamp. Replaces any earlier cache: clones made before this call do not
    /// share the new one.
    pub fn with_id_header(mut self, name: HeaderName, capacity: usize) -> Self {
        self.config_mut().id_header = Some(name);
        self.seen = Some(Arc::new(SeenIds::new(capacity)));
        self
    }

    /// Caps the body size (default [`DEFAULT_MAX_BODY_BYTES`]); a larger body is rejected before
    /// it is hashed. Read at most this many bytes (plus one) from the request.
    pub fn with_max_body_bytes(mut self, n: usize) -> Self {
        self.config_mut().max_body_bytes = n;
        self
    }

    /// Uses `clock` for timestamp checks (a [`ManualClock`](crate::clock::ManualClock) in tests).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.config_mut().clock = clock;
        self
    }

    /// The body cap in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.config.max_body_bytes
    }

    /// How many secrets are active.
    pub fn secret_count(&self) -> usize {
        self.config.keys.len()
    }

    /// The seen-id cache, when an id header is configured.
    pub fn seen_ids(&self) -> Option<&SeenIds> {
        self.seen.as_deref()
    }

    /// Verifies a message: body size, then the signature (constant time, hex in either case,
    /// every active secret tried), then the timestamp, and only then — so a forged message cannot
    /// poison the cache — records the id and rejects a replay.
    ///
    /// `body` must be the raw bytes as received. On success, when the handling of the message
    /// fails, call [`forget`](Self::forget) with its id so the sender's retry is accepted.
    ///
    /// # Errors
    /// [`NoSecret`](WebhookError::NoSecret), [`BodyTooLarge`](WebhookError::BodyTooLarge),
    /// [`MissingHeader`](WebhookError::MissingHeader),
    /// [`MalformedHeader`](WebhookError::MalformedHeader),
    /// [`BadSignature`](WebhookError::BadSignature),
    /// [`StaleTimestamp`](WebhookError::StaleTimestamp), [`Replayed`](WebhookError::Replayed),
    /// [`Misconfigured`](WebhookError::Misconfigured).
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<Verified, WebhookError> {
        let result = self.check(headers, body, self.seen.as_deref());
        self.log_outcome(&result);
        result
    }

    /// As [`verify`](Self::verify), but the replay check goes to `cache`, which verifiers in
    /// other processes share (this verifier's own seen-id cache is not used). The id is
    /// recorded only after the signature and timestamp checks pass.
    ///
    /// # Errors
    /// As [`verify`](Self::verify), and
    /// [`ReplayCacheUnavailable`](WebhookError::ReplayCacheUnavailable) when `cache` fails.
    pub async fn verify_shared(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        cache: &dyn super::ReplayCache,
    ) -> Result<Verified, WebhookError> {
        let mut result = self.check(headers, body, None);
        if let Ok(Verified { id: Some(id), .. }) = &result {
            result = match cache.first_seen(id).await {
                Ok(true) => result,
                Ok(false) => Err(WebhookError::Replayed { id: id.clone() }),
                Err(e) => Err(WebhookError::ReplayCacheUnavailable {
                    source: Box::new(e),
                }),
            };
        }
        self.log_outcome(&result);
        result
    }

    fn log_outcome(&self, result: &Result<Verified, WebhookError>) {
        match result {
            Ok(v) => tracing::debug!(
                signature_header = %self.config.scheme.header(),
                id = v.id.as_deref(),
                timestamp = v.timestamp,
                secret_index = v.secret_index,
                "webhook accepted"
            ),
            Err(e) => tracing::debug!(
                signature_header = %self.config.scheme.header(),
                error = %e,
                "webhook rejected"
            ),
        }
    }

    fn check(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        seen: Option<&SeenIds>,
    ) -> Result<Verified, WebhookError> {
        let cfg = &*self.config;
        if cfg.keys.is_empty() {
            return Err(WebhookError::NoSecret);
        }
        if body.len() > cfg.max_body_bytes {
            return Err(WebhookError::BodyTooLarge {
                limit: cfg.max_body_bytes,
                actual: body.len(),
            });
        }
        let sig_header = cfg.scheme.header();
        let signature = required(headers, sig_header)?.as_bytes();
        let timestamp = match &cfg.timestamp {
            Some((name, _)) => Some(read_timestamp(headers, name)?),
            None => None,
        };
        let id = match &cfg.id_header {
            Some(name) => Some(read_id(headers, name)?),
            None => None,
        };

        let matched = match &cfg.keys {
            Keys::Sha1(hashers) => {
                let provided: [u8; SHA1_LEN] = decode_hex(signature, sig_header)?;
                hashers.iter().position(|key| {
                    let mut hasher = key.clone();
                    Digest::update(&mut hasher, body);
                    ct_eq_bytes(&hasher.finalize(), &provided)
                })
            }
            Keys::Hmac {
                encoding,
                prefix,
                payload,
                macs,
            } => {
                let encoded = strip_prefix(signature, prefix.as_deref(), sig_header)?;
                let provided: [u8; SHA256_LEN] = match encoding {
                    SignatureEncoding::Hex => decode_hex(encoded, sig_header)?,
                    SignatureEncoding::Base64 => decode_base64(encoded, sig_header)?,
                };
                let signed_ts = match payload {
                    SignedPayload::Body => None,
                    SignedPayload::TimestampDotBody => match timestamp {
                        Some((raw, _)) => Some(raw),
                        None => return Err(no_timestamp_header()),
                    },
                };
                macs.iter().position(|key| {
                    let mut mac = key.clone();
                    if let Some(raw) = signed_ts {
                        mac.update(raw.as_bytes());
                        mac.update(b".");
                    }
                    mac.update(body);
                    ct_eq_bytes(&mac.finalize().into_bytes(), &provided)
                })
            }
        };
        let secret_index = matched.ok_or_else(|| WebhookError::BadSignature {
            header: sig_header.to_string(),
        })?;

        if let (Some((_, ts)), Some((_, tolerance))) = (timestamp, &cfg.timestamp) {
            let now = cfg.clock.unix_seconds();
            let tolerance_secs = tolerance.as_secs();
            if now.abs_diff(ts) > tolerance_secs {
                return Err(WebhookError::StaleTimestamp {
                    timestamp: ts,
                    now,
                    tolerance_secs,
                });
            }
        }

        let id = match (id, seen) {
            (Some(id), Some(seen)) => {
                if !seen.insert(id) {
                    return Err(WebhookError::Replayed { id: id.to_owned() });
                }
                Some(id.to_owned())
            }
            (Some(id), None) => Some(id.to_owned()),
            (None, _) => None,
        };
        Ok(Verified {
            id,
            timestamp: timestamp.map(|(_, ts)| ts),
            secret_index,
        })
    }

    /// Un-records a message id, so that the sender's retry of a message whose handling failed
    /// is accepted. A no-op without an id header or for an unknown id.
    pub fn forget(&self, id: &str) {
        if let Some(seen) = &self.seen {
            seen.remove(id);
            tracing::debug!(id, "webhook id forgotten");
        }
    }

    /// Test helper: the headers a real sender would attach to `body`, signed with the first
    /// secret. See [`sign_with`](Self::sign_with).
    ///
    /// # Errors
    /// As [`sign_with`](Self::sign_with).
    pub fn sign(
        &self,
        body: &[u8],
        timestamp: Option<i64>,
        id: Option<&str>,
    ) -> Result<HeaderMap, WebhookError> {
        self.sign_with(0, body, timestamp, id)
    }

    /// Test helper: the headers a real sender would attach to `body`, signed with the secret at
    /// `secret_index`: the signature, the timestamp header when one is configured (`timestamp`,
    /// or the clock's now when `None`), and the id header when one is configured and `id` is
    /// given (without it, [`verify`](Self::verify) reports the missing header).
    ///
    /// # Errors
    /// [`NoSecret`](WebhookError::NoSecret) without secrets;
    /// [`Misconfigured`](WebhookError::Misconfigured) for an index past the last secret, a
    /// prefix that is not a valid header value, or a timestamp-signing scheme without a
    /// timestamp header; [`MalformedHeader`](WebhookError::MalformedHeader) for an id that is
    /// not a valid header value.
    pub fn sign_with(
        &self,
        secret_index: usize,
        body: &[u8],
        timestamp: Option<i64>,
        id: Option<&str>,
    ) -> Result<HeaderMap, WebhookError> {
        let cfg = &*self.config;
        let count = cfg.keys.len();
        if cfg.keys.is_empty() {
            return Err(WebhookError::NoSecret);
        }
        if secret_index >= count {
            return Err(WebhookError::Misconfigured {
                reason: format!("no secret at index {secret_index} ({count} configured)"),
            });
        }
        let timestamp = cfg
            .timestamp
            .as_ref()
            .map(|_| timestamp.unwrap_or_else(|| cfg.clock.unix_seconds()));

        let signature = match &cfg.keys {
            Keys::Sha1(hashers) => {
                hex::encode(hashers[secret_index].clone().chain_update(body).finalize())
            }
            Keys::Hmac {
                encoding,
                prefix,
                payload,
                macs,
            } => {
                let mut mac = macs[secret_index].clone();
                if *payload == SignedPayload::TimestampDotBody {
                    let ts = timestamp.ok_or_else(no_timestamp_header)?;
                    mac.update(ts.to_string().as_bytes());
                    mac.update(b".");
                }
                mac.update(body);
                let tag = mac.finalize().into_bytes();
                let encoded = match encoding {
                    SignatureEncoding::Hex => hex::encode(tag),
                    SignatureEncoding::Base64 => STANDARD.encode(tag),
                };
                format!("{}{encoded}", prefix.as_deref().unwrap_or(""))
            }
        };

        let mut headers = HeaderMap::new();
        let value = HeaderValue::try_from(signature).map_err(|_| WebhookError::Misconfigured {
            reason: "the signature prefix is not a valid header value".to_owned(),
        })?;
        headers.insert(cfg.scheme.header().clone(), value);
        if let (Some((name, _)), Some(ts)) = (&cfg.timestamp, timestamp) {
            headers.insert(name.clone(), HeaderValue::from(ts));
        }
        if let (Some(name), Some(id)) = (&cfg.id_header, id) {
            let value = HeaderValue::from_str(id).map_err(|_| WebhookError::MalformedHeader {
                header: name.to_string(),
                reason: "the id is not a valid header value".to_owned(),
            })?;
            headers.insert(name.clone(), value);
        }
        Ok(headers)
    }
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cfg = &*self.config;
        f.debug_struct("WebhookVerifier")
            .field("scheme", &cfg.scheme)
            .field("secrets", &cfg.keys.len())
            .field("timestamp_header", &cfg.timestamp.as_ref().map(|(n, _)| n))
            .field("tolerance", &cfg.timestamp.as_ref().map(|(_, t)| t))
            .field("id_header", &cfg.id_header)
            .field("seen_ids", &self.seen)
            .field("max_body_bytes", &cfg.max_body_bytes)
            .field("clock", &cfg.clock)
            .finish()
    }
}

/// Douyin's signature of `body`: lowercase hex SHA-1 of the secret's bytes followed by the body's
/// bytes. For tests and fakes; verification uses [`WebhookVerifier`].
///
/// ```
/// use conn_core::secret::Secret;
/// use conn_core::webhook::douyin_signature;
///
/// let sig = douyin_signature(&Secret::new("secret"), br#"{"event":"verify_webhook"}"#);
/// assert_eq!(sig, "a3b44b5003f027d37326c0a02b188916630b330c");
/// ```
pub fn douyin_signature(secret: &Secret, body: &[u8]) -> String {
    hex::encode(
        Sha1::new()
            .chain_update(secret.expose_secret().as_bytes())
            .chain_update(body)
            .finalize(),
    )
}

fn no_timestamp_header() -> WebhookError {
    WebhookError::Misconfigured {
        reason: "the scheme signs a timestamp but no timestamp header is configured \
                 (call with_timestamp_header)"
            .to_owned(),
    }
}

fn required<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<&'h HeaderValue, WebhookError> {
    headers
        .get(name)
        .ok_or_else(|| WebhookError::MissingHeader {
            header: name.to_string(),
        })
}

fn malformed(name: &HeaderName, reason: impl Into<String>) -> WebhookError {
    WebhookError::MalformedHeader {
        header: name.to_string(),
        reason: reason.into(),
    }
}

/// The timestamp as sent (trimmed, for a signed payload) and its value.
fn read_timestamp<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<(&'h str, i64), WebhookError> {
    let raw = required(headers, name)?
        .to_str()
        .map(str::trim)
        .map_err(|_| malformed(name, "expected an integer of seconds since the Unix epoch"))?;
    let ts = raw
        .parse::<i64>()
        .map_err(|_| malformed(name, "expected an integer of seconds since the Unix epoch"))?;
    Ok((raw, ts))
}

fn read_id<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Result<&'h str, WebhookError> {
    let id = required(headers, name)?
        .to_str()
        .map(str::trim)
        .map_err(|_| malformed(name, "the id is not visible ASCII"))?;
    if id.is_empty() {
        return Err(malformed(name, "the id is empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(malformed(
            name,
            format!("the id is longer than {MAX_ID_LEN} bytes"),
        ));
    }
    Ok(id)
}

fn strip_prefix<'a>(
    value: &'a [u8],
    prefix: Option<&str>,
    name: &HeaderName,
) -> Result<&'a [u8], WebhookError> {
    let value = value.trim_ascii();
    let Some(prefix) = prefix else {
        return Ok(value);
    };
    match value.split_at_checked(prefix.len()) {
        Some((head, rest)) if head.eq_ignore_ascii_case(prefix.as_bytes()) => Ok(rest),
        _ => Err(malformed(name, format!("expected the prefix `{prefix}`"))),
    }
}

/// Constant-time equality of two byte strings of the same length, compared a 64-bit word at a
/// time with `subtle` (a byte-wise `ct_eq` costs more than hex decoding a signature).
fn ct_eq_bytes(a: &[u8], b: &[u8]) -> bool {
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

/// Hex digit values, `0xFF` for anything else.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xFF_u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decodes hex of either case into a fixed array, without allocating or branching per digit (a
/// signature is decoded on every message; this is a few times faster than `hex::decode_to_slice`).
/// The reason never quotes the value.
fn decode_hex<const N: usize>(value: &[u8], name: &HeaderName) -> Result<[u8; N], WebhookError> {
    let value = value.trim_ascii();
    if value.len() != N * 2 {
        return Err(malformed(
            name,
            format!("expected {} hex digits, got {}", N * 2, value.len()),
        ));
    }
    let mut out = [0u8; N];
    let mut invalid = 0u8;
    for (byte, pair) in out.iter_mut().zip(value.chunks_exact(2)) {
        let hi = HEX_VALUE[usize::from(pair[0])];
        let lo = HEX_VALUE[usize::from(pair[1])];
        invalid |= hi | lo;
        *byte = (hi << 4) | (lo & 0x0F);
    }
    if invalid & 0xF0 != 0 {
        let index = value
            .iter()
            .position(|b| HEX_VALUE[usize::from(*b)] == 0xFF)
            .unwrap_or(0);
        return Err(malformed(
            name,
            format!("not hex (invalid character at position {index})"),
        ));
    }
    Ok(out)
}

/// Decodes base64 (padding optional) into a fixed array (no allocation).
fn decode_base64<const N: usize>(value: &[u8], name: &HeaderName) -> Result<[u8; N], WebhookError> {
    let value = value.trim_ascii();
    // Room for any base64 of N bytes; longer input fails as too large below.
    let mut buf = [0u8; 64];
    let len = BASE64_LENIENT
        .decode_slice(value, &mut buf)
        .map_err(|_| malformed(name, format!("expected base64 of {N} bytes")))?;
    if len != N {
        return Err(malformed(
            name,
            format!("expected base64 of {N} bytes, got {len}"),
        ));
    }
    let mut out = [0u8; N];
    out.copy_from_slice(&buf[..N]);
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    const BODY: &[u8] = br#"{"event":"verify_webhook"}"#;
    const SECRET: &str = "secret";
    /// `printf '%s' 'secret{"event":"verify_webhook"}' | sha1sum`
    const DOUYIN_KNOWN: &str = "a3b44b5003f027d37326c0a02b188916630b330c";
    /// `printf '%s' '{"event":"verify_webhook"}' | openssl dgst -sha256 -hmac 'secret'`
    const HMAC_KNOWN: &str = "53f9ee4e6035c79d240b5ce2368bbfbbac2d07095e12ef6b149ae6afbe7b4ab7";
    /// `printf '%s' '1700000000.{"event":"verify_webhook"}' | openssl dgst -sha256 -hmac 'whsec_test' -binary | base64`
    const STRIPE_KNOWN_B64: &str = "PZlfFwYEs4mnojmd+csyyp6/zgVpbhHof7ez9D10NmM=";
    /// Same MAC, hex (`openssl dgst -sha256 -hmac 'whsec_test'`).
    const STRIPE_KNOWN_HEX: &str =
        "3d995f170604b389a7a2399df9cb32ca9ebfce05696e11e87fb7b3f43d743663";
    const T0: i64 = 1_700_000_000;

    fn douyin_headers(sig: &str, id: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-douyin-signature", sig.parse().unwrap());
        h.insert("msg-id", id.parse().unwrap());
        h
    }

    fn sha1_only() -> WebhookVerifier {
        WebhookVerifier::new(SignatureScheme::Sha1SecretBody {
            header: HeaderName::from_static("x-douyin-signature"),
        })
        .with_secret(SECRET)
    }

    fn sig_only(sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-douyin-signature", sig.parse().unwrap());
        h
    }

    fn stripe(clock: &ManualClock, encoding: SignatureEncoding) -> WebhookVerifier {
        WebhookVerifier::new(SignatureScheme::HmacSha256 {
            header: HeaderName::from_static("webhook-signature"),
            encoding,
            prefix: Some("v1=".into()),
            payload: SignedPayload::TimestampDotBody,
        })
        .with_secret("whsec_test")
        .with_timestamp_header(
            HeaderName::from_static("webhook-timestamp"),
            Duration::from_secs(300),
        )
        .with_clock(Arc::new(clock.clone()))
    }

    fn stripe_headers(sig: &str, ts: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("webhook-signature", sig.parse().unwrap());
        h.insert("webhook-timestamp", ts.parse().unwrap());
        h
    }

    #[test]
    fn douyin_known_answer() {
        assert_eq!(douyin_signature(&Secret::new(SECRET), BODY), DOUYIN_KNOWN);
        let v = WebhookVerifier::douyin().with_secret(SECRET);
        let ok = v.verify(&douyin_headers(DOUYIN_KNOWN, "m1"), BODY).unwrap();
        assert_eq!(
            ok,
            Verified {
                id: Some("m1".into()),
                timestamp: None,
                secret_index: 0
            }
        );
    }

    #[test]
    fn good_signature_without_id_header() {
        let ok = sha1_only().verify(&sig_only(DOUYIN_KNOWN), BODY).unwrap();
        assert_eq!(ok.id, None);
        assert_eq!(ok.secret_index, 0);
    }

    #[test]
    fn bad_signature_is_rejected() {
        let wrong = douyin_signature(&Secret::new("other"), BODY);
        let err = sha1_only().verify(&sig_only(&wrong), BODY).unwrap_err();
        assert!(
            matches!(err, WebhookError::BadSignature { ref header } if header == "x-douyin-signature"),
            "{err:?}"
        );
        assert!(!err.to_string().contains(&wrong));
    }

    #[test]
    fn upper_case_hex_and_surrounding_spaces_are_accepted() {
        let upper = DOUYIN_KNOWN.to_ascii_uppercase();
        assert!(sha1_only().verify(&sig_only(&upper), BODY).is_ok());
        let spaced = format!(" {DOUYIN_KNOWN} ");
        assert!(sha1_only().verify(&sig_only(&spaced), BODY).is_ok());
    }

    #[test]
    fn missing_signature_header() {
        let err = sha1_only().verify(&HeaderMap::new(), BODY).unwrap_err();
        assert!(
            matches!(err, WebhookError::MissingHeader { ref header } if header == "x-douyin-signature"),
            "{err:?}"
        );
    }

    #[test]
    fn missing_id_header_when_configured() {
        let v = WebhookVerifier::douyin().with_secret(SECRET);
        let err = v.verify(&sig_only(DOUYIN_KNOWN), BODY).unwrap_err();
        assert!(
            matches!(err, WebhookError::MissingHeader { ref header } if header == "msg-id"),
            "{err:?}"
        );
    }

    #[test]
    fn malformed_signatures() {
        let v = sha1_only();
        let not_hex = format!("zz{}", &DOUYIN_KNOWN[2..]);
        for bad in [
            not_hex.as_str(),
            &DOUYIN_KNOWN[..39],
            &DOUYIN_KNOWN[..38],
            "",
        ] {
            let err = v.verify(&sig_only(bad), BODY).unwrap_err();
            match &err {
                WebhookError::MalformedHeader { header, reason } => {
                    assert_eq!(header, "x-douyin-signature");
                    assert!(!bad.is_empty() && !reason.contains(bad) || bad.is_empty());
                }
                other => panic!("{bad:?}: unexpected {other:?}"),
            }
        }
        let err = v.verify(&sig_only(&not_hex), BODY).unwrap_err();
        assert_eq!(
            err.to_string(),
            "webhook rejected: malformed header `x-douyin-signature`: \
             not hex (invalid character at position 0)"
        );
    }

    #[test]
    fn hex_decoder_matches_the_hex_crate() {
        let name = HeaderName::from_static("x");
        for input in [
            "00ff10a0B7c9".to_owned(),
            "0123456789abcdefABCDEF000000".to_owned(),
            (0u8..=255).map(|b| format!("{b:02x}")).collect::<String>(),
        ] {
            let expected = hex::decode(&input).unwrap();
            match expected.len() {
                6 => assert_eq!(
                    decode_hex::<6>(input.as_bytes(), &name).unwrap().to_vec(),
                    expected
                ),
                14 => assert_eq!(
                    decode_hex::<14>(input.as_bytes(), &name).unwrap().to_vec(),
                    expected
                ),
                256 => assert_eq!(
                    decode_hex::<256>(input.as_bytes(), &name).unwrap().to_vec(),
                    expected
                ),
                n => panic!("{n}"),
            }
        }
        for bad in ["0g", "g0", "0 ", "-1", "0x", "\u{ff}0"] {
            assert!(decode_hex::<1>(bad.as_bytes(), &name).is_err(), "{bad:?}");
        }
        assert!(decode_hex::<1>(&[0xC3, 0xA9], &name).is_err());
    }

    #[test]
    fn constant_time_comparison_is_exact() {
        for len in [0usize, 1, 7, 8, 9, 20, 32, 33] {
            let a: Vec<u8> = (0..len).map(|i| i as u8).collect();
            assert!(ct_eq_bytes(&a, &a));
            for i in 0..len {
                let mut b = a.clone();
                b[i] ^= 0x80;
                assert!(!ct_eq_bytes(&a, &b), "len {len} byte {i}");
            }
            assert!(!ct_eq_bytes(&a, &[a.as_slice(), &[0]].concat()));
        }
    }

    #[test]
    fn body_tampered_by_one_byte() {
        let mut tampered = BODY.to_vec();
        tampered[2] ^= 0x01;
        let err = sha1_only()
            .verify(&sig_only(DOUYIN_KNOWN), &tampered)
            .unwrap_err();
        assert!(matches!(err, WebhookError::BadSignature { .. }), "{err:?}");
    }

    #[test]
    fn rotation_tries_every_secret_and_reports_the_index() {
        let v = WebhookVerifier::douyin().with_secrets([Secret::new("old"), Secret::new("new")]);
        assert_eq!(v.secret_count(), 2);
        let by_new = douyin_signature(&Secret::new("new"), BODY);
        assert_eq!(
            v.verify(&douyin_headers(&by_new, "a"), BODY)
                .unwrap()
                .secret_index,
            1
        );
        let by_old = douyin_signature(&Secret::new("old"), BODY);
        assert_eq!(
            v.verify(&douyin_headers(&by_old, "b"), BODY)
                .unwrap()
                .secret_index,
            0
        );
    }

    #[test]
    fn empty_secrets_are_ignored_and_no_secret_rejects_everything() {
        let v = WebhookVerifier::douyin().with_secret("");
        assert_eq!(v.secret_count(), 0);
        // With an empty secret, the signature would be plain SHA-1 of the body: anyone's.
        let forged = hex::encode(Sha1::digest(BODY));
        let err = v.verify(&douyin_headers(&forged, "x"), BODY).unwrap_err();
        assert!(matches!(err, WebhookError::NoSecret), "{err:?}");
        assert!(matches!(
            v.sign(BODY, None, None),
            Err(WebhookError::NoSecret)
        ));
    }

    #[test]
    fn stale_timestamp_and_within_tolerance() {
        let clock = ManualClock::at_unix(T0);
        let v = sha1_only()
            .with_timestamp_header(
                HeaderName::from_static("x-timestamp"),
                Duration::from_secs(300),
            )
            .with_clock(Arc::new(clock.clone()));
        let with_ts = |ts: i64| {
            let mut h = sig_only(DOUYIN_KNOWN);
            h.insert("x-timestamp", HeaderValue::from(ts));
            h
        };
        for ok in [T0, T0 - 300, T0 + 300, T0 - 1] {
            assert_eq!(v.verify(&with_ts(ok), BODY).unwrap().timestamp, Some(ok));
        }
        for stale in [T0 - 301, T0 + 301, 0, i64::MIN, i64::MAX] {
            let err = v.verify(&with_ts(stale), BODY).unwrap_err();
            match err {
                WebhookError::StaleTimestamp {
                    timestamp,
                    now,
                    tolerance_secs,
                } => {
                    assert_eq!((timestamp, now, tolerance_secs), (stale, T0, 300));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        // The clock moves, the same message goes stale.
        clock.advance(Duration::from_secs(301));
        assert!(matches!(
            v.verify(&with_ts(T0), BODY),
            Err(WebhookError::StaleTimestamp { .. })
        ));
    }

    #[test]
    fn timestamp_header_missing_or_not_an_integer() {
        let v = sha1_only().with_timestamp_header(
            HeaderName::from_static("x-timestamp"),
            Duration::from_secs(300),
        );
        let err = v.verify(&sig_only(DOUYIN_KNOWN), BODY).unwrap_err();
        assert!(
            matches!(err, WebhookError::MissingHeader { ref header } if header == "x-timestamp")
        );
        let mut h = sig_only(DOUYIN_KNOWN);
        h.insert("x-timestamp", "1.7e9".parse().unwrap());
        let err = v.verify(&h, BODY).unwrap_err();
        assert!(
            matches!(err, WebhookError::MalformedHeader { ref header, .. } if header == "x-timestamp"),
            "{err:?}"
        );
    }

    #[test]
    fn replay_is_rejected_but_a_forgery_does_not_poison_the_cache() {
        let v = WebhookVerifier::douyin().with_secret(SECRET);
        let forged = douyin_signature(&Secret::new("attacker"), BODY);
        assert!(matches!(
            v.verify(&douyin_headers(&forged, "evt-1"), BODY),
            Err(WebhookError::BadSignature { .. })
        ));
        assert!(v.seen_ids().unwrap().is_empty());
        // The genuine message with the same id is still accepted.
        let genuine = douyin_headers(DOUYIN_KNOWN, "evt-1");
        assert!(v.verify(&genuine, BODY).is_ok());
        // Its retry is a replay, also through a clone of the verifier.
        let err = v.clone().verify(&genuine, BODY).unwrap_err();
        assert!(matches!(err, WebhookError::Replayed { ref id } if id == "evt-1"));
        assert_eq!(
            err.to_string(),
            "webhook rejected: message id `evt-1` was already received"
        );
    }

    #[test]
    fn stale_message_does_not_record_its_id() {
        let clock = ManualClock::at_unix(T0);
        let v = stripe(&clock, SignatureEncoding::Base64)
            .with_id_header(HeaderName::from_static("webhook-id"), 10);
        let mut h = stripe_headers(&format!("v1={STRIPE_KNOWN_B64}"), "1700000000");
        h.insert("webhook-id", "w1".parse().unwrap());
        clock.advance(Duration::from_secs(1000));
        assert!(matches!(
            v.verify(&h, BODY),
            Err(WebhookError::StaleTimestamp { .. })
        ));
        assert!(v.seen_ids().unwrap().is_empty());
        clock.set_unix(T0);
        assert_eq!(v.verify(&h, BODY).unwrap().id.as_deref(), Some("w1"));
    }

    #[test]
    fn forget_lets_the_retry_through() {
        let v = WebhookVerifier::douyin().with_secret(SECRET);
        let h = douyin_headers(DOUYIN_KNOWN, "evt-9");
        v.verify(&h, BODY).unwrap();
        assert!(v.verify(&h, BODY).is_err());
        v.forget("evt-9");
        assert!(v.verify(&h, BODY).is_ok());
        assert!(v.verify(&h, BODY).is_err());
        // Harmless without an id cache.
        sha1_only().forget("evt-9");
    }

    #[test]
    fn replay_cache_is_bounded() {
        let v = WebhookVerifier::douyin()
            .with_secret(SECRET)
            .with_id_header(HeaderName::from_static("msg-id"), 3);
        for i in 0..10 {
            v.verify(&douyin_headers(DOUYIN_KNOWN, &format!("m{i}")), BODY)
                .unwrap();
        }
        assert_eq!(v.seen_ids().unwrap().len(), 3);
        // The oldest was evicted, so it is accepted again; a recent one is not.
        assert!(v.verify(&douyin_headers(DOUYIN_KNOWN, "m0"), BODY).is_ok());
        assert!(v.verify(&douyin_headers(DOUYIN_KNOWN, "m9"), BODY).is_err());
    }

    #[test]
    fn malformed_ids() {
        let v = WebhookVerifier::douyin().with_secret(SECRET);
        let long = "x".repeat(MAX_ID_LEN + 1);
        for bad in ["   ", long.as_str()] {
            let err = v
                .verify(&douyin_headers(DOUYIN_KNOWN, bad), BODY)
                .unwrap_err();
            assert!(
                matches!(err, WebhookError::MalformedHeader { ref header, .. } if header == "msg-id"),
                "{err:?}"
            );
        }
        let mut h = sig_only(DOUYIN_KNOWN);
        h.insert("msg-id", HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap());
        assert!(matches!(
            v.verify(&h, BODY),
            Err(WebhookError::MalformedHeader { .. })
        ));
    }

    #[test]
    fn oversized_body_is_rejected_before_hashing() {
        let v = sha1_only().with_max_body_bytes(BODY.len() - 1);
        assert_eq!(v.max_body_bytes(), BODY.len() - 1);
        // No signature header at all: the size check comes first.
        let err = v.verify(&HeaderMap::new(), BODY).unwrap_err();
        assert!(
            matches!(err, WebhookError::BodyTooLarge { limit, actual } if limit == BODY.len() - 1 && actual == BODY.len()),
            "{err:?}"
        );
        let exact = sha1_only().with_max_body_bytes(BODY.len());
        assert!(exact.verify(&sig_only(DOUYIN_KNOWN), BODY).is_ok());
        assert_eq!(
            WebhookVerifier::douyin().max_body_bytes(),
            DEFAULT_MAX_BODY_BYTES
        );
    }

    #[test]
    fn hmac_hex_known_answer_github_style() {
        let v = WebhookVerifier::new(SignatureScheme::HmacSha256 {
            header: HeaderName::from_static("x-hub-signature-256"),
            encoding: SignatureEncoding::Hex,
            prefix: Some("sha256=".into()),
            payload: SignedPayload::Body,
        })
        .with_secret(SECRET);
        let mut h = HeaderMap::new();
        h.insert(
            "x-hub-signature-256",
            format!("sha256={HMAC_KNOWN}").parse().unwrap(),
        );
        assert!(v.verify(&h, BODY).is_ok());
        // Prefix case-insensitive, hex case-insensitive.
        h.insert(
            "x-hub-signature-256",
            format!("SHA256={}", HMAC_KNOWN.to_uppercase())
                .parse()
                .unwrap(),
        );
        assert!(v.verify(&h, BODY).is_ok());
        // Prefix missing.
        h.insert("x-hub-signature-256", HMAC_KNOWN.parse().unwrap());
        assert!(matches!(
            v.verify(&h, BODY),
            Err(WebhookError::MalformedHeader { .. })
        ));
        // Wrong body.
        h.insert(
            "x-hub-signature-256",
            format!("sha256={HMAC_KNOWN}").parse().unwrap(),
        );
        assert!(matches!(
            v.verify(&h, b"{}"),
            Err(WebhookError::BadSignature { .. })
        ));
        // What `sign` produces is the known answer.
        let signed = v.sign(BODY, None, None).unwrap();
        assert_eq!(
            signed["x-hub-signature-256"],
            format!("sha256={HMAC_KNOWN}").as_str()
        );
    }

    #[test]
    fn hmac_hex_without_prefix() {
        let v = WebhookVerifier::new(SignatureScheme::HmacSha256 {
            header: HeaderName::from_static("x-signature"),
            encoding: SignatureEncoding::Hex,
            prefix: None,
            payload: SignedPayload::Body,
        })
        .with_secret(SECRET);
        let mut h = HeaderMap::new();
        h.insert("x-signature", HMAC_KNOWN.parse().unwrap());
        assert!(v.verify(&h, BODY).is_ok());
    }

    #[test]
    fn hmac_base64_with_prefix_over_timestamp_dot_body() {
        let clock = ManualClock::at_unix(T0 + 10);
        let v = stripe(&clock, SignatureEncoding::Base64);
        let h = stripe_headers(&format!("v1={STRIPE_KNOWN_B64}"), "1700000000");
        assert_eq!(v.verify(&h, BODY).unwrap().timestamp, Some(T0));
        // Unpadded base64 is accepted too.
        let unpadded = STRIPE_KNOWN_B64.trim_end_matches('=');
        let h2 = stripe_headers(&format!("v1={unpadded}"), "1700000000");
        assert!(v.verify(&h2, BODY).is_ok());
        // The timestamp is signed: changing it breaks the signature.
        let h3 = stripe_headers(&format!("v1={STRIPE_KNOWN_B64}"), "1700000001");
        assert!(matches!(
            v.verify(&h3, BODY),
            Err(WebhookError::BadSignature { .. })
        ));
        // Not base64, or base64 of the wrong length.
        for bad in ["v1=***", "v1=AAAA"] {
            let err = v
                .verify(&stripe_headers(bad, "1700000000"), BODY)
                .unwrap_err();
            assert!(
                matches!(err, WebhookError::MalformedHeader { ref header, .. } if header == "webhook-signature"),
                "{err:?}"
            );
        }
        // The same MAC in hex.
        let vh = stripe(&clock, SignatureEncoding::Hex);
        let hh = stripe_headers(&format!("v1={STRIPE_KNOWN_HEX}"), "1700000000");
        assert!(vh.verify(&hh, BODY).is_ok());
    }

    #[test]
    fn timestamp_dot_body_without_timestamp_header_is_misconfigured() {
        let v = WebhookVerifier::new(SignatureScheme::HmacSha256 {
            header: HeaderName::from_static("webhook-signature"),
            encoding: SignatureEncoding::Base64,
            prefix: None,
            payload: SignedPayload::TimestampDotBody,
        })
        .with_secret("whsec_test");
        let mut h = HeaderMap::new();
        h.insert("webhook-signature", STRIPE_KNOWN_B64.parse().unwrap());
        assert!(matches!(
            v.verify(&h, BODY),
            Err(WebhookError::Misconfigured { .. })
        ));
        assert!(matches!(
            v.sign(BODY, Some(T0), None),
            Err(WebhookError::Misconfigured { .. })
        ));
    }

    #[test]
    fn sign_round_trips_through_verify() {
        let clock = ManualClock::at_unix(T0);
        let stripe_like = stripe(&clock, SignatureEncoding::Base64)
            .with_secret("whsec_next")
            .with_id_header(HeaderName::from_static("webhook-id"), 100);
        // Explicit timestamp: the known answer.
        let h = stripe_like.sign(BODY, Some(T0), Some("msg_1")).unwrap();
        assert_eq!(
            h["webhook-signature"],
            format!("v1={STRIPE_KNOWN_B64}").as_str()
        );
        assert_eq!(h["webhook-timestamp"], "1700000000");
        assert_eq!(h["webhook-id"], "msg_1");
        assert_eq!(
            stripe_like.verify(&h, BODY).unwrap(),
            Verified {
                id: Some("msg_1".into()),
                timestamp: Some(T0),
                secret_index: 0
            }
        );
        // Default timestamp from the clock, second secret.
        clock.advance(Duration::from_secs(42));
        let h = stripe_like.sign_with(1, BODY, None, Some("msg_2")).unwrap();
        let ok = stripe_like.verify(&h, BODY).unwrap();
        assert_eq!((ok.timestamp, ok.secret_index), (Some(T0 + 42), 1));
        assert!(matches!(
            stripe_like.sign_with(2, BODY, None, None),
            Err(WebhookError::Misconfigured { .. })
        ));

        let douyin = WebhookVerifier::douyin().with_secret(SECRET);
        let h = douyin.sign(BODY, None, Some("d1")).unwrap();
        assert_eq!(h["x-douyin-signature"], DOUYIN_KNOWN);
        assert_eq!(douyin.verify(&h, BODY).unwrap().id.as_deref(), Some("d1"));
        // Without an id the id header is omitted, and verify says so.
        let h = douyin.sign(BODY, None, None).unwrap();
        assert!(matches!(
            douyin.verify(&h, BODY),
            Err(WebhookError::MissingHeader { .. })
        ));
        assert!(matches!(
            douyin.sign(BODY, None, Some("bad\nid")),
            Err(WebhookError::MalformedHeader { .. })
        ));
    }

    #[test]
    fn debug_prints_no_secret() {
        let secret = "very-secret-value-123";
        let clock = ManualClock::at_unix(T0);
        for v in [
            WebhookVerifier::douyin().with_secret(secret),
            stripe(&clock, SignatureEncoding::Hex).with_secret(secret),
        ] {
            let d = format!("{v:?}");
            let pretty = format!("{v:#?}");
            assert!(!d.contains(secret) && !pretty.contains(secret), "{d}");
            assert!(d.contains("secrets: 2") || d.contains("secrets: 1"), "{d}");
            assert!(!d.contains("whsec_test"), "{d}");
        }
        let d = format!("{:?}", WebhookVerifier::douyin().with_secret(secret));
        assert!(
            d.contains("x-douyin-signature") && d.contains("msg-id"),
            "{d}"
        );
    }

    #[test]
    fn errors_never_quote_secret_signature_or_body() {
        let v = WebhookVerifier::douyin().with_secret(SECRET);
        let wrong = douyin_signature(&Secret::new("x"), BODY);
        let cases = [
            v.verify(&douyin_headers(&wrong, "i"), BODY),
            v.verify(&douyin_headers(&wrong[..10], "i"), BODY),
            v.verify(&HeaderMap::new(), BODY),
        ];
        for case in cases {
            let msg = case.unwrap_err().to_string();
            assert!(!msg.contains(&wrong[..10]), "{msg}");
            assert!(!msg.contains("verify_webhook"), "{msg}");
        }
    }

    #[derive(Debug)]
    struct DownCache;

    #[async_trait::async_trait]
    impl super::super::ReplayCache for DownCache {
        async fn first_seen(&self, _: &str) -> crate::Result<bool> {
            Err(crate::Error::store_msg("replay cache unreachable"))
        }
        async fn forget(&self, _: &str) -> crate::Result<()> {
            Err(crate::Error::store_msg("replay cache unreachable"))
        }
    }

    #[test]
    fn verify_shared_dedupes_through_the_given_cache_and_fails_closed() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let secret = Secret::new("s");
        let a = WebhookVerifier::douyin().with_secret(secret.clone());
        let b = WebhookVerifier::douyin().with_secret(secret.clone());
        let shared = SeenIds::new(10);
        let body = b"{}";
        let mut h = HeaderMap::new();
        h.insert("msg-id", "m1".parse().unwrap());
        h.insert("x-douyin-signature", "00".repeat(20).parse().unwrap());
        rt.block_on(async {
            // A forgery is rejected before the cache is asked: the id stays free.
            assert!(matches!(
                a.verify_shared(&h, body, &shared).await,
                Err(WebhookError::BadSignature { .. })
            ));
            assert!(!shared.contains("m1"));
            h.insert(
                "x-douyin-signature",
                douyin_signature(&secret, body).parse().unwrap(),
            );
            assert!(a.verify_shared(&h, body, &shared).await.is_ok());
            // Another verifier (another replica) with the same cache sees the replay; its own
            // seen-id cache is not involved.
            assert!(matches!(
                b.verify_shared(&h, body, &shared).await,
                Err(WebhookError::Replayed { .. })
            ));
            assert!(b.seen_ids().unwrap().is_empty());
            // A cache that cannot answer refuses the message rather than accepting it unchecked.
            h.insert("msg-id", "m2".parse().unwrap());
            assert!(matches!(
                a.verify_shared(&h, body, &DownCache).await,
                Err(WebhookError::ReplayCacheUnavailable { .. })
            ));
        });
    }

    #[test]
    fn clones_share_the_replay_cache_and_are_send_sync() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<WebhookVerifier>();
        let a = WebhookVerifier::douyin().with_secret(SECRET);
        let b = a.clone();
        let h = douyin_headers(DOUYIN_KNOWN, "shared");
        a.verify(&h, BODY).unwrap();
        assert!(matches!(
            b.verify(&h, BODY),
            Err(WebhookError::Replayed { .. })
        ));
    }

    #[derive(Clone, Default)]
    struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn logs_name_ids_but_no_secret_signature_or_body() {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let v = WebhookVerifier::douyin().with_secret(SECRET);
            let wrong = douyin_signature(&Secret::new("attacker"), BODY);
            v.verify(&douyin_headers(&wrong, "log-1"), BODY)
                .unwrap_err();
            v.verify(&douyin_headers(DOUYIN_KNOWN, "log-1"), BODY)
                .unwrap();
            v.verify(&douyin_headers(DOUYIN_KNOWN, "log-1"), BODY)
                .unwrap_err();
            v.forget("log-1");
        });
        let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        assert!(logs.contains("webhook rejected"), "{logs}");
        assert!(logs.contains("webhook accepted"), "{logs}");
        assert!(logs.contains("log-1"), "{logs}");
        for needle in [
            DOUYIN_KNOWN,
            "verify_webhook",
            "attacker",
            "secret\"",
            "=secret",
        ] {
            assert!(!logs.contains(needle), "{needle} in {logs}");
        }
        let wrong = douyin_signature(&Secret::new("attacker"), BODY);
        assert!(!logs.contains(&wrong), "{logs}");
    }
}
