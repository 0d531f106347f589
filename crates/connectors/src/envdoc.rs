//! Every environment variable of every compiled-in crate, and `env.example` generated from them.
//!
//! Each crate declares the variables it reads in a `pub const ENV_VARS: &[EnvVarDoc]`;
//! [`env_vars`] gathers them (deduplicated by name, grouped by crate) and [`env_example`]
//! renders the file `cargo xtask env-example` writes, so the documented variables cannot drift
//! from the ones the code reads. The output is deterministic (no timestamps, fixed order).

use std::collections::BTreeSet;

use conn_core::env::EnvVarDoc;

/// The variables of one crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVarGroup {
    /// The crate (`conn-core`, `conn-douyin`, …).
    pub crate_name: &'static str,
    /// What its variables configure.
    pub title: &'static str,
    /// Its variables, in the crate's order, without names already listed by an earlier group.
    pub vars: Vec<EnvVarDoc>,
}

/// Variables read by the `connectors` command-line tool itself.
pub const CLI_ENV_VARS: &[EnvVarDoc] = &[
    EnvVarDoc::new(
        "RUST_LOG",
        "",
        "Tracing filter of the connectors CLI (e.g. conn_core=debug); -v, -vv, -vvv override it. Logs go to stderr and carry no secrets.",
    ),
    EnvVarDoc::secret(
        "CONNECTORS_NEW_ENCRYPTION_KEY",
        "New store key for `connectors creds rotate-key` (32 bytes, base64), read instead of stdin; never passed as an argument.",
    ),
    EnvVarDoc::secret(
        "CONNECTORS_DEMO_SECRET_SEED",
        "Testing hook: the seed of every secret of `connectors demo`'s in-process sandbox (tests check no output contains it).",
    ),
];

/// Each variable of the original system's env.example, the crate that reads it now, and what
/// it means now.
pub const ORIGINAL_VARS: &[(&str, &str, &str)] = &[
    ("DOUYIN_APP_ID", "conn-douyin", "still read: the original name of DOUYIN_CLIENT_KEY (set one of the two)."),
    ("DOUYIN_APP_SECRET", "conn-douyin", "still read: the original name of DOUYIN_CLIENT_SECRET (set one of the two)."),
    ("DOUYIN_CLIENT_KEY", "conn-douyin", "unchanged: the app's client key."),
    ("DOUYIN_CLIENT_SECRET", "conn-douyin", "unchanged: the app's client secret; it also verifies webhooks."),
    ("DOUYIN_ACCESS_TOKEN", "conn-douyin", "unchanged but discouraged: a fixed user token that cannot be refreshed; `connectors douyin login` stores OAuth tokens that refresh themselves."),
    ("DOUYIN_BASE_URL", "conn-douyin", "unchanged: https://open.douyin.com (sandbox https://open-sandbox.douyin.com)."),
    ("TONGHUASHUN_API_KEY", "conn-ths", "not used: iFinD has no API key; set THS_REFRESH_TOKEN (setting only this is a configuration error saying so)."),
    ("TONGHUASHUN_API_SECRET", "conn-ths", "not used: iFinD has no API secret; set THS_REFRESH_TOKEN."),
    ("THS_APP_KEY", "conn-ths", "not used: iFinD has no app key; set THS_REFRESH_TOKEN."),
    ("THS_APP_SECRET", "conn-ths", "not used: iFinD has no app secret; set THS_REFRESH_TOKEN."),
    ("THS_BASE_URL", "conn-ths", "still read, but the original https://api.10jqka.com.cn serves no API and is refused; the default is https://quantapi.51ifind.com/api/v1."),
    ("ERP_API_URL", "conn-erp", "unchanged: the ERP's base URL (default http://localhost:8013)."),
    ("ERP_API_KEY", "conn-erp", "unchanged: sent as X-API-Key (ERP_AUTH_MODE=api_key, inferred when set); also the key of the token and bearer modes."),
    ("ERP_USERNAME", "conn-erp", "unchanged: Basic auth user (ERP_AUTH_MODE=basic, inferred with ERP_PASSWORD)."),
    ("ERP_PASSWORD", "conn-erp", "unchanged: Basic auth password."),
    ("XIAOHONGSHU_ACCESS_TOKEN", "conn-content", "still the bearer token (and the xhs_sign accessToken), but XIAOHONGSHU_BASE_URL is required: Xiaohongshu documents no publishing API."),
    ("ZHIHU_ACCESS_TOKEN", "conn-content", "still the bearer token, but ZHIHU_BASE_URL is required: Zhihu documents no publishing API."),
    ("TOUTIAO_ACCESS_TOKEN", "conn-content", "still the bearer token (from ByteDance OAuth on open.snssdk.com), but TOUTIAO_BASE_URL is required."),
    ("API_MAX_RETRIES", "conn-core", "unchanged: retries after the first attempt (default 3); only safe operations are retried."),
    ("API_RETRY_DELAY", "conn-core", "unchanged: the first delay in seconds (default 1.0), now with full jitter and a cap."),
    ("API_RETRY_STRATEGY", "conn-core", "unchanged: fixed | exponential | linear."),
    ("API_TIMEOUT", "conn-core", "now the timeout of each attempt in seconds (default 30.0); connecting has its own 10 s limit."),
    ("API_CREDENTIAL_ENCRYPTION_KEY", "conn-creds", "still the store key, now AES-256-GCM: 32 random bytes in base64 (empty = generated into <dir>/key). Stores of the original system are not read: store the credentials again with `connectors creds set`."),
];

