//! Property tests of the Douyin decoders reachable from outside: the response envelope (both
//! shapes, codes as numbers or strings) and webhook event parsing, including Douyin's event
//! envelope with `content` as an object or a JSON string. No panic on any input, output
//! bounded by the input. Seeded and deterministic (`conn_core::testing::fuzz`); each test
//! states how many cases ran. The token decoders' property test is a unit test of `oauth`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_core::testing::fuzz;
use conn_douyin::decode_error;
use conn_douyin::webhook::parse_event;
use proptest::prelude::*;

const CASES: u32 = 10_000;

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<u64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| if v.is_finite() {
            v.to_string()
        } else {
            "1e999".into()
        }),
        any::<String>().prop_map(|s| serde_json::Value::String(s).to_string()),
        Just("\"2190008\"".to_owned()),
        Just("10010".to_owned()),
        Just("\"9223372036854775807\"".to_owned()),
        Just("null".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
    ]
}

/// Envelopes of both shapes with hostile values, sometimes cut, or plain bytes.
fn envelope() -> impl Strategy<Value = Vec<u8>> {
    let doc = (scalar(), scalar(), scalar(), scalar(), scalar(), 0usize..600).prop_map(
        |(a, b, c, d, e, cut)| {
            let s = format!(
                r#"{{"data":{{"error_code":{a},"description":{b},"log_id":{e}}},"extra":{{"error_code":{c},"sub_error_code":{d},"sub_description":{b},"logid":{e}}},"message":{b}}}"#
            );
            let cut = if cut < 300 { s.len() } else { cut.min(s.len()) };
            s.as_bytes()[..cut].to_vec()
        },
    );
    prop_oneof![doc, prop::collection::vec(any::<u8>(), 0..400)]
}

#[test]
fn the_envelope_decoder_never_panics_and_its_error_is_bounded() {
    let statuses = prop::sample::select(vec![200u16, 201, 400, 429, 500, 503]);
    let ran = fuzz(CASES, (envelope(), statuses), |(body, status)| {
        let status = http::StatusCode::from_u16(status).unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "retry-after",
            http::HeaderValue::from_static("99999999999999999999"),
        );
        if let Some(e) = decode_error(status, &headers, &body, "create_video") {
            let text = format!("{e} {e:?}");
            prop_assert!(text.len() <= 1024 + 4 * body.len(), "{}", text.len());
            if let Some(after) = e.retry_after() {
                prop_assert!(after <= std::time::Duration::from_secs(1 << 40));
            }
        }
        Ok(())
    });
    assert_eq!(ran, CASES);
}

#[test]
fn webhook_event_parsing_never_panics_and_is_bounded() {
    let content = prop_oneof![
        scalar(),
        Just(r#"{"challenge":12345}"#.to_owned()),
        Just(r#""{\"item_id\":\"@x\",\"share_id\":1}""#.to_owned()),
        Just(r#""{not json""#.to_owned()),
    ];
    let doc = (scalar(), scalar(), content, 0usize..500).prop_map(|(event, user, content, cut)| {
        let s = format!(
            r#"{{"event":{event},"from_user_id":{user},"to_user_id":{user},"client_key":"k","content":{content},"log_id":"l"}}"#
        );
        let cut = if cut < 250 { s.len() } else { cut.min(s.len()) };
        s.as_bytes()[..cut].to_vec()
    });
    let body = prop_oneof![doc, prop::collection::vec(any::<u8>(), 0..400)];
    let ran = fuzz(CASES, (body, any::<Option<String>>()), |(b, msg_id)| {
        match parse_event(&b, msg_id) {
            Ok(ev) => {
                let printed = format!("{ev:?}");
                prop_assert!(printed.len() <= 1024 + 8 * b.len());
            }
            Err(e) => prop_assert!(e.to_string().len() <= 1024 + 4 * b.len()),
        }
        Ok(())
    });
    assert_eq!(ran, CASES);
}
