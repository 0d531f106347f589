//! Operations end to end against the fake: money exactness, auth failures per mode, tampered
//! and stale signatures, error mapping, the Connector trait, env configuration, log hygiene.

#![cfg(feature = "fake")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::NaiveDate;
use conn_core::clock::ManualClock;
use conn_core::connector::{Connector, RawRequest};
use conn_core::env::{Env, MapEnv};
use conn_core::error::{ApiErrorKind, Category};
use conn_core::secret::{AccessToken, ApiKey, ClientSecret, Password};
use conn_core::testing::LogCapture;
use conn_core::Error;
use conn_erp::fake::{FakeErp, FakeOp, Fault};
use conn_erp::{
    ApiKeyAuth, BasicAuth, BearerAuth, KingdeeHmacSigner, KingdeeIdentity, RequestSigner, SignBody,
    SignableRequest, SigningContext, SortedMd5Signer, TokenAuth, WdtSigner,
};
use conn_erp::{Auth, AuthMode, Client, Config, Money, NewOrder, OrderQuery, Period};
use rust_decimal::Decimal;
use serde_json::json;

/// Auth with the right identifiers and a wrong secret, per mode.
fn wrong_auth(mode: AuthMode) -> Auth {
    let app = "fake-erp-app-key";
    match mode {
        AuthMode::ApiKey => Auth::ApiKey(ApiKeyAuth::new(ApiKey::new("wrong-key"))),
        AuthMode::Basic => Auth::Basic(BasicAuth::new("fake-erp-user", Password::new("wrong"))),
        AuthMode::Token => Auth::Token(TokenAuth::new(
            ApiKey::new("fake-erp-api-key-7Qm2"),
            ClientSecret::new("wrong"),
        )),
        AuthMode::Bearer => Auth::Bearer(BearerAuth::new(AccessToken::new("wrong"))),
        AuthMode::JstMd5 => Auth::Md5(
            SortedMd5Signer::jushuitan(app, ClientSecret::new("wrong"))
                .with_access_token(AccessToken::new("fake-erp-access-token-Lw05")),
        ),
        AuthMode::WdtMd5 => Auth::Wdt(
            WdtSigner::new("fake-sid", app, ClientSecret::new("wrong:fake-salt")).unwrap(),
        ),
        AuthMode::KingdeeHmac => Auth::Kingdee(
            KingdeeHmacSigner::new(
                "313131_ZmFrZS1raW5nZGVlLWFwcC1pZC0xMjM0",
                ClientSecret::new("wrong"),
                KingdeeIdentity::new("fake-acct-01", "fake-user"),
            )
            .unwrap(),
        ),
        AuthMode::None => Auth::None(conn_erp::NoAuth),
    }
}

#[tokio::test]
async fn wrong_credentials_are_the_erps_auth_error_in_every_mode() {
    for mode in AuthMode::ALL {
        if mode == AuthMode::None {
            continue;
        }
        let fake = FakeErp::start(mode).await;
        let erp = Client::new(
            fake.config_builder()
                .auth(wrong_auth(mode))
                .build()
                .unwrap(),
        )
        .unwrap();
        let err = erp.orders_page(&OrderQuery::new(), 0).await.unwrap_err();
        // 旺店通 and Kingdee publish no code for a bad signature (⚠): their refusal is a
        // platform error of kind Other, in their own envelope, never a success.
        let want = match mode {
            AuthMode::WdtMd5 | AuthMode::KingdeeHmac => ApiErrorKind::Other,
            _ => ApiErrorKind::InvalidCredentials,
        };
        assert_eq!(err.api_kind(), Some(want), "{mode}: {err}");
        if want == ApiErrorKind::InvalidCredentials {
            assert_eq!(err.category(), Category::Config, "{mode}");
        }
        assert!(!err.is_retryable(), "{mode}");
        assert_eq!(fake.auth_failures(), 1, "{mode}: not retried");
        let err = Connector::check_credentials(&erp).await.unwrap_err();
        assert_eq!(err.api_kind(), Some(want));

        // The right credentials pass the same check.
        let ok = Client::new(fake.config().unwrap()).unwrap();
        Connector::check_credentials(&ok).await.unwrap();
    }
}

