//! Content platforms (conn-content): one instance per profile, built-in (Xiaohongshu, Zhihu,
//! Toutiao) or declared.

use std::any::Any;
use std::sync::Arc;

use conn_content::{profile_from_env, profile_names};
use conn_content::{AuthScheme, Client, Config, Profile, ENV_VARS};
use conn_core::env::Env;
use conn_core::token::TokenStore;
use conn_core::Error;

use super::{built, Built, Descriptor};
use crate::registry::Connectors;
use crate::report::Skipped;

pub(super) const DESCRIPTOR: Descriptor = Descriptor {
    name: "content",
    crate_name: "conn-content",
    title: "content platforms (Xiaohongshu, Zhihu, Toutiao; a custom profile NAME reads the same NAME_* variables)",
    env_vars: ENV_VARS,
    // A profile's own variables are listed when it is skipped (see `skipped`).
    enable_vars: &["XIAOHONGSHU_BASE_URL", "ZHIHU_BASE_URL", "TOUTIAO_BASE_URL"],
    skip_hint: SKIP_HINT,
    instances: Some(profile_names),
    skip: Some(skipped),
    build,
};

const SKIP_HINT: &str = "no default endpoint: the platform documents no publishing API, point it at one you have access to";

/// The `<P>_*` suffixes a content profile reads, from the crate's own list (written for the
/// Xiaohongshu profile).
fn suffixes() -> impl Iterator<Item = &'static str> {
    ENV_VARS
        .iter()
        .filter_map(|d| d.name.strip_prefix("XIAOHONGSHU_"))
}

/// A built-in profile is not configured when none of its own variables is set and no profile
/// file gives it a base URL; a declared custom profile always counts as configured.
fn skipped(env: &Env, name: &str) -> Result<Option<Skipped>, Error> {
    let profile = profile_from_env(env, name)?;
    let own_set = suffixes().any(|s| env.is_set(&profile.env_var(s)));
    if own_set || profile.base_url.is_some() || Profile::builtin(name).is_none() {
        return Ok(None);
    }
    let mut variables = vec![profile.env_var("BASE_URL")];
    match &profile.auth {
        AuthScheme::Bearer => variables.push(profile.env_var("ACCESS_TOKEN")),
        AuthScheme::ApiKey { .. } => variables.push(profile.env_var("API_KEY")),
        AuthScheme::XhsSign { .. } => {
            for s in ["APP_ID", "APP_SECRET", "ACCESS_TOKEN"] {
                variables.push(profile.env_var(s));
            }
        }
        _ => {}
    }
    Ok(Some(Skipped {
        platform: name.to_owned(),
        variables,
        hint: SKIP_HINT.to_owned(),
    }))
}

fn build(
    env: &Env,
    name: &str,
    _tokens: &Arc<dyn TokenStore>,
    _so_far: &Connectors,
    tune: &mut dyn FnMut(&mut dyn Any),
) -> Result<Built, Vec<Error>> {
    let one = |e| vec![e];
    let mut config = Config::from_env_report(env, name)?;
    tune(&mut config);
    Client::new(config).map(built).map_err(one)
}
