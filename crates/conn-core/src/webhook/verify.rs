//! The verifier: body size, signature, timestamp and replay checks of incoming webhooks, and
//! the signing helper for tests. Schemes and keys are in `scheme`, header reading in `headers`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha1::{Digest, Sha1};
use sha2::Sha256;

use super::headers::{decode_base64, decode_hex, read_id, read_timestamp, required, strip_prefix};
use super::scheme::{ct_eq_bytes, Keys, SHA1_LEN, SHA256_LEN};
use super::{SeenIds, SignatureEncoding, SignatureScheme, SignedPayload, WebhookError};
use crate::clock::{self, SharedClock};
use crate::secret::Secret;

/// Default cap on a webhook body: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// A default capacity for the seen-id cache of [`WebhookVerifier::with_id_header`].
pub const DEFAULT_SEEN_IDS_CAPACITY: usize = 10_000;

/// Longest message id accepted, in bytes: with the cache's capacity, it bounds its memory.
pub const MAX_ID_LEN: usize = 512;

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

fn no_timestamp_header() -> WebhookError {
    WebhookError::Misconfigured {
        reason: "the scheme signs a timestamp but no timestamp header is configured \
                 (call with_timestamp_header)"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests;
