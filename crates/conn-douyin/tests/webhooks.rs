//! Webhooks: signature (rotation, case), Msg-Id replay, the URL check, content as object or
//! string, typed and raw events, malformed and oversized bodies, and a delivery from the fake.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use conn_core::secret::Secret;
use conn_core::webhook::{Dispatch, WebhookError};
use conn_douyin::fake::FakeDouyin;
use conn_douyin::webhook::signature as douyin_signature;
use conn_douyin::webhook::status_for;
use conn_douyin::{Event, EventPayload, WebhookHandler, WebhookReply};
use http::HeaderMap;
use serde_json::json;

const SECRET: &str = "current-client-secret";
const OLD: &str = "previous-client-secret";

fn headers(secret: &str, body: &[u8], msg_id: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "x-douyin-signature",
        douyin_signature(&Secret::new(secret), body)
            .parse()
            .unwrap(),
    );
    if let Some(id) = msg_id {
        h.insert("msg-id", id.parse().unwrap());
    }
    h
}

type Seen = Arc<Mutex<Vec<Event>>>;

fn handler() -> (WebhookHandler, Seen) {
    let seen: Seen = Arc::default();
    let mut h = WebhookHandler::new([Secret::new(SECRET), Secret::new(OLD)]);
    let sink = seen.clone();
    h.on("create_video", move |e| {
        let sink = sink.clone();
        async move {
            sink.lock().unwrap().push(e);
            Ok(())
        }
    });
    let sink = seen.clone();
    h.fallback(move |e| {
        let sink = sink.clone();
        async move {
            sink.lock().unwrap().push(e);
            Ok(())
        }
    });
    (h, seen)
}

