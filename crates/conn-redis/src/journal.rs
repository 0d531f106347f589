//! [`RedisJournal`]: conn-core's operation [`Journal`] in Redis, for many hosts.
//!
//! Keys:
//!
//! - `prefix:journal`, a hash: one field per operation key, the entry as JSON (no secret is in
//!   an entry: keys, account ids, digests, created ids);
//! - `prefix:journal-hold:<key>`: the key's hold, `SET NX PX` with a random owner, renewed every
//!   third of its length while held and released by compare-and-delete, exactly as the token
//!   store's refresh lease.
//!
//! Every write of an entry is fenced the way the token store's writes are: one Lua script that
//! writes only while the hold is still this owner's, so a holder whose hold expired under it (a
//! stalled process) cannot overwrite what the next holder recorded; it gets
//! [`JournalError::Backend`] naming the fence and nothing is written. A hold that expires
//! while its holder is still sending lets another host reconcile early: choose a hold longer
//! than the longest create (default 60 s; renewal keeps it while the process lives).
//!
//! ```no_run
//! use std::sync::Arc;
//! use conn_core::journal::Journal;
//! use conn_redis::{Redis, RedisConfig, RedisJournal};
//! # fn demo() -> conn_core::Result<()> {
//! let redis = Redis::new(RedisConfig::new("redis://127.0.0.1:6379")?)?;
//! let journal: Arc<dyn Journal> = Arc::new(RedisJournal::new(redis));
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use conn_core::journal::{
    admit, now_ms, Admission, Begin, Claim, Entry, Journal, JournalError, OperationKey, State,
};
use rand::RngCore;
use redis::Script;
use tokio::task::JoinHandle;

use crate::conn::Redis;
use crate::tokens::{RELEASE, RENEW};

/// Default hold length.
pub const DEFAULT_HOLD: Duration = Duration::from_secs(60);
/// Default longest wait for a key another caller holds.
pub const DEFAULT_HOLD_WAIT: Duration = Duration::from_secs(600);

/// Writes `ARGV[2]` into field `ARGV[3]` of hash `KEYS[1]` only while hold `KEYS[2]` is
/// `ARGV[1]`'s. 1 written, 0 fenced.
static FENCED_PUT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[2])
return 1
",
    )
});

/// A [`Journal`] in Redis shared by every process and host (see the crate docs).
#[derive(Clone)]
pub struct RedisJournal {
    redis: Redis,
    hold: Duration,
    hold_wait: Duration,
}

impl fmt::Debug for RedisJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisJournal")
            .field("redis", &self.redis)
            .field("hold", &self.hold)
            .field("hold_wait", &self.hold_wait)
            .finish()
    }
}

fn backend(op: &'static str) -> impl FnOnce(redis::RedisError) -> JournalError {
    move |e| JournalError::backend(format!("redis {op} failed"), e)
}

fn redis_err(e: crate::RedisError) -> JournalError {
    JournalError::backend(e.to_string(), e)
}

/// A held key; dropping it stops the renewal and releases the hold.
struct Hold {
    redis: Redis,
    hold_key: String,
    owner: String,
    lost: Arc<AtomicBool>,
    renew: JoinHandle<()>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.renew.abort();
        // Without a runtime the hold simply expires.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let redis = self.redis.clone();
            let key = std::mem::take(&mut self.hold_key);
            let owner = std::mem::take(&mut self.owner);
            rt.spawn(async move {
                if let Ok(mut conn) = redis.connection().await {
                    let r: Result<i64, _> = RELEASE.key(&key).arg(&owner).invoke_async(&mut conn).await;
                    if let Err(e) = r {
                        tracing::warn!(hold = %key, error = %e, "journal hold not released; it will expire");
                    }
                }
            });
        }
    }
}

async fn renew_loop(
    redis: Redis,
    key: String,
    owner: String,
    hold: Duration,
    lost: Arc<AtomicBool>,
) {
    let ms = u64::try_from(hold.as_millis()).unwrap_or(u64::MAX);
    loop {
        tokio::time::sleep(hold / 3).await;
        let Ok(mut conn) = redis.connection().await else {
            continue;
        };
        match RENEW
            .key(&key)
            .arg(&owner)
            .arg(ms)
            .invoke_async::<i64>(&mut conn)
            .await
        {
            Ok(1) => {}
            Ok(_) => {
                lost.store(true, Ordering::SeqCst);
                tracing::warn!(hold = %key, "journal hold lost while held");
                return;
            }
            Err(e) => tracing::warn!(hold = %key, error = %e, "could not renew the journal hold"),
        }
    }
}

impl RedisJournal {
    /// A journal on `redis` (keys under its prefix).
    pub fn new(redis: Redis) -> Self {
        Self {
            redis,
            hold: DEFAULT_HOLD,
            hold_wait: DEFAULT_HOLD_WAIT,
        }
    }

    /// Sets the hold length (at least 100 ms).
    pub fn with_hold(mut self, hold: Duration) -> Self {
        self.hold = hold.max(Duration::from_millis(100));
        self
    }

    /// Sets the longest wait for a key another caller holds.
    pub fn with_hold_wait(mut self, wait: Duration) -> Self {
        self.hold_wait = wait;
        self
    }

    fn entries_key(&self) -> String {
        self.redis.key(&["journal"])
    }

    fn hold_key(&self, key: &OperationKey) -> String {
        self.redis.key(&["journal-hold", key.as_str()])
    }

