//! The token store: encrypted records, a lease lock for refreshes, and fenced writes.
//!
//! Per account (`platform/account`) two keys:
//!
//! - `prefix:token:platform/account`, a hash: `v` (a version, incremented by every write and
//!   delete) and `data` (the AES-256-GCM sealed token set, see [`TokenCipher`]);
//! - `prefix:lease:platform/account`: the refresh lease, `SET NX PX` with a random owner value.
//!
//! ## Why fencing, and how
//!
//! A lease can expire under a holder that is alive but stalled (a long GC-like pause, a
//! suspended VM, a partition). Another process then takes the lease, refreshes (rotating the
//! refresh token) and stores a newer token. When the first holder wakes up, its write would
//! replace the newer token with a stale one whose refresh token is already dead: every process
//! would then be stranded. So the store remembers the leases this process holds, with the
//! version the record had when the lease was taken, and a write under a lease is one Lua script
//! that checks, atomically with the write, that the lease still belongs to this owner **and**
//! the record's version is unchanged. Either check failing is [`RedisError::Fenced`] and
//! nothing is written. The manager keeps the refreshed token in memory in that case (it never
//! drops a token it holds).
//!
//! Writes without a lease (storing the tokens of a code exchange) always apply and bump the
//! version, which in turn fences any refresh that started before them.
//!
//! The lease is renewed every third of its length while held, and released by compare-and-
//! delete when the guard drops, so a finished refresh frees it at once and a holder that dies
//! frees it by expiry. Taking it waits at most [`RedisTokenStore::with_lock_wait`].
//!
//! The release is sent by a task spawned when the guard drops (a `Drop` cannot wait): a
//! program that blocks its runtime's only thread right after a refresh (a synchronous read of
//! stdin inside `block_on`) holds the lease back until it expires, making other processes wait.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use conn_core::env::Env;
use conn_core::token::{StoredTokenSet, TokenKey, TokenLock, TokenSet, TokenStore};
use rand::RngCore;
use redis::Script;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use crate::conn::Redis;
use crate::crypto::TokenCipher;
use crate::error::{RedisError, Result};

/// Default lease length: longer than any token refresh takes, short enough that a dead holder
/// delays the others only briefly.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(15);
/// Default longest wait for a lease held by another process.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);
/// Longest accepted platform or account name, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// Takes the lease if free and returns the record's version with it, in one step so that the
/// version is the one the lease protects. `{1, version}` or `{0, pttl}`.
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, tonumber(redis.call('HGET', KEYS[1], 'v') or '0')}
end
return {0, redis.call('PTTL', KEYS[2])}
",
    )
});

/// Writes (`ARGV[3]` non-empty) or deletes the record. With an owner (`ARGV[1]`), only if the
/// lease is still that owner's and the version is still `ARGV[2]`. `{1, new version}`,
/// `{-1, 0}` lease lost, `{-2, version}` record changed.
static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if ARGV[1] ~= '' then
  if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {-1, 0} end
  local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
  if v ~= tonumber(ARGV[2]) then return {-2, v} end
end
local nv = redis.call('HINCRBY', KEYS[1], 'v', 1)
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], 'data')
else
  redis.call('HSET', KEYS[1], 'data', ARGV[3])
end
return {1, nv}
",
    )
});

/// Extends the lease if it is still `ARGV[1]`'s. 1 extended, 0 lost.
pub(crate) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
",
    )
});

/// Deletes the lease if it is still `ARGV[1]`'s (never another holder's).
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
});

/// A lease this process holds.
#[derive(Debug)]
struct Held {
    owner: String,
    /// The record version the next fenced write expects.
    version: AtomicI64,
    /// Set when a renewal found the lease gone.
    lost: AtomicBool,
}

type HeldMap = Arc<Mutex<HashMap<TokenKey, Arc<Held>>>>;

/// A [`TokenStore`] in Redis shared by every process and host, with a lease lock and fenced
/// writes: a writer whose lease expired cannot overwrite a newer token.
///
/// ```no_run
/// use std::sync::Arc;
/// use conn_core::env::Env;
/// use conn_core::token::{TokenKey, TokenStore};
/// use conn_redis::{Redis, RedisConfig, RedisTokenStore};
/// # async fn demo() -> conn_core::Result<()> {
/// let redis = Redis::new(RedisConfig::new("redis://127.0.0.1:6379")?)?;
/// // API_CREDENTIAL_ENCRYPTION_KEY must be set: tokens are never stored in clear.
/// let store: Arc<dyn TokenStore> = Arc::new(RedisTokenStore::from_env_with(redis, &Env::process())?);
/// let lease = store.lock(&TokenKey::new("douyin", "acct")).await?; // held until dropped
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisTokenStore {
    redis: Redis,
    cipher: Arc<TokenCipher>,
    lease: Duration,
    lock_wait: Duration,
    held: HeldMap,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("redis", &self.redis)
            .field("lease", &self.lease)
            .field("lock_wait", &self.lock_wait)
            .finish_non_exhaustive()
    }
}