#[tokio::test]
async fn md5_auth_errors_arrive_as_http_200_with_the_erp_code() {
    let fake = FakeErp::start(AuthMode::JstMd5).await;
    let erp = Client::new(
        fake.config_builder()
            .auth(wrong_auth(AuthMode::JstMd5))
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = erp.order("SO-000001").await.unwrap_err();
    assert_eq!(err.platform_code(), Some("40001"));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert!(err.to_string().contains("invalid sign"), "{err}");
}

/// Signs correctly, then changes the request: the fake must notice.
#[derive(Debug)]
struct Tamper<S>(S, fn(&mut SignableRequest));

impl<S: RequestSigner> RequestSigner for Tamper<S> {
    fn sign(&self, r: &mut SignableRequest, ctx: &SigningContext) -> conn_core::Result<()> {
        self.0.sign(r, ctx)?;
        (self.1)(r);
        Ok(())
    }
}

#[tokio::test]
async fn the_fake_recomputes_signatures_from_the_received_request() {
    // 旺店通: the body changed after signing (the signature covers body=<raw>).
    let fake = FakeErp::start(AuthMode::WdtMd5).await;
    let Auth::Wdt(signer) = fake.config().unwrap().auth().clone() else {
        panic!()
    };
    let cfg = fake
        .config_builder()
        .auth(Auth::custom(Tamper(signer, |r| {
            r.body = SignBody::Json(json!([{"start_time": "2020-01-01 00:00:00"}]));
        })))
        .build()
        .unwrap();
    let err = Client::new(cfg)
        .unwrap()
        .orders_page(&OrderQuery::new(), 0)
        .await
        .unwrap_err();
    assert_eq!(err.platform_code(), Some("100"), "{err}");
    assert!(err.to_string().contains("签名错误"), "{err}");
    assert_eq!(fake.auth_failures(), 1);

    // Kingdee: a query parameter added after signing.
    let fake = FakeErp::start(AuthMode::KingdeeHmac).await;
    let Auth::Kingdee(signer) = fake.config().unwrap().auth().clone() else {
        panic!()
    };
    let cfg = fake
        .config_builder()
        .auth(Auth::custom(Tamper(signer, |r| {
            // The gateway signature covers the nonce: a nonce changed after signing fails.
            r.headers.insert(
                "x-api-nonce",
                http::HeaderValue::from_static("another-nonce"),
            );
        })))
        .build()
        .unwrap();
    let err = Client::new(cfg)
        .unwrap()
        .orders_page(&OrderQuery::new(), 0)
        .await
        .unwrap_err();
    assert_eq!(err.api_kind(), Some(ApiErrorKind::Other), "{err}");
    assert!(
        err.to_string().contains("gateway signature mismatch"),
        "{err}"
    );

    // A custom signer that signs faithfully is accepted: users plug schemes in this way.
    let Auth::Kingdee(signer) = fake.config().unwrap().auth().clone() else {
        panic!()
    };
    let cfg = fake
        .config_builder()
        .auth(Auth::custom(Tamper(signer, |_| {})))
        .build()
        .unwrap();
    let orders: Vec<_> = futures::TryStreamExt::try_collect(
        Client::new(cfg)
            .unwrap()
            .list_orders(OrderQuery::new().filter("q", "a b+c/~")),
    )
    .await
    .unwrap();
    assert_eq!(orders.len(), 10);
    // The form body variant: a JSON body signed as form fields, then tampered.
    let fake = FakeErp::start(AuthMode::JstMd5).await;
    let Auth::Md5(signer) = fake.config().unwrap().auth().clone() else {
        panic!()
    };
    let cfg = fake
        .config_builder()
        .auth(Auth::custom(Tamper(signer, |r| {
            if let SignBody::Form(f) = &mut r.body {
                f.retain(|(k, _)| k != "version");
                f.push(("version".into(), "3".into()));
            }
        })))
        .build()
        .unwrap();
    let err = Client::new(cfg)
        .unwrap()
        .create_order(&NewOrder::new("A").item("S", 1.into(), Money::ZERO))
        .await
        .unwrap_err();
    assert_eq!(
        err.api_kind(),
        Some(ApiErrorKind::InvalidCredentials),
        "{err}"
    );
    assert_eq!(fake.created_orders().len(), 0);
}

#[tokio::test]
async fn stale_timestamps_are_refused() {
    for mode in [AuthMode::JstMd5, AuthMode::KingdeeHmac] {
        let fake = FakeErp::start(mode).await;
        let an_hour_ago = ManualClock::at_unix(chrono::Utc::now().timestamp() - 3600);
        let cfg = fake.config_builder().build().unwrap();
        let err = Client::builder(cfg)
            .clock(Arc::new(an_hour_ago))
            .build()
            .unwrap()
            .orders_page(&OrderQuery::new(), 0)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("timestamp expired"),
            "{mode}: {err}"
        );
    }
}

