//! The sandbox: every platform's fake on 127.0.0.1 at once (features `fake` and all four
//! platforms). `connectors sandbox` prints the variables that point the library at it,
//! `connectors demo` tours it in-process, and tests (ours and users') start it in one line.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use connectors::sandbox::{Sandbox, Seed};
//! let sb = Sandbox::start(&Seed::default()).await.unwrap();
//! let env = conn_core::env::Env::from_source(sb.env_vars().into_iter().collect::<conn_core::env::MapEnv>());
//! let registry = connectors::Connectors::from_env_with(&env).unwrap();
//! assert!(registry.platforms().contains(&"douyin"));
//! # });
//! ```

use conn_core::{Error, Result};

use crate::content::fake::FakeContent;
use crate::content::{AuthScheme, Builtin, Credentials, Profile};
use crate::douyin::fake::{FakeDouyin, DEFAULT_CLIENT_KEY};
use crate::erp::fake::{FakeCredentials, FakeErp};
use crate::erp::AuthMode;
use crate::ths::fake::FakeIfind;

/// The running fakes. Dropping it stops them.
#[derive(Debug)]
pub struct Sandbox {
    /// Douyin Open Platform.
    pub douyin: FakeDouyin,
    /// iFinD.
    pub ths: FakeIfind,
    /// An ERP with API-key auth and 10 seeded orders.
    pub erp: FakeErp,
    /// Zhihu (bearer).
    pub zhihu: FakeContent,
    /// Xiaohongshu (xhs_sign request signing).
    pub xiaohongshu: FakeContent,
    /// Toutiao (bearer).
    pub toutiao: FakeContent,
}

/// Secrets of a sandbox. With a seed, every secret the fakes accept is derived from it, so a
/// test can check that no output contains the seed; without one, each fake's test defaults.
#[derive(Debug, Clone, Default)]
pub struct Seed(Option<String>);

impl Seed {
    /// From `CONNECTORS_DEMO_SECRET_SEED` (or none).
    pub fn from_env() -> Self {
        Self(
            std::env::var("CONNECTORS_DEMO_SECRET_SEED")
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
        )
    }

    /// This seed, or a random one when none is set.
    pub fn or_random(self) -> Self {
        if self.0.is_some() {
            return self;
        }
        use rand::Rng;
        let n: u128 = rand::thread_rng().gen();
        Self(Some(format!("demo{n:032x}")))
    }

    /// A given seed (tests use a known canary).
    pub fn new(seed: &str) -> Self {
        Self(Some(seed.to_owned()))
    }

    fn secret(&self, what: &str) -> Option<String> {
        self.0.as_ref().map(|s| format!("{s}-{what}"))
    }
}

impl Sandbox {
    /// Starts every fake.
    ///
    /// # Errors
    /// When a fake cannot bind its port on 127.0.0.1.
    pub async fn start(seed: &Seed) -> Result<Self> {
        let mut douyin = FakeDouyin::builder();
        if let Some(s) = seed.secret("douyin-client-secret") {
            douyin = douyin.credentials(DEFAULT_CLIENT_KEY, s);
        }
        let douyin = douyin
            .try_start()
            .await
            .map_err(|e| Error::io("start the Douyin fake on 127.0.0.1", None, e))?;

        let mut ths = FakeIfind::builder();
        if let Some(s) = seed.secret("ths-refresh-token") {
            ths = ths.refresh_token(s);
        }
        let ths = ths.start().await;

        let mut erp_creds = FakeCredentials::default();
        if let Some(s) = seed.secret("erp-api-key") {
            erp_creds.api_key = s;
        }
        let erp = FakeErp::builder(AuthMode::ApiKey)
            .credentials(erp_creds)
            .orders(10)
            .start()
            .await;

        let (zhihu, xiaohongshu, toutiao) = match &seed.0 {
            None => (
                FakeContent::start(Builtin::Zhihu).await,
                FakeContent::start(xhs_signed()).await,
                FakeContent::start(Builtin::Toutiao).await,
            ),
            Some(_) => {
                let s = |w: &str| seed.secret(w).unwrap_or_default();
                (
                    FakeContent::start_with(
                        Builtin::Zhihu,
                        Credentials::bearer(s("zhihu-access-token")),
                    )
                    .await,
                    FakeContent::start_with(
                        xhs_signed(),
                        Credentials::xhs(
                            "demo-xhs-app",
                            s("xiaohongshu-app-secret"),
                            s("xiaohongshu-access-token"),
                        ),
                    )
                    .await,
                    FakeContent::start_with(
                        Builtin::Toutiao,
                        Credentials::bearer(s("toutiao-access-token")),
                    )
                    .await,
                )
            }
        };
        Ok(Self {
            douyin,
            ths,
            erp,
            zhihu,
            xiaohongshu,
            toutiao,
        })
    }

    /// Every variable that points the library and the CLI at the fakes, in a fixed order.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self.douyin.env_vars();
        v.extend(
            self.ths
                .env_vars()
                .into_iter()
                .map(|(k, val)| (k.to_owned(), val)),
        );
        v.extend(self.erp.env_vars());
        for c in [&self.xiaohongshu, &self.zhihu, &self.toutiao] {
            v.extend(c.env_vars());
        }
        v
    }
}

/// Xiaohongshu with its open platform's request signing rather than a bearer token.
fn xhs_signed() -> Profile {
    Profile::xiaohongshu().with_auth(AuthScheme::xhs_sign())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_derives_every_secret() {
        let s = Seed::new("canary");
        assert_eq!(s.secret("x").as_deref(), Some("canary-x"));
        assert_eq!(Seed::default().secret("x"), None);
    }
}
