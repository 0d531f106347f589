//! Douyin Open Platform (conn-douyin).

use std::any::Any;
use std::sync::Arc;

use conn_core::env::Env;
use conn_core::token::TokenStore;
use conn_core::Error;
use conn_douyin::{Client, Config, ENV_VARS, PLATFORM};

use super::{built, Built, Descriptor};
use crate::registry::Connectors;

pub(super) const DESCRIPTOR: Descriptor = Descriptor {
    name: PLATFORM,
    crate_name: "conn-douyin",
    title: "the Douyin Open Platform",
    env_vars: ENV_VARS,
    enable_vars: &["DOUYIN_CLIENT_KEY", "DOUYIN_CLIENT_SECRET"],
    skip_hint: "or DOUYIN_ACCESS_TOKEN for a fixed token; `connectors creds set douyin client_secret` stores the secret encrypted",
    instances: None,
    skip: None,
    build,
};

fn build(
    env: &Env,
    _name: &str,
    tokens: &Arc<dyn TokenStore>,
    _so_far: &Connectors,
    tune: &mut dyn FnMut(&mut dyn Any),
) -> Result<Built, Vec<Error>> {
    let mut config = Config::from_env_report(env)?;
    tune(&mut config);
    Client::builder(config)
        .token_store(tokens.clone())
        .build()
        .map(built)
        .map_err(|e| vec![e])
}
