//! [`WebhookHandler`]: verification, replay protection, the URL check and routing in one call.

use std::fmt;
use std::future::Future;

use conn_core::error::{BoxError, Result};
use conn_core::secret::Secret;
use conn_core::webhook::{Dispatch, EventRouter, WebhookError, WebhookVerifier};
use http::HeaderMap;
use serde_json::{Map, Value};

use super::event::{Event, EventPayload};
use super::{parse_event, scheme, status_for, verifier, MSG_ID_HEADER};
use crate::config::Config;

/// What [`WebhookHandler::handle`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookReply {
    /// The URL check: answer with [`WebhookReply::body`].
    Challenge {
        /// The challenge, as sent.
        challenge: Value,
    },
    /// An event was dispatched.
    Delivered {
        /// The event name.
        event: String,
        /// The message id.
        msg_id: Option<String>,
        /// Which handler ran.
        dispatch: Dispatch,
    },
}

impl WebhookReply {
    /// The HTTP status to answer with (200).
    pub fn status(&self) -> u16 {
        200
    }

    /// The body to answer with: `{"challenge":…}` for the URL check, empty otherwise.
    pub fn body(&self) -> String {
        match self {
            Self::Challenge { challenge } => {
                let mut m = Map::new();
                m.insert("challenge".to_owned(), challenge.clone());
                Value::Object(m).to_string()
            }
            Self::Delivered { .. } => String::new(),
        }
    }
}

/// An HTTP answer for any outcome (see [`WebhookHandler::handle_http`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    /// Status.
    pub status: u16,
    /// JSON body (may be empty).
    pub body: String,
}

/// Verifies, parses and routes Douyin webhooks. Register handlers, then share it in an `Arc`.
pub struct WebhookHandler {
    verifier: WebhookVerifier,
    signature_only: WebhookVerifier,
    router: EventRouter<Event>,
}

impl fmt::Debug for WebhookHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookHandler")
            .field("verifier", &self.verifier)
            .field("router", &self.router)
            .finish_non_exhaustive()
    }
}

impl WebhookHandler {
    /// A handler accepting signatures by any of `secrets` (current first, then previous).
    pub fn new(secrets: impl IntoIterator<Item = Secret>) -> Self {
        let secrets: Vec<Secret> = secrets.into_iter().collect();
        Self {
            verifier: verifier().with_secrets(secrets.clone()),
            // For the URL check only, should the platform send it without a Msg-Id.
            signature_only: WebhookVerifier::new(scheme()).with_secrets(secrets),
            router: EventRouter::new(),
        }
    }

    /// A handler for the configured client secret (and the previous one during a rotation).
    pub fn from_config(config: &Config) -> Result<Self> {
        let current = config.require_client_secret()?.as_secret().clone();
        let mut secrets = vec![current];
        if let Some(p) = &config.previous_client_secret {
            secrets.push(p.as_secret().clone());
        }
        Ok(Self::new(secrets).with_max_body_bytes(config.webhook_max_body_bytes))
    }

    /// Caps the body size (default 1 MiB).
    pub fn with_max_body_bytes(mut self, n: usize) -> Self {
        self.verifier = self.verifier.with_max_body_bytes(n);
        self.signature_only = self.signature_only.with_max_body_bytes(n);
        self
    }

    /// Registers the handler of an event name (typed in [`Event::payload`]).
    pub fn on<F, Fut>(&mut self, event: impl Into<String>, handler: F) -> &mut Self
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<(), BoxError>> + Send + 'static,
    {
        self.router.on(event, handler);
        self
    }

    /// Registers the handler of every event without its own handler (unknown events included).
    pub fn fallback<F, Fut>(&mut self, handler: F) -> &mut Self
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<(), BoxError>> + Send + 'static,
    {
        self.router.fallback(handler);
        self
    }

    /// The verifier (its seen-id cache, its secret count).
    pub fn verifier(&self) -> &WebhookVerifier {
        &self.verifier
    }

    /// Verifies and handles one delivery. See the module docs.
    pub async fn handle(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> std::result::Result<WebhookReply, WebhookError> {
        let with_id = headers.contains_key(&MSG_ID_HEADER);
        let verified = if with_id {
            match self.verifier.verify(headers, body) {
                Ok(v) => v,
                // A replay has a good signature. A retried URL check is answered again: the
                // platform may not have received the first answer.
                Err(WebhookError::Replayed { id }) => {
                    return match parse_event(body, Some(id.clone())) {
                        Ok(Event {
                            payload: EventPayload::VerifyWebhook { challenge },
                            ..
                        }) => Ok(WebhookReply::Challenge { challenge }),
                        _ => Err(WebhookError::Replayed { id }),
                    };
                }
                Err(e) => return Err(e),
            }
        } else {
            self.signature_only.verify(headers, body)?
        };
        let msg_id = verified.id.clone();
        let event = parse_event(body, msg_id.clone())?;
        if let EventPayload::VerifyWebhook { challenge } = &event.payload {
            return Ok(WebhookReply::Challenge {
                challenge: challenge.clone(),
            });
        }
        if !with_id {
            // Only the URL check may come without an id: everything else needs dedupe.
            return Err(WebhookError::MissingHeader {
                header: MSG_ID_HEADER.to_string(),
            });
        }
        let name = event.name.clone();
        match self.router.dispatch(&name, event).await {
            Ok(dispatch) => Ok(WebhookReply::Delivered {
                event: name,
                msg_id,
                dispatch,
            }),
            Err(e) => {
                if let Some(id) = &msg_id {
                    // Accept the platform's retry of a message we failed to handle.
                    self.verifier.forget(id);
                }
                Err(e)
            }
        }
    }

    /// Like [`handle`](Self::handle), with every outcome turned into an HTTP answer
    /// ([`status_for`]).
    pub async fn handle_http(&self, headers: &HeaderMap, body: &[u8]) -> WebhookResponse {
        match self.handle(headers, body).await {
            Ok(reply) => WebhookResponse {
                status: reply.status(),
                body: reply.body(),
            },
            Err(e) => {
                tracing::info!(error = %e, "webhook not accepted");
                WebhookResponse {
                    status: status_for(&e),
                    body: serde_json::json!({ "error": e.to_string() }).to_string(),
                }
            }
        }
    }
}

impl crate::Client {
    /// A webhook handler for this client's client secret (and previous secret).
    pub fn webhook_handler(&self) -> Result<WebhookHandler> {
        WebhookHandler::from_config(self.config())
    }
}
