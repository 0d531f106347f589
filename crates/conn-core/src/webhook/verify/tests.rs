//! Known answers, hostile headers and replay sequences of the verifier.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::clock::ManualClock;
use crate::webhook::headers::decode_hex;
use crate::webhook::scheme::ct_eq_bytes;

const BODY: &[u8] = br#"{"event":"verify_webhook"}"#;
const SECRET: &str = "secret";
/// `printf '%s' 'secret{"event":"verify_webhook"}' | sha1sum`
const DOUYIN_KNOWN: &str = "a3b44b5003f027d37326c0a02b188916630b330c";
/// `printf '%s' '{"event":"verify_webhook"}' | openssl dgst -sha256 -hmac 'secret'`
const HMAC_KNOWN: &str = "53f9ee4e6035c79d240b5ce2368bbfbbac2d07095e12ef6b149ae6afbe7b4ab7";
/// `printf '%s' '1700000000.{"event":"verify_webhook"}' | openssl dgst -sha256 -hmac 'whsec_test' -binary | base64`
const STRIPE_KNOWN_B64: &str = "PZlfFwYEs4mnojmd+csyyp6/zgVpbhHof7ez9D10NmM=";
/// Same MAC, hex (`openssl dgst -sha256 -hmac 'whsec_test'`).
const STRIPE_KNOWN_HEX: &str = "3d995f170604b389a7a2399df9cb32ca9ebfce05696e11e87fb7b3f43d743663";
const T0: i64 = 1_700_000_000;

fn douyin_headers(sig: &str, id: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-douyin-signature", sig.parse().unwrap());
    h.insert("msg-id", id.parse().unwrap());
    h
}

/// The SHA-1 (secret ‖ body) scheme with a `msg-id` replay cache: Douyin's configuration,
/// whose constructor lives in conn-douyin.
fn sha1_with_ids() -> WebhookVerifier {
    WebhookVerifier::new(SignatureScheme::Sha1SecretBody {
        header: HeaderName::from_static("x-douyin-signature"),
    })
    .with_id_header(HeaderName::from_static("msg-id"), DEFAULT_SEEN_IDS_CAPACITY)
}

/// Lowercase hex SHA-1 of (secret ‖ body), computed apart from the verifier.
fn sha1_signature(secret: &Secret, body: &[u8]) -> String {
    hex::encode(
        Sha1::new()
            .chain_update(secret.expose_secret().as_bytes())
            .chain_update(body)
            .finalize(),
    )
}

fn sha1_only() -> WebhookVerifier {
    WebhookVerifier::new(SignatureScheme::Sha1SecretBody {
        header: HeaderName::from_static("x-douyin-signature"),
    })
    .with_secret(SECRET)
}

fn sig_only(sig: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-douyin-signature", sig.parse().unwrap());
    h
}

fn stripe(clock: &ManualClock, encoding: SignatureEncoding) -> WebhookVerifier {
    WebhookVerifier::new(SignatureScheme::HmacSha256 {
        header: HeaderName::from_static("webhook-signature"),
        encoding,
        prefix: Some("v1=".into()),
        payload: SignedPayload::TimestampDotBody,
    })
    .with_secret("whsec_test")
    .with_timestamp_header(
        HeaderName::from_static("webhook-timestamp"),
        Duration::from_secs(300),
    )
    .with_clock(Arc::new(clock.clone()))
}

fn stripe_headers(sig: &str, ts: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("webhook-signature", sig.parse().unwrap());
    h.insert("webhook-timestamp", ts.parse().unwrap());
    h
}

#[test]
fn douyin_known_answer() {
    assert_eq!(sha1_signature(&Secret::new(SECRET), BODY), DOUYIN_KNOWN);
    let v = sha1_with_ids().with_secret(SECRET);
    let ok = v.verify(&douyin_headers(DOUYIN_KNOWN, "m1"), BODY).unwrap();
    assert_eq!(
        ok,
        Verified {
            id: Some("m1".into()),
            timestamp: None,
            secret_index: 0
        }
    );
}