#[tokio::test]
async fn financial_figures_are_exact_decimals() {
    // Two orders created "today" = 2030-01-15 on the fake's clock, priced 0.1 and 0.2.
    let clock = Arc::new(ManualClock::at_unix(1_894_665_600)); // 2030-01-15T00:00:00Z
    let fake = FakeErp::builder(AuthMode::JstMd5)
        .orders(0)
        .clock(clock)
        .start()
        .await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    for price in ["0.1", "0.2"] {
        erp.create_order(&NewOrder::new("A").item("S", 1.into(), price.parse().unwrap()))
            .await
            .unwrap();
    }
    let fin = erp
        .financial_data(&Period::month(2030, 1).unwrap())
        .await
        .unwrap();
    assert_eq!(fin.revenue.unwrap().to_string(), "0.3");
    // expenses arrive as a JSON number, profit as a string: both exact.
    assert_eq!(fin.expenses.unwrap().to_string(), "0.18");
    assert_eq!(fin.profit.unwrap().to_string(), "0.12");
    assert_eq!(
        fin.expenses.unwrap() + fin.profit.unwrap(),
        fin.revenue.unwrap()
    );
    assert_eq!(fin.currency.as_deref(), Some("CNY"));
    let none = erp
        .financial_data(&Period::month(2029, 12).unwrap())
        .await
        .unwrap();
    assert_eq!(none.revenue, Some(Money::ZERO));
}

