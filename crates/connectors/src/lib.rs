//! # connectors
//!
//! The umbrella over the workspace's platform crates: one Cargo feature per platform, the
//! registry that replaces the original system's `ConfigurableAPIConnector`, a
//! [`Connectors::from_env`] that builds every configured platform and reports **every** missing
//! setting at once, and the generator of `env.example`.
//!
//! | feature | re-export | crate |
//! |---|---|---|
//! | `douyin` | `connectors::douyin` | conn-douyin: Douyin Open Platform |
//! | `ths` | `connectors::ths` | conn-ths: 同花顺 iFinD |
//! | `erp` | `connectors::erp` | conn-erp: ERP REST |
//! | `content` | `connectors::content` | conn-content: Xiaohongshu, Zhihu, Toutiao, custom |
//! | `creds` | `connectors::creds` | conn-creds: the encrypted credential and token store |
//! | `full` (default) | all of the above | |
//! | `fake` | each enabled crate's `fake` module | FakeDouyin, FakeIfind, FakeErp, FakeContent |
//!
//! `conn_core` is always there as [`connectors::core`](core). A Douyin-only user writes
//! `connectors = { version = "0.1", default-features = false, features = ["douyin"] }` and
//! compiles conn-core and conn-douyin, nothing else of the workspace.
//!
//! ## The registry
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use connectors::Connectors;
//!
//! // Every platform whose variables are set; one error listing every problem otherwise.
//! let reg = Connectors::from_env()?;
//! for s in reg.skipped() {
//!     println!("not configured: {s}");
//! }
//! // The original call_api(platform, endpoint, method, data):
//! let orders = reg.call_api("erp", "/api/orders", "GET", None).await?;
//! println!("{}", orders.body);
//! // Typed clients of what was built:
//! # #[cfg(feature = "ths")]
//! if let Some(ths) = reg.ths() {
//!     let q = connectors::ths::RealTimeQuotation::new(["600519.SH"], ["latest"])?;
//!     println!("{:?}", ths.real_time_quotation(&q).await?.first());
//! }
//! // check_credentials() of every platform, concurrently:
//! for (platform, result) in reg.check_all().await {
//!     println!("{platform}: {}", if result.is_ok() { "ok" } else { "failed" });
//! }
//! # Ok(()) }
//! ```
//!
//! With the encrypted store (feature `creds`), values come from the environment first and the
//! store second ([`layer`] has the naming rule), and OAuth tokens persist in the store:
//!
//! ```no_run
//! # #[cfg(feature = "creds")]
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use connectors::creds::CredentialStore;
//! use connectors::Connectors;
//!
//! let store = CredentialStore::open_from_env()?; // API_CREDENTIALS_DIR, default .credentials
//! let reg = Connectors::builder().credential_store(store).build()?;
//! # let _ = reg; Ok(()) }
//! ```

// On docs.rs, feature-gated items say which feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod build;
pub mod envdoc;
pub mod layer;
mod platform;
pub mod registry;
pub mod report;
#[cfg(all(
    feature = "fake",
    feature = "douyin",
    feature = "ths",
    feature = "erp",
    feature = "content"
))]
#[cfg_attr(
    docsrs,
    doc(cfg(all(
        feature = "fake",
        feature = "douyin",
        feature = "ths",
        feature = "erp",
        feature = "content"
    )))
)]
pub mod sandbox;
#[cfg(feature = "redis")]
mod shared;

pub use build::ConnectorsBuilder;
pub use envdoc::{env_example, env_vars, EnvVarGroup, CLI_ENV_VARS, ORIGINAL_VARS};
pub use platform::{descriptors, Descriptor};
pub use registry::{Connectors, IntoMethod, METHODS};
pub use report::{ConfigReport, PlatformProblem, Skipped};

/// conn-core: errors, secrets, environment, retry, transport, tokens, webhooks, the
/// `Connector` trait.
pub use conn_core as core;

/// conn-douyin: the Douyin Open Platform.
#[cfg(feature = "douyin")]
#[cfg_attr(docsrs, doc(cfg(feature = "douyin")))]
pub use conn_douyin as douyin;

/// conn-ths: 同花顺 iFinD.
#[cfg(feature = "ths")]
#[cfg_attr(docsrs, doc(cfg(feature = "ths")))]
pub use conn_ths as ths;

/// conn-erp: ERP REST.
#[cfg(feature = "erp")]
#[cfg_attr(docsrs, doc(cfg(feature = "erp")))]
pub use conn_erp as erp;

/// conn-content: content platforms.
#[cfg(feature = "content")]
#[cfg_attr(docsrs, doc(cfg(feature = "content")))]
pub use conn_content as content;

/// conn-creds: the encrypted credential and token store.
#[cfg(feature = "creds")]
#[cfg_attr(docsrs, doc(cfg(feature = "creds")))]
pub use conn_creds as creds;

/// conn-redis: shared state for many processes and hosts.
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use conn_redis as redis;
