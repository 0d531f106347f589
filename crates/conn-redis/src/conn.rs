//! The shared connection: one reconnecting multiplexed connection per [`Redis`] handle.

use std::fmt;
use std::sync::Arc;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use crate::config::RedisConfig;
use crate::error::{RedisError, Result};

/// A handle on one Redis deployment: the configuration, and a connection opened on first use
/// and shared by every clone (and by every store, limiter and cache built from it).
///
/// Building a handle does no I/O, so it can be made in a synchronous `from_env`. The first
/// command connects; if Redis is down it fails with [`RedisError::Unavailable`] and the next
/// command tries again. Once connected, the connection manager reconnects by itself after a
/// connection loss; commands sent while Redis is away fail after the response timeout rather
/// than waiting for it to come back.
///
/// ```
/// use conn_redis::{Redis, RedisConfig};
/// let redis = Redis::new(RedisConfig::new("redis://127.0.0.1:6379")?)?;
/// assert_eq!(redis.key(&["lease", "douyin/acct"]), "connectors:lease:douyin/acct");
/// # Ok::<(), conn_redis::RedisError>(())
/// ```
#[derive(Clone)]
pub struct Redis {
    inner: Arc<Inner>,
}

struct Inner {
    config: RedisConfig,
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("config", &self.inner.config)
            .field("connected", &self.inner.conn.initialized())
            .finish()
    }
}

impl Redis {
    /// A handle for `config`; connects on first use.
    ///
    /// # Errors
    /// [`RedisError::Config`] when the URL cannot be used.
    pub fn new(config: RedisConfig) -> Result<Self> {
        if config.is_tls() {
            // rediss:// builds its rustls config from the process default provider; make it
            // ring (the only one compiled in) without overriding one the application chose.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = redis::Client::open(config.url()).map_err(|_| RedisError::Config {
            var: crate::config::REDIS_URL,
            problem: "not a valid Redis URL".into(),
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                client,
                conn: OnceCell::new(),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// `prefix:part1:part2...`: every key this crate touches.
    pub fn key(&self, parts: &[&str]) -> String {
        let mut k = self.inner.config.prefix().to_owned();
        for p in parts {
            k.push(':');
            k.push_str(p);
        }
        k
    }

    /// The shared connection (cheap to clone), connecting first if needed.
    ///
    /// # Errors
    /// [`RedisError::Unavailable`] when Redis cannot be reached.
    pub async fn connection(&self) -> Result<ConnectionManager> {
        let cfg = &self.inner.config;
        let conn = self
            .inner
            .conn
            .get_or_try_init(|| async {
                let manager = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(cfg.connect_timeout))
                    .set_response_timeout(Some(cfg.response_timeout))
                    // Reconnect attempts are retried by the next command rather than queued
                    // behind a long backoff, so a down Redis fails fast and recovers fast.
                    .set_number_of_retries(1)
                    .set_max_delay(cfg.connect_timeout);
                ConnectionManager::new_with_config(self.inner.client.clone(), manager).await
            })
            .await
            .map_err(RedisError::unavailable("connect"))?;
        Ok(conn.clone())
    }

    /// A connection of its own, for blocking reads (`XREADGROUP BLOCK`) that must not hold up
    /// the shared one; `response_timeout` must exceed the longest block.
    pub(crate) async fn dedicated(
        &self,
        response_timeout: std::time::Duration,
    ) -> Result<redis::aio::MultiplexedConnection> {
        let cfg = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.inner.config.connect_timeout))
            .set_response_timeout(Some(response_timeout));
        self.inner
            .client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await
            .map_err(RedisError::unavailable("connect"))
    }

    /// Sends `PING`: a health check.
    ///
    /// # Errors
    /// [`RedisError::Unavailable`].
    pub async fn ping(&self) -> Result<()> {
        let mut c = self.connection().await?;
        let _: String = redis::cmd("PING")
            .query_async(&mut c)
            .await
            .map_err(RedisError::unavailable("ping"))?;
        Ok(())
    }
}