impl RedisTokenStore {
    /// A store on `redis` sealing records with `cipher`.
    pub fn new(redis: Redis, cipher: TokenCipher) -> Self {
        Self {
            redis,
            cipher: Arc::new(cipher),
            lease: DEFAULT_LEASE,
            lock_wait: DEFAULT_LOCK_WAIT,
            held: HeldMap::default(),
        }
    }

    /// A store with the key from `API_CREDENTIAL_ENCRYPTION_KEY`.
    ///
    /// # Errors
    /// [`RedisError::Config`] when the key is unset or malformed: no store that would write
    /// tokens in clear is ever built.
    pub fn from_env_with(redis: Redis, env: &Env) -> Result<Self> {
        Ok(Self::new(redis, TokenCipher::from_env_with(env)?))
    }

    /// Sets the lease length (at least 100 ms). Renewal runs every third of it.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    /// Sets the longest wait for a lease another process holds.
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The Redis handle.
    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    fn record(key: &TokenKey) -> conn_core::Result<String> {
        for (field, v) in [("platform", &key.platform), ("account", &key.account)] {
            if v.is_empty() || v.len() > MAX_NAME_LEN || v.chars().any(char::is_control) {
                return Err(conn_core::Error::validation(
                    format!("token key {field}"),
                    format!("1 to {MAX_NAME_LEN} bytes without control characters"),
                ));
            }
        }
        if key.platform.contains('/') {
            return Err(conn_core::Error::validation(
                "token key platform",
                "no `/` (it separates platform and account in the record name)",
            ));
        }
        Ok(format!("{}/{}", key.platform, key.account))
    }

    fn keys(&self, record: &str) -> (String, String) {
        (
            self.redis.key(&["token", record]),
            self.redis.key(&["lease", record]),
        )
    }

    fn held(&self, key: &TokenKey) -> Option<Arc<Held>> {
        let map = self.held.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).cloned()
    }

    async fn write(&self, key: &TokenKey, data: &[u8]) -> conn_core::Result<()> {
        let record = Self::record(key)?;
        let (token_key, lease_key) = self.keys(&record);
        let held = self.held(key);
        if held.as_ref().is_some_and(|h| h.lost.load(Ordering::SeqCst)) {
            return Err(fenced(record, LEASE_LOST).into());
        }
        let (owner, expected) = match &held {
            Some(h) => (h.owner.as_str(), h.version.load(Ordering::SeqCst)),
            None => ("", 0),
        };
        let mut conn = self.redis.connection().await?;
        let reply: Vec<i64> = SAVE
            .key(&token_key)
            .key(&lease_key)
            .arg(owner)
            .arg(expected)
            .arg(data)
            .invoke_async(&mut conn)
            .await
            .map_err(RedisError::unavailable("token save"))?;
        match reply.as_slice() {
            [1, v] => {
                if let Some(h) = &held {
                    h.version.store(*v, Ordering::SeqCst);
                }
                Ok(())
            }
            [-1, _] => Err(fenced(record, LEASE_LOST).into()),
            [-2, _] => Err(fenced(record, "the record changed since the lease was taken").into()),
            other => Err(RedisError::Protocol {
                op: "token save",
                detail: format!("{} values", other.len()),
            }
            .into()),
        }
    }
}

const LEASE_LOST: &str = "the lease expired or was taken over";

fn fenced(record: String, reason: &'static str) -> RedisError {
    tracing::warn!(record = %record, reason, "fenced token write refused");
    RedisError::Fenced { record, reason }
}