#[test]
fn good_signature_without_id_header() {
    let ok = sha1_only().verify(&sig_only(DOUYIN_KNOWN), BODY).unwrap();
    assert_eq!(ok.id, None);
    assert_eq!(ok.secret_index, 0);
}

#[test]
fn bad_signature_is_rejected() {
    let wrong = sha1_signature(&Secret::new("other"), BODY);
    let err = sha1_only().verify(&sig_only(&wrong), BODY).unwrap_err();
    assert!(
        matches!(err, WebhookError::BadSignature { ref header } if header == "x-douyin-signature"),
        "{err:?}"
    );
    assert!(!err.to_string().contains(&wrong));
}

#[test]
fn upper_case_hex_and_surrounding_spaces_are_accepted() {
    let upper = DOUYIN_KNOWN.to_ascii_uppercase();
    assert!(sha1_only().verify(&sig_only(&upper), BODY).is_ok());
    let spaced = format!(" {DOUYIN_KNOWN} ");
    assert!(sha1_only().verify(&sig_only(&spaced), BODY).is_ok());
}

#[test]
fn missing_signature_header() {
    let err = sha1_only().verify(&HeaderMap::new(), BODY).unwrap_err();
    assert!(
        matches!(err, WebhookError::MissingHeader { ref header } if header == "x-douyin-signature"),
        "{err:?}"
    );
}

#[test]
fn missing_id_header_when_configured() {
    let v = sha1_with_ids().with_secret(SECRET);
    let err = v.verify(&sig_only(DOUYIN_KNOWN), BODY).unwrap_err();
    assert!(
        matches!(err, WebhookError::MissingHeader { ref header } if header == "msg-id"),
        "{err:?}"
    );
}

#[test]
fn malformed_signatures() {
    let v = sha1_only();
    let not_hex = format!("zz{}", &DOUYIN_KNOWN[2..]);
    for bad in [
        not_hex.as_str(),
        &DOUYIN_KNOWN[..39],
        &DOUYIN_KNOWN[..38],
        "",
    ] {
        let err = v.verify(&sig_only(bad), BODY).unwrap_err();
        match &err {
            WebhookError::MalformedHeader { header, reason } => {
                assert_eq!(header, "x-douyin-signature");
                assert!(!bad.is_empty() && !reason.contains(bad) || bad.is_empty());
            }
            other => panic!("{bad:?}: unexpected {other:?}"),
        }
    }
    let err = v.verify(&sig_only(&not_hex), BODY).unwrap_err();
    assert_eq!(
        err.to_string(),
        "webhook rejected: malformed header `x-douyin-signature`: \
         not hex (invalid character at position 0)"
    );
}

#[test]
fn hex_decoder_matches_the_hex_crate() {
    let name = HeaderName::from_static("x");
    for input in [
        "00ff10a0B7c9".to_owned(),
        "0123456789abcdefABCDEF000000".to_owned(),
        (0u8..=255).map(|b| format!("{b:02x}")).collect::<String>(),
    ] {
        let expected = hex::decode(&input).unwrap();
        match expected.len() {
            6 => assert_eq!(
                decode_hex::<6>(input.as_bytes(), &name).unwrap().to_vec(),
                expected
            ),
            14 => assert_eq!(
                decode_hex::<14>(input.as_bytes(), &name).unwrap().to_vec(),
                expected
            ),
            256 => assert_eq!(
                decode_hex::<256>(input.as_bytes(), &name).unwrap().to_vec(),
                expected
            ),
            n => panic!("{n}"),
        }
    }
    for bad in ["0g", "g0", "0 ", "-1", "0x", "\u{ff}0"] {
        assert!(decode_hex::<1>(bad.as_bytes(), &name).is_err(), "{bad:?}");
    }
    assert!(decode_hex::<1>(&[0xC3, 0xA9], &name).is_err());
}

