//! Event name → async handler routing.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use futures::future::BoxFuture;

use super::WebhookError;
use crate::error::BoxError;

type Handler<E> = Box<dyn Fn(E) -> BoxFuture<'static, Result<(), BoxError>> + Send + Sync>;

fn boxed<E, F, Fut>(handler: F) -> Handler<E>
where
    F: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    Box::new(move |payload| Box::pin(handler(payload)))
}

/// What [`EventRouter::dispatch`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dispatch {
    /// The event's own handler ran and succeeded.
    Handled,
    /// No handler is registered for the name; the fallback ran and succeeded.
    Fallback,
    /// No handler and no fallback: the payload was dropped. Platforms that add events (Douyin
    /// does) expect a success answer anyway, so this is not an error; log or count it.
    Unhandled,
}

/// Routes events by name to async handlers.
///
/// Unknown names go to the [fallback](EventRouter::fallback), or are reported as
/// [`Dispatch::Unhandled`]. A handler's error is returned as [`WebhookError::Handler`] with the
/// event name and the original error as its source — never swallowed — so the endpoint can
/// answer with a failure (and [`forget`](super::WebhookVerifier::forget) the message id) to get
/// the platform's retry.
///
/// The router is `Send + Sync` and `dispatch` takes `&self`: build it once, share it in an `Arc`.
///
/// ```
/// use std::sync::Arc;
/// use conn_core::webhook::{Dispatch, EventRouter, WebhookError};
///
/// let mut router: EventRouter<String> = EventRouter::new();
/// router
///     .on("authorize", |payload| async move {
///         assert_eq!(payload, "scopes");
///         Ok(())
///     })
///     .on("unauthorize", |_payload| async move { Err("store is down".into()) })
///     .fallback(|_payload| async move { Ok(()) });
/// let router = Arc::new(router);
///
/// futures::executor::block_on(async {
///     assert_eq!(router.dispatch("authorize", "scopes".into()).await?, Dispatch::Handled);
///     assert_eq!(router.dispatch("brand_new_event", "x".into()).await?, Dispatch::Fallback);
///     let err = router.dispatch("unauthorize", "x".into()).await.unwrap_err();
///     assert!(matches!(err, WebhookError::Handler { ref event, .. } if event == "unauthorize"));
///     Ok::<(), WebhookError>(())
/// })?;
/// # Ok::<(), WebhookError>(())
/// ```
pub struct EventRouter<E> {
    handlers: BTreeMap<String, Handler<E>>,
    fallback: Option<Handler<E>>,
}

impl<E: Send + 'static> EventRouter<E> {
    /// A router with no handler and no fallback.
    pub fn new() -> Self {
        Self {
            handlers: BTreeMap::new(),
            fallback: None,
        }
    }

    /// Registers the handler of `event`, replacing any earlier one for the same name.
    pub fn on<F, Fut>(&mut self, event: impl Into<String>, handler: F) -> &mut Self
    where
        F: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        self.handlers.insert(event.into(), boxed(handler));
        self
    }

    /// Registers the handler of every event without its own handler (replacing an earlier one).
    /// It receives the payload only: keep the event name in the payload if it needs it.
    pub fn fallback<F, Fut>(&mut self, handler: F) -> &mut Self
    where
        F: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        self.fallback = Some(boxed(handler));
        self
    }

    /// True when `event` has its own handler (the fallback does not count).
    pub fn has_handler(&self, event: &str) -> bool {
        self.handlers.contains_key(event)
    }

    /// True when a fallback is registered.
    pub fn has_fallback(&self) -> bool {
        self.fallback.is_some()
    }

    /// The names with a handler, in sorted order.
    pub fn events(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }

    /// Runs the handler of `event` (or the fallback) with `payload`.
    ///
    /// # Errors
    /// [`WebhookError::Handler`] when the handler fails, carrying `event` and the handler's error
    /// as the source.
    pub async fn dispatch(&self, event: &str, payload: E) -> Result<Dispatch, WebhookError> {
        let (handler, outcome) = match self.handlers.get(event) {
            Some(h) => (h, Dispatch::Handled),
            None => match &self.fallback {
                Some(h) => (h, Dispatch::Fallback),
                None => {
                    tracing::debug!(event, "webhook event unhandled (no handler, no fallback)");
                    return Ok(Dispatch::Unhandled);
                }
            },
        };
        match handler(payload).await {
            Ok(()) => {
                tracing::debug!(event, outcome = ?outcome, "webhook event handled");
                Ok(outcome)
            }
            Err(source) => {
                tracing::debug!(event, outcome = ?outcome, error = %source, "webhook handler failed");
                Err(WebhookError::Handler {
                    event: event.to_owned(),
                    source,
                })
            }
        }
    }
}

