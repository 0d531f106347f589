//! Canary secrets over every error path of the iFinD client: token answers that are cut, not
//! JSON, an HTTP error page or a platform error; data answers that are malformed, a platform
//! error, too slow; and validation. Everything runs at TRACE level with every target on; every
//! error is printed with `{}`, `{:?}`, `{:#?}` along its whole `source()` chain, the client and
//! config with `{:?}`, and no canary may appear anywhere.
//!
//! The hostile answers quote the tokens on purpose: a server (or a proxy) that echoes them must
//! still not get them into an error message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use conn_core::testing::{assert_error_free_of, LogCapture};
use conn_ths::{Client, Config, RealTimeQuotation};
use serde_json::json;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REFRESH: &str = "rt-CANARY-refresh-3a9c";
const ACCESS: &str = "at-CANARY-access-77d1";
const CANARIES: &[&str] = &[REFRESH, ACCESS];

fn client(uri: &str) -> Client {
    let cfg = Config::builder()
        .refresh_token(REFRESH)
        .base_url(uri)
        .transport(
            common::transport(common::fast_retry(1))
                .with_attempt_timeout(Duration::from_millis(200)),
        )
        .build()
        .unwrap();
    let dbg = format!("{cfg:?}");
    for c in CANARIES {
        assert!(!dbg.contains(c), "config Debug: {dbg}");
    }
    Client::new(cfg).unwrap()
}

async fn token_answers(server: &MockServer, t: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path_regex(r"/(get|update)_access_token$"))
        .respond_with(t)
        .mount(server)
        .await;
}

fn good_token() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "errorcode": 0,
        "errmsg": "Success!",
        "data": {"access_token": ACCESS, "expired_time": "2099-01-01 00:00:00"}
    }))
}

fn quote() -> RealTimeQuotation {
    RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap()
}

fn check(what: &str, err: &conn_core::Error) {
    assert_error_free_of(err, CANARIES);
    let all = format!("{err} {err:?} {err:#?}");
    for c in CANARIES {
        assert!(!all.contains(c), "{what}: {all}");
    }
}

#[tokio::test]
async fn no_error_path_quotes_a_token() {
    let (cap, _guard) = LogCapture::start();

    // Token answers that fail, each quoting the tokens.
    let broken_tokens = [
        (
            "cut token answer",
            ResponseTemplate::new(200).set_body_string(format!(
                r#"{{"errorcode":0,"data":{{"access_token":"{ACCESS}","expired_time":"#
            )),
        ),
        (
            "token answer not JSON",
            ResponseTemplate::new(200)
                .set_body_string(format!("access_token={ACCESS}&refresh_token={REFRESH}")),
        ),
        (
            "token HTTP error page",
            ResponseTemplate::new(502)
                .set_body_string(format!("<html>upstream said {ACCESS} {REFRESH}</html>")),
        ),
        (
            "token platform error",
            ResponseTemplate::new(200).set_body_json(json!({
                "errorcode": -1301,
                "errmsg": "refresh token invalid",
                "data": {"access_token": ACCESS, "refresh_token": REFRESH}
            })),
        ),
        (
            "token lifetime absurd and token empty",
            ResponseTemplate::new(200).set_body_json(json!({
                "errorcode": 0,
                "data": {"access_token": "", "expired_time": 1e25, "refresh_token": REFRESH}
            })),
        ),
    ];
    for (what, answer) in broken_tokens {
        let server = MockServer::start().await;
        token_answers(&server, answer).await;
        let c = client(&server.uri());
        let err = c.real_time_quotation(&quote()).await.unwrap_err();
        check(what, &err);
        let dbg = format!("{c:?}");
        assert!(!dbg.contains(REFRESH) && !dbg.contains(ACCESS), "{dbg}");
    }

    // A good token, then data answers that fail, each quoting the access token.
    let broken_data = [
        (
            "malformed data answer",
            ResponseTemplate::new(200).set_body_string(format!(
                r#"{{"errorcode":0,"access_token":"{ACCESS}","tables":[{{"thscode":"#
            )),
        ),
        (
            "data platform error",
            ResponseTemplate::new(200).set_body_json(json!({
                "errorcode": -4206,
                "errmsg": "bad code",
                "inputParams": {"access_token": ACCESS, "refresh_token": REFRESH},
                "tables": []
            })),
        ),
        (
            "data HTTP error page",
            ResponseTemplate::new(500).set_body_string(format!("token={ACCESS}")),
        ),
        (
            "data too slow",
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(600))
                .set_body_json(json!({"errorcode": 0, "tables": [], "access_token": ACCESS})),
        ),
    ];
    for (what, answer) in broken_data {
        let server = MockServer::start().await;
        token_answers(&server, good_token()).await;
        Mock::given(method("POST"))
            .and(path_regex(r"/real_time_quotation$"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let c = client(&server.uri());
        let err = c.real_time_quotation(&quote()).await.unwrap_err();
        check(what, &err);
    }

    // Validation never reaches the wire and names no secret either.
    let err = RealTimeQuotation::new(Vec::<String>::new(), ["latest"]).unwrap_err();
    check("validation", &err);

    cap.assert_no_secrets(CANARIES);
}
