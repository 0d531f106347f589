//! Generic ERP REST (conn-erp).

use std::any::Any;
use std::sync::Arc;

use conn_core::env::Env;
use conn_core::token::TokenStore;
use conn_core::Error;
use conn_erp::{Client, Config, ENV_VARS, PLATFORM};

use super::{built, Built, Descriptor};
use crate::registry::Connectors;

pub(super) const DESCRIPTOR: Descriptor = Descriptor {
    name: PLATFORM,
    crate_name: "conn-erp",
    title: "an ERP's REST API",
    env_vars: ENV_VARS,
    enable_vars: &["ERP_API_URL"],
    skip_hint:
        "with ERP_API_KEY, or ERP_USERNAME and ERP_PASSWORD, or ERP_AUTH_MODE and its credentials",
    instances: None,
    skip: None,
    build,
};

fn build(
    env: &Env,
    _name: &str,
    _tokens: &Arc<dyn TokenStore>,
    _so_far: &Connectors,
    tune: &mut dyn FnMut(&mut dyn Any),
) -> Result<Built, Vec<Error>> {
    let one = |e| vec![e];
    let mut config = Config::from_env_report(env)?;
    tune(&mut config);
    Client::new(config).map(built).map_err(one)
}
