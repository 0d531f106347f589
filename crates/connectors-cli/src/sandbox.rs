//! The sandbox: every platform's fake on 127.0.0.1, shared by `connectors sandbox` (which
//! prints the variables pointing at them) and `connectors demo` (which tours them in-process).

use connectors::content::fake::FakeContent;
use connectors::content::{AuthScheme, Builtin, Credentials, Profile};
use connectors::douyin::fake::{FakeDouyin, DEFAULT_CLIENT_KEY};
use connectors::erp::fake::{FakeCredentials, FakeErp};
use connectors::erp::AuthMode;
use connectors::ths::fake::FakeIfind;

use crate::exit::{self, CliError, CliResult};

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

    /// A seed.
    #[cfg(test)]
    pub fn new(seed: &str) -> Self {
        Self(Some(seed.to_owned()))
    }

    fn secret(&self, what: &str) -> Option<String> {
        self.0.as_ref().map(|s| format!("{s}-{what}"))
    }
}

impl Sandbox {
    /// Starts every fake.
    pub async fn start(seed: &Seed) -> CliResult<Self> {
        let mut douyin = FakeDouyin::builder();
        if let Some(s) = seed.secret("douyin-client-secret") {
            douyin = douyin.credentials(DEFAULT_CLIENT_KEY, s);
        }
        let douyin = douyin.try_start().await.map_err(|e| {
            CliError::new(exit::OTHER, format!("could not start the Douyin fake: {e}"))
        })?;

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

/// `NAME=value` as a POSIX shell `export` line, quoted when needed.
pub fn export_line(name: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if plain {
        format!("export {name}={value}")
    } else {
        format!("export {name}='{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_lines_quote_what_a_shell_would_split() {
        assert_eq!(
            export_line("A", "http://127.0.0.1:80/x"),
            "export A=http://127.0.0.1:80/x"
        );
        assert_eq!(export_line("A", "a b"), "export A='a b'");
        assert_eq!(export_line("A", "it's"), r"export A='it'\''s'");
        assert_eq!(export_line("A", ""), "export A=''");
    }

    #[test]
    fn a_seed_derives_every_secret() {
        let s = Seed::new("canary");
        assert_eq!(s.secret("x").as_deref(), Some("canary-x"));
        assert_eq!(Seed::default().secret("x"), None);
    }
}
