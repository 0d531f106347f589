//! Runnable examples of the connectors workspace. Each starts every platform's fake with
//! [`connectors::sandbox::Sandbox`] and points the library at it through plain variables, the
//! same way a program reads its real configuration, so it runs with no credentials and no
//! network:
//!
//! ```sh
//! cargo run -p connectors-examples --example douyin_publish
//! ```
//!
//! | example | shows |
//! |---|---|
//! | `douyin_publish` | OAuth code exchange, a video upload with a progress callback, publishing |
//! | `webhook_server` | a real HTTP server (hyper) verifying and routing Douyin webhooks |
//! | `ths_history_csv` | 同花顺 iFinD daily history written as CSV |
//! | `erp_orders_stream` | every ERP order as a `futures` stream over the pages |
//! | `content_publish` | an article on Xiaohongshu, Zhihu and Toutiao, and its counters |
//! | `many_accounts` | several Douyin accounts on one client, concurrently |
//! | `sandbox_test` | a cross-platform test on the sandbox that checks no secret is logged |
//!
//! This library holds the one helper they share, and compiles the README's Rust blocks as
//! doc tests so that the README cannot drift from the API.

use connectors::core::env::{Env, MapEnv};
use connectors::sandbox::Sandbox;
use connectors::Connectors;

/// The registry a program would build from its environment, with the environment being the
/// sandbox's variables ([`Sandbox::env_vars`]) instead of the process's.
///
/// # Errors
/// When the sandbox's variables do not configure a platform (a bug in the sandbox).
pub fn registry(sandbox: &Sandbox) -> connectors::core::Result<Connectors> {
    let env = Env::from_source(sandbox.env_vars().into_iter().collect::<MapEnv>());
    Ok(Connectors::from_env_with(&env)?)
}

/// Prints an error the way a person wants to read it: the message, then each cause.
///
/// `{err}` is the readable message (the variable to set, the platform's code and log id);
/// `{err:?}` would print the enum's structure instead.
pub fn report(err: &(dyn std::error::Error + 'static)) {
    eprintln!("error: {err}");
    let mut cause = err.source();
    while let Some(c) = cause {
        eprintln!("  caused by: {c}");
        cause = c.source();
    }
}

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
