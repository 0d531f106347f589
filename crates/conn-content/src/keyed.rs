//! Exactly-once publishing (see [`PUBLISH_OP`]).

use std::sync::Arc;

use conn_core::error::Result;
use conn_core::journal::{
    request_digest, run_once, Completed, Entry, Journal, OperationKey, Reconciled,
};

use crate::client::Client;
use crate::model::Content;

/// The journal platform of content profiles.
pub const CONTENT_PLATFORM: &str = "content";
/// The journal operation of a keyed publish.
///
/// Exactly-once publishing through a conn-core [`Journal`].
///
/// [`Client::publish_once`] records the post under a caller-chosen [`OperationKey`]
/// before sending and sends it with that key as its idempotency key; an interrupted publish is
/// reconciled by **replaying with the same key**, which the platform dedupes. That is as
/// conclusive as the platform's idempotency support: a profile without an idempotency header
/// refuses a keyed publish with a configuration error before anything is sent.
pub const PUBLISH_OP: &str = "publish";

impl Client {
    /// Publishes `content` at most once per `key` (see [`PUBLISH_OP`](crate::PUBLISH_OP));
    /// `Completed::id` is the content id.
    pub async fn publish_once(
        &self,
        journal: &Arc<dyn Journal>,
        key: &OperationKey,
        content: &Content,
    ) -> Result<Completed> {
        let body = serde_json::to_value(content).map_err(|e| {
            conn_core::Error::validation("content", format!("must serialize to JSON ({e})"))
        })?;
        let entry = Entry::new(
            key.clone(),
            CONTENT_PLATFORM,
            PUBLISH_OP,
            self.profile().name.clone(),
            request_digest(&body),
        );
        run_once(
            journal,
            entry,
            // The replay carries the same idempotency key, which is what the platform dedupes.
            |_| async { Ok(Reconciled::NotDone) },
            |_| async move { Ok(self.publish_with_key(content, key.as_str()).await?.id) },
        )
        .await
    }
}