impl<E: Send + 'static> Default for EventRouter<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> fmt::Debug for EventRouter<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventRouter")
            .field("events", &self.handlers.keys().collect::<Vec<_>>())
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::error::Error as _;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    #[derive(Debug, thiserror::Error)]
    #[error("database unavailable")]
    struct DbDown;

    fn assert_send_sync<T: Send + Sync>(_: &T) {}

    #[tokio::test]
    async fn handler_receives_the_payload() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let mut router = EventRouter::new();
        let sink = Arc::clone(&got);
        router.on("create_video", move |p: serde_json::Value| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock().unwrap().push(p);
                Ok(())
            }
        });
        let out = router
            .dispatch("create_video", serde_json::json!({"item_id": "v1"}))
            .await
            .unwrap();
        assert_eq!(out, Dispatch::Handled);
        assert_eq!(
            *got.lock().unwrap(),
            vec![serde_json::json!({"item_id": "v1"})]
        );
    }

    #[tokio::test]
    async fn unknown_event_goes_to_the_fallback() {
        let calls = Arc::new(AtomicUsize::new(0));
        let fallback_calls = Arc::new(AtomicUsize::new(0));
        let mut router: EventRouter<u32> = EventRouter::default();
        let c = Arc::clone(&calls);
        let fc = Arc::clone(&fallback_calls);
        router
            .on("known", move |_| {
                c.fetch_add(1, Ordering::SeqCst);
                async { Ok(()) }
            })
            .fallback(move |p| {
                assert_eq!(p, 7);
                fc.fetch_add(1, Ordering::SeqCst);
                async { Ok(()) }
            });
        assert_eq!(
            router.dispatch("new_event", 7).await.unwrap(),
            Dispatch::Fallback
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(fallback_calls.load(Ordering::SeqCst), 1);
        assert!(router.has_fallback());
    }

    #[tokio::test]
    async fn unknown_event_without_fallback_is_unhandled() {
        let mut router: EventRouter<()> = EventRouter::new();
        router.on("known", |_| async { Ok(()) });
        assert_eq!(
            router.dispatch("other", ()).await.unwrap(),
            Dispatch::Unhandled
        );
        assert!(!router.has_fallback());
    }

    #[tokio::test]
    async fn handler_error_is_returned_with_event_and_source() {
        let mut router: EventRouter<()> = EventRouter::new();
        router.on("im_receive_msg", |_| async {
            Err(Box::new(DbDown) as BoxError)
        });
        let err = router.dispatch("im_receive_msg", ()).await.unwrap_err();
        match &err {
            WebhookError::Handler { event, source } => {
                assert_eq!(event, "im_receive_msg");
                assert!(source.downcast_ref::<DbDown>().is_some());
            }
            other => panic!("unexpected {other:?}"),
        }
        let src = err.source().expect("source kept");
        assert!(src.downcast_ref::<DbDown>().is_some());
        assert_eq!(
            err.to_string(),
            "webhook handler for event `im_receive_msg` failed: database unavailable"
        );
        assert!(err.is_retryable());
    }

    #[tokio::test]
    async fn fallback_error_is_returned_too() {
        let mut router: EventRouter<()> = EventRouter::new();
        router.fallback(|_| async { Err("nope".into()) });
        let err = router.dispatch("whatever", ()).await.unwrap_err();
        assert!(matches!(err, WebhookError::Handler { ref event, .. } if event == "whatever"));
    }

    #[tokio::test]
    async fn shared_in_an_arc_across_tasks() {
        let count = Arc::new(AtomicUsize::new(0));
        let mut router: EventRouter<usize> = EventRouter::new();
        let c = Arc::clone(&count);
        router.on("n", move |n| {
            let c = Arc::clone(&c);
            async move {
                tokio::task::yield_now().await;
                c.fetch_add(n, Ordering::SeqCst);
                Ok(())
            }
        });
        let router = Arc::new(router);
        assert_send_sync(&router);
        let tasks: Vec<_> = (1..=4)
            .map(|n| {
                let r = Arc::clone(&router);
                tokio::spawn(async move { r.dispatch("n", n).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), Dispatch::Handled);
        }
        assert_eq!(count.load(Ordering::SeqCst), 10);
    }

    #[test]
    fn lists_events_and_debug_shows_names() {
        let mut router: EventRouter<()> = EventRouter::new();
        router
            .on("unauthorize", |_| async { Ok(()) })
            .on("authorize", |_| async { Ok(()) });
        assert!(router.has_handler("authorize"));
        assert!(!router.has_handler("create_video"));
        assert_eq!(
            router.events().collect::<Vec<_>>(),
            ["authorize", "unauthorize"]
        );
        assert_eq!(
            format!("{router:?}"),
            r#"EventRouter { events: ["authorize", "unauthorize"], fallback: false }"#
        );
    }

    #[test]
    fn a_later_on_replaces_the_handler() {
        let mut router: EventRouter<()> = EventRouter::new();
        router.on("a", |_| async { Err("old".into()) });
        router.on("a", |_| async { Ok(()) });
        let out = futures::executor::block_on(router.dispatch("a", ()));
        assert_eq!(out.unwrap(), Dispatch::Handled);
        assert_eq!(router.events().count(), 1);
    }
}