#[test]
fn constant_time_comparison_is_exact() {
    for len in [0usize, 1, 7, 8, 9, 20, 32, 33] {
        let a: Vec<u8> = (0..len).map(|i| i as u8).collect();
        assert!(ct_eq_bytes(&a, &a));
        for i in 0..len {
            let mut b = a.clone();
            b[i] ^= 0x80;
            assert!(!ct_eq_bytes(&a, &b), "len {len} byte {i}");
        }
        assert!(!ct_eq_bytes(&a, &[a.as_slice(), &[0]].concat()));
    }
}

#[test]
fn body_tampered_by_one_byte() {
    let mut tampered = BODY.to_vec();
    tampered[2] ^= 0x01;
    let err = sha1_only()
        .verify(&sig_only(DOUYIN_KNOWN), &tampered)
        .unwrap_err();
    assert!(matches!(err, WebhookError::BadSignature { .. }), "{err:?}");
}

#[test]
fn rotation_tries_every_secret_and_reports_the_index() {
    let v = sha1_with_ids().with_secrets([Secret::new("old"), Secret::new("new")]);
    assert_eq!(v.secret_count(), 2);
    let by_new = sha1_signature(&Secret::new("new"), BODY);
    assert_eq!(
        v.verify(&douyin_headers(&by_new, "a"), BODY)
            .unwrap()
            .secret_index,
        1
    );
    let by_old = sha1_signature(&Secret::new("old"), BODY);
    assert_eq!(
        v.verify(&douyin_headers(&by_old, "b"), BODY)
            .unwrap()
            .secret_index,
        0
    );
}

#[test]
fn empty_secrets_are_ignored_and_no_secret_rejects_everything() {
    let v = sha1_with_ids().with_secret("");
    assert_eq!(v.secret_count(), 0);
    // With an empty secret, the signature would be plain SHA-1 of the body: anyone's.
    let forged = hex::encode(Sha1::digest(BODY));
    let err = v.verify(&douyin_headers(&forged, "x"), BODY).unwrap_err();
    assert!(matches!(err, WebhookError::NoSecret), "{err:?}");
    assert!(matches!(
        v.sign(BODY, None, None),
        Err(WebhookError::NoSecret)
    ));
}