fn create_video_body(content_as_string: bool) -> Vec<u8> {
    let content = json!({"item_id": "@9VwL+/=", "share_id": "share-1"});
    let content = if content_as_string {
        json!(content.to_string())
    } else {
        content
    };
    json!({"event": "create_video", "from_user_id": "_000u", "to_user_id": "_000u",
           "client_key": "awkey", "content": content, "log_id": "LOG-1"})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn good_events_with_content_as_object_or_string_are_typed() {
    let (h, seen) = handler();
    for (i, as_string) in [false, true].into_iter().enumerate() {
        let body = create_video_body(as_string);
        let id = format!("m-{i}");
        let reply = h
            .handle(&headers(SECRET, &body, Some(&id)), &body)
            .await
            .unwrap();
        assert_eq!(
            reply,
            WebhookReply::Delivered {
                event: "create_video".into(),
                msg_id: Some(id),
                dispatch: Dispatch::Handled
            }
        );
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for e in seen.iter() {
        assert_eq!(
            e.payload,
            EventPayload::CreateVideo {
                item_id: "@9VwL+/=".into(),
                share_id: Some("share-1".into())
            }
        );
        assert_eq!(e.from_user_id.as_deref(), Some("_000u"));
        assert_eq!(e.log_id.as_deref(), Some("LOG-1"));
        assert_eq!(e.content["item_id"], "@9VwL+/=");
    }
}

#[tokio::test]
async fn bad_signature_missing_header_malformed_and_oversized_are_rejected_undispatched() {
    let (h, seen) = handler();
    let body = create_video_body(false);
    // Wrong secret.
    let err = h
        .handle(&headers("attacker", &body, Some("a")), &body)
        .await
        .unwrap_err();
    assert!(matches!(err, WebhookError::BadSignature { .. }), "{err}");
    assert_eq!(status_for(&err), 401);
    // Tampered body.
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let err = h
        .handle(&headers(SECRET, &body, Some("b")), &tampered)
        .await
        .unwrap_err();
    assert!(matches!(err, WebhookError::BadSignature { .. }), "{err}");
    // No signature header.
    let mut no_sig = HeaderMap::new();
    no_sig.insert("msg-id", "c".parse().unwrap());
    let err = h.handle(&no_sig, &body).await.unwrap_err();
    assert!(
        matches!(err, WebhookError::MissingHeader { ref header } if header == "x-douyin-signature"),
        "{err}"
    );
    // No Msg-Id on an ordinary event.
    let err = h
        .handle(&headers(SECRET, &body, None), &body)
        .await
        .unwrap_err();
    assert!(
        matches!(err, WebhookError::MissingHeader { ref header } if header == "msg-id"),
        "{err}"
    );
    // Authentic but not JSON.
    let junk = b"{not json".to_vec();
    let err = h
        .handle(&headers(SECRET, &junk, Some("d")), &junk)
        .await
        .unwrap_err();
    assert!(matches!(err, WebhookError::MalformedBody { .. }), "{err}");
    assert_eq!(status_for(&err), 400);
    // content a string but not JSON.
    let bad_content = json!({"event": "create_video", "content": "{oops"})
        .to_string()
        .into_bytes();
    let err = h
        .handle(&headers(SECRET, &bad_content, Some("e")), &bad_content)
        .await
        .unwrap_err();
    assert!(matches!(err, WebhookError::MalformedBody { .. }), "{err}");
    // Oversized.
    let small = WebhookHandler::new([Secret::new(SECRET)]).with_max_body_bytes(64);
    let err = small
        .handle(&headers(SECRET, &body, Some("f")), &body)
        .await
        .unwrap_err();
    assert!(
        matches!(err, WebhookError::BodyTooLarge { limit: 64, .. }),
        "{err}"
    );
    assert_eq!(status_for(&err), 413);
    assert!(seen.lock().unwrap().is_empty(), "nothing dispatched");
}

#[tokio::test]
async fn upper_case_hex_and_the_rotated_secret_are_accepted() {
    let (h, seen) = handler();
    let body = create_video_body(false);
    let mut upper = HeaderMap::new();
    upper.insert(
        "x-douyin-signature",
        douyin_signature(&Secret::new(SECRET), &body)
            .to_uppercase()
            .parse()
            .unwrap(),
    );
    upper.insert("msg-id", "u-1".parse().unwrap());
    h.handle(&upper, &body).await.unwrap();
    h.handle(&headers(OLD, &body, Some("u-2")), &body)
        .await
        .unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(h.verifier().secret_count(), 2);
}

#[tokio::test]
async fn replayed_msg_id_is_rejected_and_answered_200() {
    let (h, seen) = handler();
    let body = create_video_body(false);
    let hdr = headers(SECRET, &body, Some("same-id"));
    h.handle(&hdr, &body).await.unwrap();
    let err = h.handle(&hdr, &body).await.unwrap_err();
    assert!(
        matches!(err, WebhookError::Replayed { ref id } if id == "same-id"),
        "{err}"
    );
    let resp = h.handle_http(&hdr, &body).await;
    assert_eq!(
        resp.status, 200,
        "already processed: the platform must stop retrying"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn verify_webhook_answers_the_challenge_as_sent() {
    let (h, seen) = handler();
    for (challenge, expected) in [
        ("12345", r#"{"challenge":12345}"#),
        ("9007199254740993", r#"{"challenge":9007199254740993}"#),
    ] {
        let body = format!(r#"{{"event":"verify_webhook","client_key":"awkey","content":{{"challenge":{challenge}}}}}"#)
            .into_bytes();
        let resp = h
            .handle_http(&headers(SECRET, &body, Some(challenge)), &body)
            .await;
        assert_eq!((resp.status, resp.body.as_str()), (200, expected));
        // The platform's retry of the URL check (same Msg-Id) is answered again.
        let resp = h
            .handle_http(&headers(SECRET, &body, Some(challenge)), &body)
            .await;
        assert_eq!((resp.status, resp.body.as_str()), (200, expected));
        // Without a Msg-Id too.
        let resp = h.handle_http(&headers(SECRET, &body, None), &body).await;
        assert_eq!((resp.status, resp.body.as_str()), (200, expected));
    }
    // The challenge inside a string content.
    let body = json!({"event": "verify_webhook", "content": "{\"challenge\":777}"})
        .to_string()
        .into_bytes();
    let resp = h.handle_http(&headers(SECRET, &body, None), &body).await;
    assert_eq!(resp.body, r#"{"challenge":777}"#);
    // A forged URL check is still refused.
    let resp = h
        .handle_http(&headers("attacker", &body, None), &body)
        .await;
    assert_eq!(resp.status, 401);
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_events_are_delivered_raw_never_rejected() {
    let (h, seen) = handler();
    let body = json!({"event": "brand_new_event", "content": {"x": 1}})
        .to_string()
        .into_bytes();
    let reply = h
        .handle(&headers(SECRET, &body, Some("n-1")), &body)
        .await
        .unwrap();
    assert!(matches!(
        reply,
        WebhookReply::Delivered {
            dispatch: Dispatch::Fallback,
            ..
        }
    ));
    assert_eq!(
        seen.lock().unwrap()[0].payload,
        EventPayload::Raw(json!({"x": 1}))
    );
    // Without any handler it is still accepted (and reported unhandled).
    let bare = WebhookHandler::new([Secret::new(SECRET)]);
    let reply = bare
        .handle(&headers(SECRET, &body, Some("n-2")), &body)
        .await
        .unwrap();
    assert!(matches!(
        reply,
        WebhookReply::Delivered {
            dispatch: Dispatch::Unhandled,
            ..
        }
    ));
    // Known names get their variant; authorize scopes arrive as a list or a comma string.
    let body = json!({"event": "authorize", "content": {"scopes": "user_info,video.create.bind"}})
        .to_string()
        .into_bytes();
    h.handle(&headers(SECRET, &body, Some("n-3")), &body)
        .await
        .unwrap();
    assert_eq!(
        seen.lock().unwrap()[1].payload,
        EventPayload::Authorize {
            scopes: vec!["user_info".into(), "video.create.bind".into()]
        }
    );
}

#[tokio::test]
async fn a_failing_handler_answers_500_and_the_retry_is_accepted() {
    let calls = Arc::new(Mutex::new(0u32));
    let mut h = WebhookHandler::new([Secret::new(SECRET)]);
    let c = calls.clone();
    h.on("create_video", move |_| {
        let c = c.clone();
        async move {
            let mut n = c.lock().unwrap();
            *n += 1;
            if *n == 1 {
                Err("database down".into())
            } else {
                Ok(())
            }
        }
    });
    let body = create_video_body(false);
    let hdr = headers(SECRET, &body, Some("retry-me"));
    let resp = h.handle_http(&hdr, &body).await;
    assert_eq!(resp.status, 500);
    assert!(resp.body.contains("database down"), "{}", resp.body);
    let resp = h.handle_http(&hdr, &body).await;
    assert_eq!(resp.status, 200);
    assert_eq!(*calls.lock().unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_delivers_signed_events_to_an_endpoint() {
    let fake = FakeDouyin::start().await;
    let client = conn_douyin::Client::new(fake.config()).unwrap();
    let mut handler = client.webhook_handler().unwrap();
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    handler.fallback(move |e| {
        let sink = sink.clone();
        async move {
            sink.lock().unwrap().push(e);
            Ok(())
        }
    });
    let handler = Arc::new(handler);
    // An endpoint: a wiremock server running the handler.
    let endpoint = wiremock::MockServer::start().await;
    let h = handler.clone();
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(move |req: &wiremock::Request| {
            let resp = futures::executor::block_on(h.handle_http(&req.headers, &req.body));
            wiremock::ResponseTemplate::new(resp.status).set_body_string(resp.body)
        })
        .mount(&endpoint)
        .await;
    let url = format!("{}/douyin/webhook", endpoint.uri());
    let status = fake
        .deliver_webhook(
            &url,
            "create_video",
            json!({"item_id": "@x", "share_id": "s"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let status = fake
        .deliver_webhook(
            &url,
            "im_receive_msg",
            json!(json!({"text": "hi"}).to_string()),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    // A replay of one delivery.
    let body = fake.webhook_body("new_follow_action", json!({}));
    assert_eq!(
        fake.deliver_signed(&url, body.clone(), "dup")
            .await
            .unwrap()
            .status,
        200
    );
    assert_eq!(
        fake.deliver_signed(&url, body, "dup").await.unwrap().status,
        200
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "the replay was not dispatched");
    assert_eq!(
        seen[1].payload,
        EventPayload::ImReceiveMsg(json!({"text": "hi"}))
    );
    assert_eq!(seen[0].client_key.as_deref(), Some(fake.client_key()));
}
