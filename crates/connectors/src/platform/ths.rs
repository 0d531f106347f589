//! 同花顺 iFinD (conn-ths).

use std::any::Any;
use std::sync::Arc;

use conn_core::env::Env;
use conn_core::token::TokenStore;
use conn_core::Error;
use conn_ths::{Client, ClientBuilder, Config, RateLimit, ENV_VARS, PLATFORM};

use super::{built, Built, Descriptor};
use crate::registry::Connectors;

pub(super) const DESCRIPTOR: Descriptor = Descriptor {
    name: PLATFORM,
    crate_name: "conn-ths",
    title: "the 同花顺 iFinD HTTP data API",
    env_vars: ENV_VARS,
    enable_vars: &["THS_REFRESH_TOKEN"],
    skip_hint: "the refresh_token of your iFinD account, from the iFinD client",
    instances: None,
    skip: None,
    build,
};

fn build(
    env: &Env,
    _name: &str,
    tokens: &Arc<dyn TokenStore>,
    so_far: &Connectors,
    tune: &mut dyn FnMut(&mut dyn Any),
) -> Result<Built, Vec<Error>> {
    let one = |e| vec![e];
    // Every missing or invalid THS_* setting is reported at once.
    let mut config = Config::from_env_report(env)?;
    tune(&mut config);
    let limit = config.rate_limit();
    let builder = Client::builder(config).token_store(tokens.clone());
    shared_limiter(builder, so_far, limit)
        .and_then(ClientBuilder::build)
        .map(built)
        .map_err(one)
}

/// With Redis configured, the iFinD account's 600/min budget is shared by every process and
/// host (a real -4400 slows all of them); without it, the client's own limiter counts.
#[cfg(feature = "redis")]
fn shared_limiter(
    builder: ClientBuilder,
    so_far: &Connectors,
    limit: RateLimit,
) -> Result<ClientBuilder, Error> {
    let Some(redis) = so_far.redis() else {
        return Ok(builder);
    };
    let shared =
        conn_redis::SharedLimit::new(limit.requests(), limit.window())?.with_burst(limit.burst());
    let limiter = conn_redis::RedisLimiter::new(redis.clone(), PLATFORM, shared);
    Ok(builder.limiter(Arc::new(limiter)))
}

/// Without the `redis` feature there is no shared state: the client's own limiter counts.
#[cfg(not(feature = "redis"))]
fn shared_limiter(
    builder: ClientBuilder,
    _so_far: &Connectors,
    _limit: RateLimit,
) -> Result<ClientBuilder, Error> {
    Ok(builder)
}
