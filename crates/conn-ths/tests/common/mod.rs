//! Helpers shared by the integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::time::Duration;

use conn_core::retry::{Jitter, RetryPolicy};
use conn_core::transport::TransportConfig;
use conn_ths::fake::FakeIfind;
use conn_ths::Client;
use serde_json::Value;

/// Retries with millisecond delays so fault tests stay fast.
pub fn fast_retry(retries: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(retries)
        .with_base_delay(Duration::from_millis(2))
        .with_max_delay(Duration::from_millis(20))
        .with_jitter(Jitter::None)
}

/// Transport settings with `retry` (the builder replaces their base URL with its own).
pub fn transport(retry: RetryPolicy) -> TransportConfig {
    TransportConfig::new("http://127.0.0.1")
        .unwrap()
        .with_retry(retry)
}

/// A deal of 600519 (贵州茅台) in portfolio 10086, every required key set.
pub fn deal(side: conn_ths::Side, volume: i64, price: rust_decimal::Decimal) -> conn_ths::Deal {
    conn_ths::Deal::new(conn_ths::DealInput {
        portfolio: conn_ths::PortfolioId::new(10086),
        symbol: "600519".into(),
        side,
        code_name: "贵州茅台".into(),
        market: conn_ths::MarketCode::sse(),
        security_type: "001001".into(),
        price,
        volume: volume.into(),
        currency: conn_ths::PortfolioCurrency::Cny,
        fee: rust_decimal::Decimal::new(5, 0),
        fee_rate: rust_decimal::Decimal::new(3, 4),
        fx_rate: rust_decimal::Decimal::ONE,
    })
    .unwrap()
}

/// The decimal a JSON writer's `f64` stands for (its shortest spelling): how the decoder reads
/// a number the fake wrote from an `f64`.
pub fn dec(x: f64) -> rust_decimal::Decimal {
    x.to_string().parse().unwrap()
}

/// A client of the fake with fast retries.
pub fn client(fake: &FakeIfind) -> Client {
    Client::new(
        fake.config_builder()
            .transport(transport(fast_retry(3)))
            .build()
            .unwrap(),
    )
    .unwrap()
}

/// A request as a snapshot value: conn-core's one redacting view (the token headers masked).
pub fn describe(req: &wiremock::Request) -> Value {
    conn_core::fake::Describe::default().request(req)
}

/// The requests the fake received at an endpoint.
pub async fn received_at(fake: &FakeIfind, endpoint: &str) -> Vec<wiremock::Request> {
    let path = format!("/api/v1/{endpoint}");
    fake.received_requests()
        .await
        .into_iter()
        .filter(|r| r.url.path() == path)
        .collect()
}

/// A fake with a generous rate limit (2,000 per second), so tests do not wait on the limiter.
pub async fn fake() -> FakeIfind {
    fake_builder().start().await
}

/// The builder of [`fake`], for tests that change more settings.
pub fn fake_builder() -> conn_ths::fake::FakeIfindBuilder {
    FakeIfind::builder().rate_limit(2000, Duration::from_secs(1))
}