#[tokio::test]
async fn seeded_revenue_matches_an_independent_sum() {
    let fake = FakeErp::builder(AuthMode::Basic).orders(400).start().await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    let period = Period::range(
        NaiveDate::from_ymd_opt(2024, 2, 10).unwrap(),
        NaiveDate::from_ymd_opt(2024, 5, 31).unwrap(),
    )
    .unwrap();
    let mut want = Decimal::ZERO;
    for o in fake.stored_orders() {
        let d = NaiveDate::parse_from_str(o["created_at"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        if period.contains(d) {
            let text = match &o["total_amount"] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            want += text.parse::<Decimal>().unwrap();
        }
    }
    let fin = erp.financial_data(&period).await.unwrap();
    assert_eq!(fin.revenue.unwrap().amount(), want);
    // The list reads the same amounts, numbers and strings alike.
    let orders: Vec<_> = futures::TryStreamExt::try_collect(erp.list_orders(OrderQuery::new()))
        .await
        .unwrap();
    let listed: Money = orders
        .iter()
        .filter(|o| {
            period.contains(
                NaiveDate::parse_from_str(o.created_at.as_deref().unwrap(), "%Y-%m-%d").unwrap(),
            )
        })
        .map(|o| o.total_amount.unwrap())
        .sum();
    assert_eq!(listed.amount(), want);
}

#[tokio::test]
async fn validation_errors_name_the_field_and_send_nothing() {
    let fake = FakeErp::start(AuthMode::ApiKey).await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    let err = Period::range(
        NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(),
        NaiveDate::from_ymd_opt(2024, 2, 1).unwrap(),
    )
    .unwrap_err();
    let Error::Validation(v) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(v.field, "period.start");
    let err = erp.order(" ").await.unwrap_err();
    let Error::Validation(v) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(v.field, "id");
    let err = erp.order(&"x".repeat(200)).await.unwrap_err();
    assert!(err.to_string().contains("`id`"), "{err}");
    assert_eq!(fake.received_requests().await.len(), 0);
}

#[tokio::test]
async fn order_detail_and_not_found() {
    let fake = FakeErp::start(AuthMode::Bearer).await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    let o = erp.order("SO-000003").await.unwrap();
    assert_eq!(o.id, "SO-000003");
    assert_eq!(o.items.len(), 1);
    assert_eq!(o.items[0].unit_price, o.total_amount);
    let err = erp.order("SO/999 ?").await.unwrap_err();
    assert_eq!(err.api_kind(), Some(ApiErrorKind::NotFound), "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    let last = fake.received_requests().await.pop().unwrap();
    assert_eq!(last.url.path(), "/api/orders/SO%2F999%20%3F");
}

#[tokio::test]
async fn reads_are_retried_through_5xx() {
    let fake = FakeErp::start(AuthMode::Token).await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    fake.fail_next(FakeOp::ListOrders, Fault::Status(503), 2);
    let page = erp.orders_page(&OrderQuery::new(), 0).await.unwrap();
    assert_eq!(page.orders.len(), 10);
    assert_eq!(fake.requests(FakeOp::ListOrders), 3);
}

#[tokio::test]
async fn the_connector_trait_signs_raw_calls() {
    // Kingdee: a raw query on the gateway path, signed with the SDK's headers.
    let fake = FakeErp::start(AuthMode::KingdeeHmac).await;
    let erp: Box<dyn Connector> = Box::new(Client::new(fake.config().unwrap()).unwrap());
    let fields = "FID,FBillNo,FDate,FCustId.FNumber,FBillAllAmount,FDocumentStatus";
    let resp = erp
        .call(
            RawRequest::new(
                http::Method::POST,
                "/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc",
            )
            .with_data(json!({"data": {"FormId": "SAL_SaleOrder", "FieldKeys": fields, "StartRow": 4, "Limit": 4}})),
        )
        .await
        .unwrap();
    assert_eq!(resp.body[0][1], "SO-000005");
    erp.check_credentials().await.unwrap();

    for mode in [AuthMode::JstMd5, AuthMode::ApiKey] {
        let fake = FakeErp::start(mode).await;
        let erp: Box<dyn Connector> = Box::new(Client::new(fake.config().unwrap()).unwrap());
        assert_eq!(erp.platform(), "erp");
        let resp = erp
            .call(
                RawRequest::new(http::Method::GET, "/api/orders")
                    .with_data(json!({"page_index": 2, "page_size": 4})),
            )
            .await
            .unwrap();
        assert_eq!(resp.status.as_u16(), 200);
        assert_eq!(resp.body["data"][0]["id"], "SO-000005", "{mode}");
        erp.check_credentials().await.unwrap();
    }
}

#[tokio::test]
async fn env_vars_of_the_fake_configure_a_working_client() {
    for mode in AuthMode::ALL {
        let fake = FakeErp::builder(mode).orders(5).start().await;
        let env: MapEnv = fake.env_vars().into_iter().collect();
        let cfg = Config::from_env_with(&Env::from_source(env)).unwrap();
        assert_eq!(cfg.auth_mode(), Some(mode));
        let erp = Client::new(cfg).unwrap();
        let all: Vec<_> = futures::TryStreamExt::try_collect(erp.list_orders(OrderQuery::new()))
            .await
            .unwrap();
        assert_eq!(all.len(), 5, "{mode}");
    }
}

#[tokio::test]
async fn debug_of_configs_and_clients_shows_no_secret() {
    for mode in AuthMode::ALL {
        let fake = FakeErp::start(mode).await;
        let cfg = fake.config().unwrap();
        let printed = format!(
            "{cfg:?} {cfg:#?} {:?} {:?} {fake:?} {:?}",
            Client::new(cfg.clone()).unwrap(),
            fake.config_builder(),
            fake.credentials()
        );
        for s in fake.credentials().secrets() {
            assert!(!printed.contains(&s), "{mode}: {printed}");
        }
    }
}

#[tokio::test]
async fn a_signed_flow_logs_no_secret() {
    let (cap, _guard) = LogCapture::start();
    let mut secrets = Vec::new();
    for mode in AuthMode::ALL {
        let fake = FakeErp::start(mode).await;
        secrets.extend(fake.credentials().secrets());
        let erp = Client::new(fake.config().unwrap()).unwrap();
        erp.financial_data(&Period::month(2024, 1).unwrap())
            .await
            .unwrap();
        let _ = erp.orders_page(&OrderQuery::new(), 0).await.unwrap();
        // Every profile has an order-detail call; the list is retried through a 5xx too.
        erp.order("SO-000002").await.unwrap();
        erp.create_order(&NewOrder::new("A").item("S", 1.into(), "1.5".parse().unwrap()))
            .await
            .unwrap();
        fake.fail_next(FakeOp::GetOrder, Fault::Status(500), 1);
        erp.order("SO-000002").await.unwrap();
        fake.fail_next(FakeOp::ListOrders, Fault::Status(500), 1);
        erp.orders_page(&OrderQuery::new(), 0).await.unwrap();
        if mode != AuthMode::None {
            let bad = Client::new(
                fake.config_builder()
                    .auth(wrong_auth(mode))
                    .build()
                    .unwrap(),
            )
            .unwrap();
            let err = bad.order("SO-000002").await.unwrap_err();
            tracing::error!(error = %err, debug = ?err, "reported");
        }
    }
    let logs = cap.contents();
    assert!(logs.contains("erp.create_order"), "spans were captured");
    assert!(logs.contains("retrying"), "the retry was logged");
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    cap.assert_no_secrets(&refs);
}

#[tokio::test]
async fn the_client_builder_shares_the_given_http_client() {
    use conn_core::reexports::reqwest;
    let fake = FakeErp::start(AuthMode::ApiKey).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-shared-pool", "yes".parse().unwrap());
    let http = reqwest::Client::builder()
        .no_proxy()
        .default_headers(headers)
        .build()
        .unwrap();
    let erp = Client::builder(fake.config().unwrap())
        .http_client(http)
        .build()
        .unwrap();
    erp.orders_page(&OrderQuery::new(), 0).await.unwrap();
    let got = fake.received_requests().await;
    assert!(!got.is_empty());
    assert!(got.iter().all(|r| r.headers.get("x-shared-pool").is_some()));
}
