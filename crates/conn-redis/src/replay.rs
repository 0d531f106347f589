//! The webhook replay cache shared by every receiver: `SET NX EX` on the message id.

use std::time::Duration;

use async_trait::async_trait;
use conn_core::webhook::ReplayCache;
use sha2::{Digest, Sha256};

use crate::conn::Redis;
use crate::error::RedisError;

/// Default time an id is remembered: Douyin retries an event within seconds, a day is ample
/// and bounds the keys.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
/// Ids longer than this (or with other bytes than printable ASCII) are stored as their SHA-256.
const MAX_PLAIN_ID: usize = 128;

/// A [`ReplayCache`] in Redis: the first receiver to record an id wins, on any host.
///
/// Pass it to [`WebhookVerifier::verify_shared`](conn_core::webhook::WebhookVerifier::verify_shared).
/// When Redis is down, `first_seen` fails and the message is refused (the sender retries)
/// instead of being accepted without the check.
///
/// ```no_run
/// use conn_core::webhook::{SignatureScheme, WebhookVerifier, DEFAULT_SEEN_IDS_CAPACITY};
/// use conn_redis::{Redis, RedisConfig, RedisReplayCache};
/// use http::HeaderName;
/// # async fn demo(headers: http::HeaderMap, body: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// let redis = Redis::new(RedisConfig::new("redis://127.0.0.1:6379")?)?;
/// let seen = RedisReplayCache::new(redis, "douyin");
/// // Douyin's scheme (conn-douyin's `webhook::verifier()` builds the same).
/// let verifier = WebhookVerifier::new(SignatureScheme::Sha1SecretBody {
///     header: HeaderName::from_static("x-douyin-signature"),
/// })
/// .with_id_header(HeaderName::from_static("msg-id"), DEFAULT_SEEN_IDS_CAPACITY)
/// .with_secret("client-secret");
/// let verified = verifier.verify_shared(&headers, body, &seen).await?; // Replayed on another replica's id
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RedisReplayCache {
    redis: Redis,
    scope: String,
    ttl: Duration,
}

impl RedisReplayCache {
    /// Ids live under `prefix:seen:scope:` for [`DEFAULT_TTL`].
    pub fn new(redis: Redis, scope: impl Into<String>) -> Self {
        Self {
            redis,
            scope: scope.into(),
            ttl: DEFAULT_TTL,
        }
    }

    /// Sets how long an id is remembered (at least one second).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl.max(Duration::from_secs(1));
        self
    }

    fn key(&self, id: &str) -> String {
        let plain = id.len() <= MAX_PLAIN_ID && id.bytes().all(|b| b.is_ascii_graphic());
        if plain {
            self.redis.key(&["seen", &self.scope, id])
        } else {
            let digest = Sha256::digest(id.as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            self.redis
                .key(&["seen", &self.scope, &format!("sha256-{hex}")])
        }
    }
}

#[async_trait]
impl ReplayCache for RedisReplayCache {
    async fn first_seen(&self, id: &str) -> conn_core::Result<bool> {
        let mut conn = self.redis.connection().await?;
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(id))
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(self.ttl.as_secs())
            .query_async(&mut conn)
            .await
            .map_err(RedisError::unavailable("replay check"))?;
        Ok(set.is_some())
    }

    async fn forget(&self, id: &str) -> conn_core::Result<()> {
        let mut conn = self.redis.connection().await?;
        let _: i64 = redis::cmd("DEL")
            .arg(self.key(id))
            .query_async(&mut conn)
            .await
            .map_err(RedisError::unavailable("replay forget"))?;
        Ok(())
    }
}
