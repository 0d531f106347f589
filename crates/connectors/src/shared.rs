//! Shared state on Redis (feature `redis`): when `REDIS_URL` is set, tokens of every platform
//! live in Redis (encrypted, with the fenced lease lock), and the registry offers the shared
//! webhook replay cache. No silent fallback: a bad Redis setting or a missing encryption key
//! is a configuration problem of the whole build.

use std::sync::Arc;

use conn_core::env::Env;
use conn_core::Error;
use conn_redis::{Redis, RedisConfig, RedisTokenStore};

/// What `from_env` found.
pub(crate) struct Shared {
    pub(crate) redis: Redis,
    pub(crate) tokens: Arc<RedisTokenStore>,
}

/// `Ok(None)` without `REDIS_URL`.
pub(crate) fn from_env(env: &Env) -> Result<Option<Shared>, Error> {
    let Some(config) = RedisConfig::from_env_with(env)? else {
        return Ok(None);
    };
    let redis = Redis::new(config)?;
    let tokens = Arc::new(RedisTokenStore::from_env_with(redis.clone(), env)?);
    Ok(Some(Shared { redis, tokens }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use conn_core::env::MapEnv;

    #[test]
    fn redis_without_a_key_is_refused_naming_the_variable() {
        let env = Env::from_source(MapEnv::new().set("REDIS_URL", "redis://127.0.0.1:1"));
        let e = from_env(&env).err().unwrap().to_string();
        assert!(e.contains("API_CREDENTIAL_ENCRYPTION_KEY"), "{e}");
        assert!(from_env(&Env::from_source(MapEnv::new()))
            .unwrap()
            .is_none());
        let env = Env::from_source(MapEnv::new().set("REDIS_URL", "redis://127.0.0.1:1").set(
            "API_CREDENTIAL_ENCRYPTION_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        ));
        // No I/O at build time: Redis is reached on first use.
        assert!(from_env(&env).unwrap().is_some());
    }
}