/// The groups that are not platforms, before the platforms' (the platforms' come from their
/// [descriptors](crate::descriptors)); the CLI's comes last.
const SUPPORT_GROUPS: &[(&str, &str, &[EnvVarDoc])] = &[
    (
        "conn-core",
        "retries and timeouts of every platform",
        conn_core::env::ENV_VARS,
    ),
    #[cfg(feature = "creds")]
    (
        "conn-creds",
        "the encrypted credential and token store (`connectors creds …`)",
        conn_creds::ENV_VARS,
    ),
    #[cfg(feature = "redis")]
    (
        "conn-redis",
        "shared state for many workers on Redis (tokens, webhook dedupe)",
        conn_redis::ENV_VARS,
    ),
];

/// Every variable of every compiled-in crate: conn-core's first, then the store's and Redis',
/// then each platform's, in [`descriptors`](crate::descriptors) order (deduplicated by name: a
/// variable stays in the first group that lists it), then the CLI's.
pub fn env_vars() -> Vec<EnvVarGroup> {
    let platforms = crate::descriptors()
        .iter()
        .map(|d| (d.crate_name, d.title, d.env_vars));
    let cli = (
        "connectors-cli",
        "the `connectors` command-line tool",
        CLI_ENV_VARS,
    );
    let raw = SUPPORT_GROUPS
        .iter()
        .copied()
        .chain(platforms)
        .chain(std::iter::once(cli));

    let mut seen = BTreeSet::new();
    raw.into_iter()
        .map(|(crate_name, title, list)| EnvVarGroup {
            crate_name,
            title,
            vars: list
                .iter()
                .filter(|d| seen.insert(d.name))
                .copied()
                .collect(),
        })
        .collect()
}

const RULE: &str =
    "# ==============================================================================";

/// The text of `env.example`: a header, one section per crate (`# description` then
/// `NAME=default`, secrets always empty), and a last section mapping each variable of the
/// original system to what it means now (comments only: a variable listed above is not
/// assigned twice).
///
/// ```
/// let text = connectors::env_example();
/// assert!(text.starts_with("# env.example"));
/// assert!(text.contains("\nAPI_MAX_RETRIES=3\n"));
/// assert!(text.contains("# API_TIMEOUT: "));
/// assert_eq!(text, connectors::env_example()); // deterministic
/// ```
pub fn env_example() -> String {
    let groups = env_vars();
    let mut out = String::new();
    out.push_str(
        "# env.example: every environment variable the connectors workspace reads.\n\
         # Generated by `cargo xtask env-example` from the configuration code; do not edit.\n\
         #\n\
         # Set what you use in the environment (or a .env file your tooling loads); an empty\n\
         # value counts as unset. Secrets never have a value here: put them in the environment\n\
         # or store them encrypted with `connectors creds set PLATFORM NAME`, which stands for\n\
         # the variable PLATFORM_NAME (a variable that is set wins over the stored value).\n",
    );
    let mut listed = BTreeSet::new();
    for g in &groups {
        if g.vars.is_empty() {
            continue;
        }
        out.push('\n');
        out.push_str(RULE);
        out.push_str(&format!("\n# {}: {}\n", g.crate_name, g.title));
        out.push_str(RULE);
        out.push('\n');
        for v in &g.vars {
            listed.insert(v.name);
            out.push('\n');
            if v.secret {
                out.push_str(&format!("# (secret) {}\n", v.description));
                out.push_str(&format!("{}=\n", v.name));
            } else {
                out.push_str(&format!("# {}\n", v.description));
                out.push_str(&format!("{}={}\n", v.name, v.default));
            }
        }
    }
    out.push('\n');
    out.push_str(RULE);
    out.push_str("\n# Variables of the original system\n");
    out.push_str(RULE);
    out.push_str(
        "\n# What each variable of the original system's env.example means now. Those still\n\
         # read are listed above; none is assigned here.\n#\n",
    );
    for (name, crate_name, meaning) in ORIGINAL_VARS {
        out.push_str(&format!("# {name}: {meaning}"));
        if !listed.contains(name) {
            out.push_str(&format!(
                " (not read by this build: {crate_name} is not compiled in)"
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_secrets_have_no_default() {
        let mut seen = BTreeSet::new();
        for g in env_vars() {
            for v in g.vars {
                assert!(seen.insert(v.name), "{} listed twice", v.name);
                if v.secret {
                    assert!(v.default.is_empty(), "{}", v.name);
                }
            }
        }
        assert!(seen.contains("API_TIMEOUT"));
        assert!(seen.contains("CONNECTORS_DEMO_SECRET_SEED"));
    }

    /// The checked-in file is what the CLI (every platform, the store and Redis) generates.
    #[cfg(all(feature = "full", feature = "redis"))]
    #[test]
    fn the_checked_in_env_example_is_what_a_full_build_generates() {
        let checked_in = include_str!("../../../env.example");
        assert!(
            env_example() == checked_in,
            "env.example is stale: regenerate it with `cargo xtask env-example`"
        );
    }

    #[test]
    fn every_original_variable_is_mapped_once() {
        let names: Vec<&str> = ORIGINAL_VARS.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(names.len(), 23);
        let unique: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len());
        let text = env_example();
        for n in names {
            assert_eq!(
                text.matches(&format!("\n# {n}: ")).count(),
                1,
                "{n} must be mapped exactly once"
            );
            assert!(
                text.matches(&format!("\n{n}=")).count() <= 1,
                "{n} assigned twice"
            );
        }
    }
}