#[async_trait]
impl TokenStore for RedisTokenStore {
    async fn load(&self, key: &TokenKey) -> conn_core::Result<Option<TokenSet>> {
        let record = Self::record(key)?;
        let (token_key, _) = self.keys(&record);
        let mut conn = self.redis.connection().await?;
        let data: Option<Vec<u8>> = redis::cmd("HGET")
            .arg(&token_key)
            .arg("data")
            .query_async(&mut conn)
            .await
            .map_err(RedisError::unavailable("token load"))?;
        let Some(sealed) = data else {
            return Ok(None);
        };
        let plain = self.cipher.open(&record, &sealed)?;
        let stored: StoredTokenSet =
            serde_json::from_slice(&plain).map_err(|e| RedisError::Record {
                record: record.clone(),
                problem: format!(
                    "decrypted but not a token set (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            })?;
        Ok(Some(TokenSet::from_stored(stored)))
    }

    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> conn_core::Result<()> {
        let record = Self::record(key)?;
        let plain = Zeroizing::new(serde_json::to_vec(&tokens.to_stored()).map_err(|e| {
            RedisError::Record {
                record: record.clone(),
                problem: format!("could not be encoded: {e}"),
            }
        })?);
        let sealed = self.cipher.seal(&record, &plain)?;
        self.write(key, &sealed).await
    }

    async fn delete(&self, key: &TokenKey) -> conn_core::Result<()> {
        self.write(key, b"").await
    }

    async fn lock(&self, key: &TokenKey) -> conn_core::Result<Option<Box<dyn TokenLock>>> {
        let record = Self::record(key)?;
        let (token_key, lease_key) = self.keys(&record);
        let mut owner_bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut owner_bytes);
        let owner: String = owner_bytes.iter().map(|b| format!("{b:02x}")).collect();
        let lease_ms = u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX);
        let started = tokio::time::Instant::now();
        let deadline = started + self.lock_wait;
        let mut pause = Duration::from_millis(5);
        loop {
            let mut conn = self.redis.connection().await?;
            let reply: Vec<i64> = ACQUIRE
                .key(&token_key)
                .key(&lease_key)
                .arg(&owner)
                .arg(lease_ms)
                .invoke_async(&mut conn)
                .await
                .map_err(RedisError::unavailable("lease acquire"))?;
            match reply.as_slice() {
                [1, version] => {
                    let held = Arc::new(Held {
                        owner,
                        version: AtomicI64::new(*version),
                        lost: AtomicBool::new(false),
                    });
                    {
                        let mut map = self.held.lock().unwrap_or_else(|p| p.into_inner());
                        map.insert(key.clone(), held.clone());
                    }
                    let renew = tokio::spawn(renew_loop(
                        self.redis.clone(),
                        lease_key.clone(),
                        held.clone(),
                        self.lease,
                    ));
                    tracing::debug!(record = %record, "refresh lease taken");
                    return Ok(Some(Box::new(Lease {
                        redis: self.redis.clone(),
                        map: self.held.clone(),
                        key: key.clone(),
                        lease_key,
                        held,
                        renew,
                    })));
                }
                [0, pttl] => {
                    let now = tokio::time::Instant::now();
                    if now >= deadline {
                        return Err(RedisError::LockTimeout {
                            record,
                            waited: now - started,
                        }
                        .into());
                    }
                    // Poll again soon, never later than the lease's own expiry.
                    let until_free = Duration::from_millis(u64::try_from(*pttl).unwrap_or(0));
                    let sleep = pause.min(until_free.max(Duration::from_millis(1)));
                    tokio::time::sleep(sleep.min(deadline - now)).await;
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                other => {
                    return Err(RedisError::Protocol {
                        op: "lease acquire",
                        detail: format!("{} values", other.len()),
                    }
                    .into())
                }
            }
        }
    }
}

/// Keeps the lease alive while held. A lost lease stops the loop and marks it, so the next
/// write is refused without a round trip; a failed renewal (Redis away) is retried, since the
/// lease may still be alive and the write's own check decides anyway.
async fn renew_loop(redis: Redis, lease_key: String, held: Arc<Held>, lease: Duration) {
    let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX);
    loop {
        tokio::time::sleep(lease / 3).await;
        let result = match redis.connection().await {
            Ok(mut conn) => RENEW
                .key(&lease_key)
                .arg(&held.owner)
                .arg(lease_ms)
                .invoke_async::<i64>(&mut conn)
                .await
                .map_err(RedisError::unavailable("lease renew")),
            Err(e) => Err(e),
        };
        match result {
            Ok(1) => {}
            Ok(_) => {
                held.lost.store(true, Ordering::SeqCst);
                tracing::warn!(lease = %lease_key, "refresh lease lost before the refresh ended");
                return;
            }
            Err(e) => {
                tracing::warn!(lease = %lease_key, error = %e, "could not renew the refresh lease")
            }
        }
    }
}

/// A held lease; dropping it stops the renewal and releases it (compare-and-delete).
struct Lease {
    redis: Redis,
    map: HeldMap,
    key: TokenKey,
    lease_key: String,
    held: Arc<Held>,
    renew: JoinHandle<()>,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl TokenLock for Lease {}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renew.abort();
        {
            let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            if map
                .get(&self.key)
                .is_some_and(|h| Arc::ptr_eq(h, &self.held))
            {
                map.remove(&self.key);
            }
        }
        // Without a runtime the lease simply expires.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let redis = self.redis.clone();
            let lease_key = std::mem::take(&mut self.lease_key);
            let owner = self.held.owner.clone();
            rt.spawn(async move {
                let released = match redis.connection().await {
                    Ok(mut conn) => RELEASE
                        .key(&lease_key)
                        .arg(&owner)
                        .invoke_async::<i64>(&mut conn)
                        .await
                        .map_err(RedisError::unavailable("lease release")),
                    Err(e) => Err(e),
                };
                if let Err(e) = released {
                    tracing::warn!(lease = %lease_key, error = %e, "lease not released; it will expire");
                }
            });
        }
    }
}
