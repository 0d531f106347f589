//! Incoming webhooks (event push): verification, the URL check, typed events, routing.
//!
//! [`WebhookHandler::handle`](crate::WebhookHandler::handle) takes the raw headers and body exactly as received and:
//!
//! 1. verifies `X-Douyin-Signature` (hex SHA-1 of client secret ‖ body, either case, constant
//!    time) against the client secret and, during a rotation, the previous one;
//! 2. rejects a replayed `Msg-Id` (the platform retries an event up to 3 times; a bounded cache
//!    remembers the last 10 000 ids);
//! 3. answers `verify_webhook` with `{"challenge":<the number as sent>}`;
//! 4. parses the envelope (`content` as an object or as a JSON-encoded string) into an
//!    [`Event`] with a typed [`EventPayload`] for the known names and
//!    [`EventPayload::Raw`] for the rest (unknown events are delivered, never rejected);
//! 5. dispatches it through conn-core's [`EventRouter`](conn_core::webhook::EventRouter) to the handler registered for its name
//!    (the original system's `register_callback_handler`), or the fallback.
//!
//! A bad signature, a missing header, a malformed body or an oversized body is a typed
//! [`WebhookError`] and nothing is dispatched. When a handler fails, the message id is forgotten
//! so the platform's retry is accepted.
//!
//! ```
//! use conn_core::secret::Secret;
//! use conn_douyin::webhook::signature;
//! use conn_douyin::{EventPayload, WebhookHandler};
//!
//! let mut handler = WebhookHandler::new([Secret::new("client-secret")]);
//! handler.on("create_video", |event| async move {
//!     if let EventPayload::CreateVideo { item_id, .. } = &event.payload {
//!         println!("published {item_id}");
//!     }
//!     Ok(())
//! });
//! let body = br#"{"event":"create_video","from_user_id":"u1","content":"{\"item_id\":\"@9Vw\",\"share_id\":\"s1\"}"}"#;
//! let mut headers = http::HeaderMap::new();
//! headers.insert("x-douyin-signature", signature(&Secret::new("client-secret"), body).parse().unwrap());
//! headers.insert("msg-id", "m-1".parse().unwrap());
//! let reply = futures::executor::block_on(handler.handle_http(&headers, body));
//! assert_eq!(reply.status, 200);
//! ```

use conn_core::secret::Secret;
use conn_core::webhook::{
    SignatureScheme, WebhookError, WebhookVerifier, DEFAULT_SEEN_IDS_CAPACITY,
};
use http::HeaderName;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

// The types live in private modules and are re-exported at the crate root (one path each);
// this module is the namespace of the scheme's functions and constants.
pub(crate) mod event;
pub(crate) mod handler;

use event::{Event, EventPayload};

/// The events PLATFORMS.md names.
pub const KNOWN_EVENTS: &[&str] = &[
    "verify_webhook",
    "create_video",
    "authorize",
    "unauthorize",
    "im_receive_msg",
    "im_send_msg",
    "im_enter_direct_msg",
    "enter_group_audit_change",
    "group_fans_event",
    "contract_authorize",
    "contract_unauthorize",
    "new_video_digg",
    "new_follow_action",
];

fn malformed(reason: impl Into<String>) -> WebhookError {
    WebhookError::MalformedBody {
        reason: reason.into(),
        source: None,
    }
}

