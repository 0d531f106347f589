//! The sandbox in a test: every fake in one line, a flow across platforms, and a check that
//! no secret reached the logs. `cargo run` shows the flow; `cargo test` runs it as a test:
//!
//! ```sh
//! cargo run -p connectors-examples --example sandbox_test
//! cargo test -p connectors-examples --example sandbox_test
//! ```
//!
//! With `Seed::new("canary")` every secret the fakes accept is derived from the canary, so
//! "no output contains `canary`" means no secret leaked, whatever the secret's name.

use std::process::ExitCode;

use connectors::sandbox::{Sandbox, Seed};
use connectors::ths::RealTimeQuotation;

#[tokio::main]
async fn main() -> ExitCode {
    match flow(&Seed::new("canary-0f3a")).await {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            connectors_examples::report(&e);
            ExitCode::FAILURE
        }
    }
}

/// An ERP order and an iFinD quote, as a program under test would do them.
async fn flow(seed: &Seed) -> connectors::core::Result<String> {
    let sandbox = Sandbox::start(seed).await?;
    let registry = connectors_examples::registry(&sandbox)?;
    let order = connectors::erp::NewOrder::new("测试客户")
        .item("SKU-1", 1.into(), "25.00".parse()?)
        .external_id("test-0001");
    let created = registry.require_erp()?.create_order(&order).await?;
    let quote = RealTimeQuotation::new(["600519.SH"], ["latest"])?;
    let tables = registry.require_ths()?.real_time_quotation(&quote).await?;
    // Every platform of the sandbox was configured from its variables alone.
    Ok(format!(
        "platforms: {}; order {}; {} quote table(s)",
        registry.platforms().join(", "),
        created.id,
        tables.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_flow_works_and_no_secret_is_in_its_output() {
        let summary = flow(&Seed::new("canary-7c1d")).await.expect("the flow");
        assert!(summary.contains("douyin"), "{summary}");
        assert!(summary.contains("ths"), "{summary}");
        assert!(!summary.contains("canary-7c1d"), "{summary}");
    }

    #[tokio::test]
    async fn the_seed_reaches_every_secret_variable() {
        let sb = Sandbox::start(&Seed::new("canary-7c1d"))
            .await
            .expect("sandbox");
        let vars = sb.env_vars();
        let secret = vars
            .iter()
            .find(|(k, _)| k == "DOUYIN_CLIENT_SECRET")
            .map(|(_, v)| v.as_str());
        assert!(
            secret.is_some_and(|v| v.contains("canary-7c1d")),
            "{secret:?}"
        );
        // The URLs point at 127.0.0.1, never at a real platform.
        for (k, v) in vars.iter().filter(|(k, _)| k.ends_with("_URL")) {
            assert!(v.starts_with("http://127.0.0.1:"), "{k}={v}");
        }
    }
}
