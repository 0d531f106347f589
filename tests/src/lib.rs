//! Cross-crate contract tests live in `tests/tests/`: every platform crate, reached through the
//! umbrella's `Box<dyn Connector>` registry, against its own stateful fake. This library only
//! holds the shared fixture: all four fakes started at once, with the variables that point the
//! library at them.

use conn_core::env::{Env, MapEnv};
use connectors::content::fake::FakeContent;
use connectors::content::Builtin;
use connectors::douyin::fake::FakeDouyin;
use connectors::erp::fake::FakeErp;
use connectors::erp::AuthMode;
use connectors::ths::fake::FakeIfind;

/// Every platform's fake, running on 127.0.0.1.
#[derive(Debug)]
pub struct Sandbox {
    /// Douyin Open Platform.
    pub douyin: FakeDouyin,
    /// 同花顺 iFinD.
    pub ths: FakeIfind,
    /// An ERP signing its requests the 聚水潭 way.
    pub erp: FakeErp,
    /// The Zhihu profile of the content adapter.
    pub zhihu: FakeContent,
}

impl Sandbox {
    /// Starts every fake.
    pub async fn start() -> Self {
        Self {
            douyin: FakeDouyin::start().await,
            ths: FakeIfind::start().await,
            erp: FakeErp::start(AuthMode::JstMd5).await,
            zhihu: FakeContent::start(Builtin::Zhihu).await,
        }
    }

    /// The variables that point every platform at its fake.
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = Vec::new();
        v.extend(self.douyin.env_vars());
        v.extend(
            self.ths
                .env_vars()
                .into_iter()
                .map(|(k, val)| (k.to_owned(), val)),
        );
        v.extend(self.erp.env_vars());
        v.extend(self.zhihu.env_vars());
        v
    }

    /// An [`Env`] with [`Sandbox::vars`], with `overrides` applied on top.
    pub fn env(&self, overrides: &[(&str, &str)]) -> Env {
        let mut map: MapEnv = self.vars().into_iter().collect();
        for (k, v) in overrides {
            map = map.set(*k, *v);
        }
        Env::from_source(map)
    }

    /// Every secret the fakes accept, for log checks.
    pub fn secrets(&self) -> Vec<String> {
        self.vars()
            .into_iter()
            .filter(|(k, _)| {
                ["SECRET", "TOKEN", "KEY", "PASSWORD"]
                    .iter()
                    .any(|w| k.contains(w))
                    && !k.ends_with("_HEADER")
                    && !k.ends_with("CLIENT_KEY")
                    && !k.ends_with("APP_KEY")
            })
            .map(|(_, v)| v)
            .filter(|v| v.len() >= 8)
            .collect()
    }
}