#[test]
fn stale_timestamp_and_within_tolerance() {
    let clock = ManualClock::at_unix(T0);
    let v = sha1_only()
        .with_timestamp_header(
            HeaderName::from_static("x-timestamp"),
            Duration::from_secs(300),
        )
        .with_clock(Arc::new(clock.clone()));
    let with_ts = |ts: i64| {
        let mut h = sig_only(DOUYIN_KNOWN);
        h.insert("x-timestamp", HeaderValue::from(ts));
        h
    };
    for ok in [T0, T0 - 300, T0 + 300, T0 - 1] {
        assert_eq!(v.verify(&with_ts(ok), BODY).unwrap().timestamp, Some(ok));
    }
    for stale in [T0 - 301, T0 + 301, 0, i64::MIN, i64::MAX] {
        let err = v.verify(&with_ts(stale), BODY).unwrap_err();
        match err {
            WebhookError::StaleTimestamp {
                timestamp,
                now,
                tolerance_secs,
            } => {
                assert_eq!((timestamp, now, tolerance_secs), (stale, T0, 300));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // The clock moves, the same message goes stale.
    clock.advance(Duration::from_secs(301));
    assert!(matches!(
        v.verify(&with_ts(T0), BODY),
        Err(WebhookError::StaleTimestamp { .. })
    ));
}

#[test]
fn timestamp_header_missing_or_not_an_integer() {
    let v = sha1_only().with_timestamp_header(
        HeaderName::from_static("x-timestamp"),
        Duration::from_secs(300),
    );
    let err = v.verify(&sig_only(DOUYIN_KNOWN), BODY).unwrap_err();
    assert!(matches!(err, WebhookError::MissingHeader { ref header } if header == "x-timestamp"));
    let mut h = sig_only(DOUYIN_KNOWN);
    h.insert("x-timestamp", "1.7e9".parse().unwrap());
    let err = v.verify(&h, BODY).unwrap_err();
    assert!(
        matches!(err, WebhookError::MalformedHeader { ref header, .. } if header == "x-timestamp"),
        "{err:?}"
    );
}

#[test]
fn replay_is_rejected_but_a_forgery_does_not_poison_the_cache() {
    let v = sha1_with_ids().with_secret(SECRET);
    let forged = sha1_signature(&Secret::new("attacker"), BODY);
    assert!(matches!(
        v.verify(&douyin_headers(&forged, "evt-1"), BODY),
        Err(WebhookError::BadSignature { .. })
    ));
    assert!(v.seen_ids().unwrap().is_empty());
    // The genuine message with the same id is still accepted.
    let genuine = douyin_headers(DOUYIN_KNOWN, "evt-1");
    assert!(v.verify(&genuine, BODY).is_ok());
    // Its retry is a replay, also through a clone of the verifier.
    let err = v.clone().verify(&genuine, BODY).unwrap_err();
    assert!(matches!(err, WebhookError::Replayed { ref id } if id == "evt-1"));
    assert_eq!(
        err.to_string(),
        "webhook rejected: message id `evt-1` was already received"
    );
}

#[test]
fn stale_message_does_not_record_its_id() {
    let clock = ManualClock::at_unix(T0);
    let v = stripe(&clock, SignatureEncoding::Base64)
        .with_id_header(HeaderName::from_static("webhook-id"), 10);
    let mut h = stripe_headers(&format!("v1={STRIPE_KNOWN_B64}"), "1700000000");
    h.insert("webhook-id", "w1".parse().unwrap());
    clock.advance(Duration::from_secs(1000));
    assert!(matches!(
        v.verify(&h, BODY),
        Err(WebhookError::StaleTimestamp { .. })
    ));
    assert!(v.seen_ids().unwrap().is_empty());
    clock.set_unix(T0);
    assert_eq!(v.verify(&h, BODY).unwrap().id.as_deref(), Some("w1"));
}

#[test]
fn forget_lets_the_retry_through() {
    let v = sha1_with_ids().with_secret(SECRET);
    let h = douyin_headers(DOUYIN_KNOWN, "evt-9");
    v.verify(&h, BODY).unwrap();
    assert!(v.verify(&h, BODY).is_err());
    v.forget("evt-9");
    assert!(v.verify(&h, BODY).is_ok());
    assert!(v.verify(&h, BODY).is_err());
    // Harmless without an id cache.
    sha1_only().forget("evt-9");
}

#[test]
fn replay_cache_is_bounded() {
    let v = sha1_with_ids()
        .with_secret(SECRET)
        .with_id_header(HeaderName::from_static("msg-id"), 3);
    for i in 0..10 {
        v.verify(&douyin_headers(DOUYIN_KNOWN, &format!("m{i}")), BODY)
            .unwrap();
    }
    assert_eq!(v.seen_ids().unwrap().len(), 3);
    // The oldest was evicted, so it is accepted again; a recent one is not.
    assert!(v.verify(&douyin_headers(DOUYIN_KNOWN, "m0"), BODY).is_ok());
    assert!(v.verify(&douyin_headers(DOUYIN_KNOWN, "m9"), BODY).is_err());
}

#[test]
fn malformed_ids() {
    let v = sha1_with_ids().with_secret(SECRET);
    let long = "x".repeat(MAX_ID_LEN + 1);
    for bad in ["   ", long.as_str()] {
        let err = v
            .verify(&douyin_headers(DOUYIN_KNOWN, bad), BODY)
            .unwrap_err();
        assert!(
            matches!(err, WebhookError::MalformedHeader { ref header, .. } if header == "msg-id"),
            "{err:?}"
        );
    }
    let mut h = sig_only(DOUYIN_KNOWN);
    h.insert("msg-id", HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap());
    assert!(matches!(
        v.verify(&h, BODY),
        Err(WebhookError::MalformedHeader { .. })
    ));
}

#[test]
fn oversized_body_is_rejected_before_hashing() {
    let v = sha1_only().with_max_body_bytes(BODY.len() - 1);
    assert_eq!(v.max_body_bytes(), BODY.len() - 1);
    // No signature header at all: the size check comes first.
    let err = v.verify(&HeaderMap::new(), BODY).unwrap_err();
    assert!(
        matches!(err, WebhookError::BodyTooLarge { limit, actual } if limit == BODY.len() - 1 && actual == BODY.len()),
        "{err:?}"
    );
    let exact = sha1_only().with_max_body_bytes(BODY.len());
    assert!(exact.verify(&sig_only(DOUYIN_KNOWN), BODY).is_ok());
    assert_eq!(sha1_with_ids().max_body_bytes(), DEFAULT_MAX_BODY_BYTES);
}

#[test]
fn hmac_hex_known_answer_github_style() {
    let v = WebhookVerifier::new(SignatureScheme::HmacSha256 {
        header: HeaderName::from_static("x-hub-signature-256"),
        encoding: SignatureEncoding::Hex,
        prefix: Some("sha256=".into()),
        payload: SignedPayload::Body,
    })
    .with_secret(SECRET);
    let mut h = HeaderMap::new();
    h.insert(
        "x-hub-signature-256",
        format!("sha256={HMAC_KNOWN}").parse().unwrap(),
    );
    assert!(v.verify(&h, BODY).is_ok());
    // Prefix case-insensitive, hex case-insensitive.
    h.insert(
        "x-hub-signature-256",
        format!("SHA256={}", HMAC_KNOWN.to_uppercase())
            .parse()
            .unwrap(),
    );
    assert!(v.verify(&h, BODY).is_ok());
    // Prefix missing.
    h.insert("x-hub-signature-256", HMAC_KNOWN.parse().unwrap());
    assert!(matches!(
        v.verify(&h, BODY),
        Err(WebhookError::MalformedHeader { .. })
    ));
    // Wrong body.
    h.insert(
        "x-hub-signature-256",
        format!("sha256={HMAC_KNOWN}").parse().unwrap(),
    );
    assert!(matches!(
        v.verify(&h, b"{}"),
        Err(WebhookError::BadSignature { .. })
    ));
    // What `sign` produces is the known answer.
    let signed = v.sign(BODY, None, None).unwrap();
    assert_eq!(
        signed["x-hub-signature-256"],
        format!("sha256={HMAC_KNOWN}").as_str()
    );
}

#[test]
fn hmac_hex_without_prefix() {
    let v = WebhookVerifier::new(SignatureScheme::HmacSha256 {
        header: HeaderName::from_static("x-signature"),
        encoding: SignatureEncoding::Hex,
        prefix: None,
        payload: SignedPayload::Body,
    })
    .with_secret(SECRET);
    let mut h = HeaderMap::new();
    h.insert("x-signature", HMAC_KNOWN.parse().unwrap());
    assert!(v.verify(&h, BODY).is_ok());
}

#[test]
fn hmac_base64_with_prefix_over_timestamp_dot_body() {
    let clock = ManualClock::at_unix(T0 + 10);
    let v = stripe(&clock, SignatureEncoding::Base64);
    let h = stripe_headers(&format!("v1={STRIPE_KNOWN_B64}"), "1700000000");
    assert_eq!(v.verify(&h, BODY).unwrap().timestamp, Some(T0));
    // Unpadded base64 is accepted too.
    let unpadded = STRIPE_KNOWN_B64.trim_end_matches('=');
    let h2 = stripe_headers(&format!("v1={unpadded}"), "1700000000");
    assert!(v.verify(&h2, BODY).is_ok());
    // The timestamp is signed: changing it breaks the signature.
    let h3 = stripe_headers(&format!("v1={STRIPE_KNOWN_B64}"), "1700000001");
    assert!(matches!(
        v.verify(&h3, BODY),
        Err(WebhookError::BadSignature { .. })
    ));
    // Not base64, or base64 of the wrong length.
    for bad in ["v1=***", "v1=AAAA"] {
        let err = v
            .verify(&stripe_headers(bad, "1700000000"), BODY)
            .unwrap_err();
        assert!(
            matches!(err, WebhookError::MalformedHeader { ref header, .. } if header == "webhook-signature"),
            "{err:?}"
        );
    }
    // The same MAC in hex.
    let vh = stripe(&clock, SignatureEncoding::Hex);
    let hh = stripe_headers(&format!("v1={STRIPE_KNOWN_HEX}"), "1700000000");
    assert!(vh.verify(&hh, BODY).is_ok());
}

#[test]
fn timestamp_dot_body_without_timestamp_header_is_misconfigured() {
    let v = WebhookVerifier::new(SignatureScheme::HmacSha256 {
        header: HeaderName::from_static("webhook-signature"),
        encoding: SignatureEncoding::Base64,
        prefix: None,
        payload: SignedPayload::TimestampDotBody,
    })
    .with_secret("whsec_test");
    let mut h = HeaderMap::new();
    h.insert("webhook-signature", STRIPE_KNOWN_B64.parse().unwrap());
    assert!(matches!(
        v.verify(&h, BODY),
        Err(WebhookError::Misconfigured { .. })
    ));
    assert!(matches!(
        v.sign(BODY, Some(T0), None),
        Err(WebhookError::Misconfigured { .. })
    ));
}

#[test]
fn sign_round_trips_through_verify() {
    let clock = ManualClock::at_unix(T0);
    let stripe_like = stripe(&clock, SignatureEncoding::Base64)
        .with_secret("whsec_next")
        .with_id_header(HeaderName::from_static("webhook-id"), 100);
    // Explicit timestamp: the known answer.
    let h = stripe_like.sign(BODY, Some(T0), Some("msg_1")).unwrap();
    assert_eq!(
        h["webhook-signature"],
        format!("v1={STRIPE_KNOWN_B64}").as_str()
    );
    assert_eq!(h["webhook-timestamp"], "1700000000");
    assert_eq!(h["webhook-id"], "msg_1");
    assert_eq!(
        stripe_like.verify(&h, BODY).unwrap(),
        Verified {
            id: Some("msg_1".into()),
            timestamp: Some(T0),
            secret_index: 0
        }
    );
    // Default timestamp from the clock, second secret.
    clock.advance(Duration::from_secs(42));
    let h = stripe_like.sign_with(1, BODY, None, Some("msg_2")).unwrap();
    let ok = stripe_like.verify(&h, BODY).unwrap();
    assert_eq!((ok.timestamp, ok.secret_index), (Some(T0 + 42), 1));
    assert!(matches!(
        stripe_like.sign_with(2, BODY, None, None),
        Err(WebhookError::Misconfigured { .. })
    ));

    let douyin = sha1_with_ids().with_secret(SECRET);
    let h = douyin.sign(BODY, None, Some("d1")).unwrap();
    assert_eq!(h["x-douyin-signature"], DOUYIN_KNOWN);
    assert_eq!(douyin.verify(&h, BODY).unwrap().id.as_deref(), Some("d1"));
    // Without an id the id header is omitted, and verify says so.
    let h = douyin.sign(BODY, None, None).unwrap();
    assert!(matches!(
        douyin.verify(&h, BODY),
        Err(WebhookError::MissingHeader { .. })
    ));
    assert!(matches!(
        douyin.sign(BODY, None, Some("bad\nid")),
        Err(WebhookError::MalformedHeader { .. })
    ));
}

#[test]
fn debug_prints_no_secret() {
    let secret = "very-secret-value-123";
    let clock = ManualClock::at_unix(T0);
    for v in [
        sha1_with_ids().with_secret(secret),
        stripe(&clock, SignatureEncoding::Hex).with_secret(secret),
    ] {
        let d = format!("{v:?}");
        let pretty = format!("{v:#?}");
        assert!(!d.contains(secret) && !pretty.contains(secret), "{d}");
        assert!(d.contains("secrets: 2") || d.contains("secrets: 1"), "{d}");
        assert!(!d.contains("whsec_test"), "{d}");
    }
    let d = format!("{:?}", sha1_with_ids().with_secret(secret));
    assert!(
        d.contains("x-douyin-signature") && d.contains("msg-id"),
        "{d}"
    );
}

#[test]
fn errors_never_quote_secret_signature_or_body() {
    let v = sha1_with_ids().with_secret(SECRET);
    let wrong = sha1_signature(&Secret::new("x"), BODY);
    let cases = [
        v.verify(&douyin_headers(&wrong, "i"), BODY),
        v.verify(&douyin_headers(&wrong[..10], "i"), BODY),
        v.verify(&HeaderMap::new(), BODY),
    ];
    for case in cases {
        let msg = case.unwrap_err().to_string();
        assert!(!msg.contains(&wrong[..10]), "{msg}");
        assert!(!msg.contains("verify_webhook"), "{msg}");
    }
}

#[derive(Debug)]
struct DownCache;

#[async_trait::async_trait]
impl super::super::ReplayCache for DownCache {
    async fn first_seen(&self, _: &str) -> crate::Result<bool> {
        Err(crate::Error::store_msg("replay cache unreachable"))
    }
    async fn forget(&self, _: &str) -> crate::Result<()> {
        Err(crate::Error::store_msg("replay cache unreachable"))
    }
}

#[test]
fn verify_shared_dedupes_through_the_given_cache_and_fails_closed() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let secret = Secret::new("s");
    let a = sha1_with_ids().with_secret(secret.clone());
    let b = sha1_with_ids().with_secret(secret.clone());
    let shared = SeenIds::new(10);
    let body = b"{}";
    let mut h = HeaderMap::new();
    h.insert("msg-id", "m1".parse().unwrap());
    h.insert("x-douyin-signature", "00".repeat(20).parse().unwrap());
    rt.block_on(async {
        // A forgery is rejected before the cache is asked: the id stays free.
        assert!(matches!(
            a.verify_shared(&h, body, &shared).await,
            Err(WebhookError::BadSignature { .. })
        ));
        assert!(!shared.contains("m1"));
        h.insert(
            "x-douyin-signature",
            sha1_signature(&secret, body).parse().unwrap(),
        );
        assert!(a.verify_shared(&h, body, &shared).await.is_ok());
        // Another verifier (another replica) with the same cache sees the replay; its own
        // seen-id cache is not involved.
        assert!(matches!(
            b.verify_shared(&h, body, &shared).await,
            Err(WebhookError::Replayed { .. })
        ));
        assert!(b.seen_ids().unwrap().is_empty());
        // A cache that cannot answer refuses the message rather than accepting it unchecked.
        h.insert("msg-id", "m2".parse().unwrap());
        assert!(matches!(
            a.verify_shared(&h, body, &DownCache).await,
            Err(WebhookError::ReplayCacheUnavailable { .. })
        ));
    });
}

#[test]
fn clones_share_the_replay_cache_and_are_send_sync() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<WebhookVerifier>();
    let a = sha1_with_ids().with_secret(SECRET);
    let b = a.clone();
    let h = douyin_headers(DOUYIN_KNOWN, "shared");
    a.verify(&h, BODY).unwrap();
    assert!(matches!(
        b.verify(&h, BODY),
        Err(WebhookError::Replayed { .. })
    ));
}

#[derive(Clone, Default)]
struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn logs_name_ids_but_no_secret_signature_or_body() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let v = sha1_with_ids().with_secret(SECRET);
        let wrong = sha1_signature(&Secret::new("attacker"), BODY);
        v.verify(&douyin_headers(&wrong, "log-1"), BODY)
            .unwrap_err();
        v.verify(&douyin_headers(DOUYIN_KNOWN, "log-1"), BODY)
            .unwrap();
        v.verify(&douyin_headers(DOUYIN_KNOWN, "log-1"), BODY)
            .unwrap_err();
        v.forget("log-1");
    });
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("webhook rejected"), "{logs}");
    assert!(logs.contains("webhook accepted"), "{logs}");
    assert!(logs.contains("log-1"), "{logs}");
    for needle in [
        DOUYIN_KNOWN,
        "verify_webhook",
        "attacker",
        "secret\"",
        "=secret",
    ] {
        assert!(!logs.contains(needle), "{needle} in {logs}");
    }
    let wrong = sha1_signature(&Secret::new("attacker"), BODY);
    assert!(!logs.contains(&wrong), "{logs}");
}