    async fn read(&self, key: &OperationKey) -> Result<Option<Entry>, JournalError> {
        let mut conn = self.redis.connection().await.map_err(redis_err)?;
        let raw: Option<String> = redis::cmd("HGET")
            .arg(self.entries_key())
            .arg(key.as_str())
            .query_async(&mut conn)
            .await
            .map_err(backend("journal read"))?;
        raw.map(|r| parse(key.as_str(), &r)).transpose()
    }

    async fn put(&self, hold: &Hold, e: &Entry) -> Result<(), JournalError> {
        if hold.lost.load(Ordering::SeqCst) {
            return Err(fenced(&e.key));
        }
        let json =
            serde_json::to_string(e).map_err(|x| JournalError::backend("entry encoding", x))?;
        let mut conn = self.redis.connection().await.map_err(redis_err)?;
        let ok: i64 = FENCED_PUT
            .key(self.entries_key())
            .key(&hold.hold_key)
            .arg(&hold.owner)
            .arg(json)
            .arg(e.key.as_str())
            .invoke_async(&mut conn)
            .await
            .map_err(backend("journal write"))?;
        if ok == 1 {
            Ok(())
        } else {
            Err(fenced(&e.key))
        }
    }

    async fn take(&self, key: &OperationKey) -> Result<Hold, JournalError> {
        let hold_key = self.hold_key(key);
        let mut b = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut b);
        let owner: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let ms = u64::try_from(self.hold.as_millis()).unwrap_or(u64::MAX);
        let started = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            let mut conn = self.redis.connection().await.map_err(redis_err)?;
            let set: Option<String> = redis::cmd("SET")
                .arg(&hold_key)
                .arg(&owner)
                .arg("NX")
                .arg("PX")
                .arg(ms)
                .query_async(&mut conn)
                .await
                .map_err(backend("journal hold"))?;
            if set.is_some() {
                let lost = Arc::new(AtomicBool::new(false));
                let renew = tokio::spawn(renew_loop(
                    self.redis.clone(),
                    hold_key.clone(),
                    owner.clone(),
                    self.hold,
                    lost.clone(),
                ));
                return Ok(Hold {
                    redis: self.redis.clone(),
                    hold_key,
                    owner,
                    lost,
                    renew,
                });
            }
            if started.elapsed() >= self.hold_wait {
                return Err(JournalError::Busy {
                    key: key.to_string(),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }
}

fn parse(key: &str, raw: &str) -> Result<Entry, JournalError> {
    serde_json::from_str(raw).map_err(|e| JournalError::Corrupt {
        path: format!("redis journal entry `{key}`"),
        detail: e.to_string(),
    })
}

fn fenced(key: &OperationKey) -> JournalError {
    JournalError::Backend {
        message: format!(
            "`{key}`: write refused, the hold expired or was taken over; nothing was written"
        ),
        source: None,
    }
}

fn hold_of(claim: &Claim) -> Result<&Hold, JournalError> {
    claim.hold::<Hold>().ok_or_else(|| JournalError::Backend {
        message: format!(
            "`{}`: the claim was not taken by a Redis journal",
            claim.key()
        ),
        source: None,
    })
}

#[async_trait]
impl Journal for RedisJournal {
    async fn begin(&self, entry: Entry) -> Result<Begin, JournalError> {
        let key = entry.key.clone();
        let hold = self.take(&key).await?;
        let existing = self.read(&key).await?;
        let admission = admit(existing.as_ref(), entry)?;
        Ok(match admission {
            Admission::Recorded(e) => Begin::Recorded(e),
            Admission::Fresh(e) => {
                self.put(&hold, &e).await?;
                Begin::Fresh(Claim::new(key, Box::new(hold)))
            }
            Admission::InFlight(e) => {
                self.put(&hold, &e).await?;
                Begin::InFlight(e, Claim::new(key, Box::new(hold)))
            }
        })
    }

    async fn note(&self, claim: &Claim, name: &str, value: &str) -> Result<Entry, JournalError> {
        let mut e = self
            .read(claim.key())
            .await?
            .ok_or_else(|| JournalError::Missing {
                key: claim.key().to_string(),
            })?;
        e.detail.insert(name.to_owned(), value.to_owned());
        e.updated_at_ms = now_ms();
        self.put(hold_of(claim)?, &e).await?;
        Ok(e)
    }

    async fn finish(&self, claim: Claim, state: State) -> Result<Entry, JournalError> {
        let mut e = self
            .read(claim.key())
            .await?
            .ok_or_else(|| JournalError::Missing {
                key: claim.key().to_string(),
            })?;
        e.state = state;
        e.updated_at_ms = now_ms();
        self.put(hold_of(&claim)?, &e).await?;
        drop(claim);
        Ok(e)
    }

    async fn get(&self, key: &OperationKey) -> Result<Option<Entry>, JournalError> {
        self.read(key).await
    }

    async fn list(&self) -> Result<Vec<Entry>, JournalError> {
        let mut conn = self.redis.connection().await.map_err(redis_err)?;
        let all: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(self.entries_key())
            .query_async(&mut conn)
            .await
            .map_err(backend("journal list"))?;
        let mut out = all
            .iter()
            .map(|(k, v)| parse(k, v))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|e| (e.created_at_ms, e.key.clone()));
        Ok(out)
    }
}
