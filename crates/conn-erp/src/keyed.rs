//! Exactly-once order creation through a conn-core journal (see [`CREATE_ORDER_OP`]).

use std::sync::Arc;

use conn_core::error::Result;
use conn_core::journal::{
    request_digest, run_once, Completed, Entry, Journal, OperationKey, Reconciled,
};

use crate::client::Client;
use crate::model::NewOrder;
use crate::PLATFORM;

/// The journal operation of a keyed order create.
///
/// Exactly-once order creation through a conn-core [`Journal`].
///
/// [`Client::create_order_once`] records the order under a caller-chosen [`OperationKey`]
/// before sending and sends it with an idempotency key derived from it (the order's
/// `external_id` when set, else the operation key): for 聚水潭 and 旺店通 that is the outer
/// order number the ERP dedupes on, for a REST ERP the `Idempotency-Key` header.
///
/// Reconciliation is a **replay with the same idempotency key**: conclusive as far as the ERP
/// honours it (the outer order number is the ERP's own uniqueness rule; a REST ERP's
/// idempotency header is the server's promise). Profiles that cannot dedupe (Kingdee,
/// ERPNext) refuse a keyed create with a configuration error before anything is sent.
pub const CREATE_ORDER_OP: &str = "create_order";

impl Client {
    /// Creates `order` at most once per `key` (see [`CREATE_ORDER_OP`](crate::CREATE_ORDER_OP)); `Completed::id`
    /// is the order id.
    pub async fn create_order_once(
        &self,
        journal: &Arc<dyn Journal>,
        key: &OperationKey,
        order: &NewOrder,
    ) -> Result<Completed> {
        order.validate()?;
        let body = serde_json::to_value(order).map_err(|e| {
            conn_core::Error::validation("order", format!("must serialize to JSON ({e})"))
        })?;
        let mut entry = Entry::new(
            key.clone(),
            PLATFORM,
            CREATE_ORDER_OP,
            self.config().profile.to_string(),
            request_digest(&body),
        );
        let idem = order
            .external_id
            .clone()
            .unwrap_or_else(|| key.as_str().to_owned());
        entry.detail.insert("idempotency_key".into(), idem.clone());
        run_once(
            journal,
            entry,
            // A replay with the same key is what the ERP dedupes: "not done" here means "safe
            // to send again", which is exactly what that replay is.
            |_| async { Ok(Reconciled::NotDone) },
            |_| async move { Ok(self.create_order_with_key(order, idem).await?.id) },
        )
        .await
    }
}