fn str_field(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn scopes_of(content: &Value) -> Vec<String> {
    match content.get("scopes").or_else(|| content.get("scope")) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Parses an event body (after verification). `content` may be an object or a JSON string.
pub fn parse_event(
    body: &[u8],
    msg_id: Option<String>,
) -> std::result::Result<Event, WebhookError> {
    let v: Value = serde_json::from_slice(body)?;
    let Value::Object(map) = v else {
        return Err(malformed("the body is not a JSON object"));
    };
    let name = match map.get("event") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(malformed("the body has no `event` name")),
    };
    let content = match map.get("content") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => {
            serde_json::from_str(s).map_err(|e| WebhookError::MalformedBody {
                reason: format!("`content` is a string but not JSON: {e}"),
                source: Some(e),
            })?
        }
        Some(other) => other.clone(),
    };
    let payload = match name.as_str() {
        "verify_webhook" => EventPayload::VerifyWebhook {
            challenge: content
                .get("challenge")
                .cloned()
                .filter(|c| !c.is_null())
                .ok_or_else(|| malformed("verify_webhook without `content.challenge`"))?,
        },
        "create_video" => {
            let obj = content
                .as_object()
                .ok_or_else(|| malformed("create_video content is not an object"))?;
            EventPayload::CreateVideo {
                item_id: str_field(obj, "item_id")
                    .ok_or_else(|| malformed("create_video without `content.item_id`"))?,
                share_id: str_field(obj, "share_id"),
            }
        }
        "authorize" => EventPayload::Authorize {
            scopes: scopes_of(&content),
        },
        "unauthorize" => EventPayload::Unauthorize {
            scopes: scopes_of(&content),
        },
        "im_receive_msg" => EventPayload::ImReceiveMsg(content.clone()),
        "im_send_msg" => EventPayload::ImSendMsg(content.clone()),
        "im_enter_direct_msg" => EventPayload::ImEnterDirectMsg(content.clone()),
        "enter_group_audit_change" => EventPayload::EnterGroupAuditChange(content.clone()),
        "group_fans_event" => EventPayload::GroupFansEvent(content.clone()),
        "contract_authorize" => EventPayload::ContractAuthorize(content.clone()),
        "contract_unauthorize" => EventPayload::ContractUnauthorize(content.clone()),
        "new_video_digg" => EventPayload::NewVideoDigg(content.clone()),
        "new_follow_action" => EventPayload::NewFollowAction(content.clone()),
        _ => EventPayload::Raw(content.clone()),
    };
    Ok(Event {
        name,
        msg_id,
        from_user_id: str_field(&map, "from_user_id"),
        to_user_id: str_field(&map, "to_user_id"),
        client_key: str_field(&map, "client_key"),
        log_id: str_field(&map, "log_id"),
        content,
        payload,
    })
}

/// The HTTP status for a rejected webhook: signature problems 401, an oversized body 413, a
/// replay 200 (already processed: the platform must stop retrying), a handler failure or a
/// missing secret 500 (the platform retries), anything else 400.
pub fn status_for(err: &WebhookError) -> u16 {
    match err {
        WebhookError::Replayed { .. } => 200,
        WebhookError::BadSignature { .. }
        | WebhookError::MissingHeader { .. }
        | WebhookError::MalformedHeader { .. }
        | WebhookError::StaleTimestamp { .. } => 401,
        WebhookError::BodyTooLarge { .. } => 413,
        WebhookError::Handler { .. }
        | WebhookError::NoSecret
        | WebhookError::Misconfigured { .. } => 500,
        _ => 400,
    }
}

/// The header carrying Douyin's signature of a webhook.
pub const SIGNATURE_HEADER: HeaderName = HeaderName::from_static("x-douyin-signature");

/// The header carrying a webhook's message id (the same for the platform's retries).
pub const MSG_ID_HEADER: HeaderName = HeaderName::from_static("msg-id");

/// Douyin's signature scheme: [`SIGNATURE_HEADER`] holds the lowercase hex SHA-1 of (client
/// secret ‖ raw body); plain SHA-1, not an HMAC.
pub fn scheme() -> SignatureScheme {
    SignatureScheme::Sha1SecretBody {
        header: SIGNATURE_HEADER,
    }
}

/// A verifier of Douyin's scheme with a replay cache of [`DEFAULT_SEEN_IDS_CAPACITY`] ids keyed
/// by [`MSG_ID_HEADER`] (the platform retries an event up to 3 times). Add the client secret
/// with [`WebhookVerifier::with_secret`]; [`WebhookHandler`](crate::WebhookHandler) builds one from the configuration.
///
/// ```
/// use conn_core::secret::Secret;
/// use conn_douyin::webhook::{signature, verifier};
///
/// let secret = Secret::new("client-secret");
/// let verifier = verifier().with_secret(secret.clone());
/// let body = br#"{"event":"verify_webhook","content":{"challenge":12345}}"#;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("X-Douyin-Signature", signature(&secret, body).parse().unwrap());
/// headers.insert("Msg-Id", "1".parse().unwrap());
/// assert!(verifier.verify(&headers, body).is_ok());
/// ```
pub fn verifier() -> WebhookVerifier {
    WebhookVerifier::new(scheme()).with_id_header(MSG_ID_HEADER, DEFAULT_SEEN_IDS_CAPACITY)
}

/// Douyin's signature of `body`: lowercase hex SHA-1 of the secret's bytes followed by the
/// body's bytes. For tests and fakes; verification goes through [`verifier`].
///
/// ```
/// use conn_core::secret::Secret;
/// use conn_douyin::webhook::signature;
///
/// // `printf '%s' 'secret{"event":"verify_webhook"}' | sha1sum`
/// let sig = signature(&Secret::new("secret"), br#"{"event":"verify_webhook"}"#);
/// assert_eq!(sig, "a3b44b5003f027d37326c0a02b188916630b330c");
/// ```
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    hex::encode(
        Sha1::new()
            .chain_update(secret.expose_secret().as_bytes())
            .chain_update(body)
            .finalize(),
    )
}
