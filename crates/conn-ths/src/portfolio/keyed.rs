//! Exactly-once `deal` through a conn-core [`Journal`].
//!
//! iFinD's trade log keeps no client reference, so a deal is found again by counting the
//! trades of its portfolio, code, price and volume on its day ([`Client::deal_recorded`]).
//! [`Client::deal_once`] therefore counts them **before** sending and notes the count durably;
//! reconciling an interrupted deal counts again:
//!
//! | count now | means |
//! |---|---|
//! | more than before | done (the deal's reference is `portfid/date/thscode/direct/#n`) |
//! | as before | not done: sent again |
//! | fewer than before | unknown (trades were removed meanwhile) |
//!
//! How conclusive: as far as (⚠) iFinD shows a recorded deal in `query_exchange_records` at
//! once (the manual does not say), and as long as nobody else records an identical deal
//! (same portfolio, code, direction, price and volume) on that day between the count and
//! the reconciliation. Use one key per intended trade and keep other writers off the
//! portfolio while a keyed deal is unsettled.

use std::sync::Arc;

use chrono::NaiveDate;
use conn_core::error::Result;
use conn_core::journal::{
    request_digest, run_once, Completed, Entry, Journal, OperationKey, Reconciled,
};
use serde_json::json;

use crate::client::Client;
use crate::Deal;
use crate::PLATFORM;

/// The journal operation of a keyed deal.
pub const DEAL_OP: &str = "deal";

fn reference(deal: &Deal, on: NaiveDate, n: usize) -> String {
    let i = deal.input();
    format!("{}/{on}/{}/{}/#{n}", i.portfolio, i.symbol, i.side.as_str())
}

impl Client {
    /// Records `deal` (trade date `on`) at most once per `key` (see the
    /// [module docs](self)). `Completed::id` is the deal's reference.
    pub async fn deal_once(
        &self,
        journal: &Arc<dyn Journal>,
        key: &OperationKey,
        deal: &Deal,
        on: NaiveDate,
    ) -> Result<Completed> {
        let digest = request_digest(&json!({"deal": deal.body(), "on": on.to_string()}));
        let entry = Entry::new(
            key.clone(),
            PLATFORM,
            DEAL_OP,
            deal.input().portfolio.to_string(),
            digest,
        );
        run_once(
            journal,
            entry,
            |e| async move {
                let Some(before) = e.detail("records_before").and_then(|b| b.parse::<usize>().ok())
                else {
                    // The count is noted before the deal is sent: none noted, none sent.
                    return Ok(Reconciled::NotDone);
                };
                let now = self.deal_recorded(deal, on).await?;
                Ok(if now > before {
                    Reconciled::Done(reference(deal, on, before + 1))
                } else if now == before {
                    Reconciled::NotDone
                } else {
                    Reconciled::Unknown {
                        checked: format!(
                            "{now} matching trades on {on}, fewer than the {before} counted before the deal was sent"
                        ),
                        cause: None,
                    }
                })
            },
            |attempt| async move {
                let before = match attempt.entry().detail("records_before").and_then(|b| b.parse::<usize>().ok()) {
                    // Reconciled as not done: the count noted then still holds.
                    Some(b) => b,
                    None => {
                        let b = self.deal_recorded(deal, on).await?;
                        attempt.note("records_before", &b.to_string()).await?;
                        b
                    }
                };
                self.portfolio_deal(deal).await?;
                Ok(reference(deal, on, before + 1))
            },
        )
        .await
    }
}
