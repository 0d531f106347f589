//! Keyed deals through a journal: a deal whose answer was lost is found in the trade log and
//! not recorded twice; one that never reached iFinD is sent after reconciliation; a key reused
//! for another deal is a conflict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conn_core::journal::{
    Begin, Claim, Entry, How, Journal, JournalError, MemoryJournal, OperationKey, State,
};
use conn_ths::fake::Fault;
use conn_ths::{Client, Side};
use rust_decimal::Decimal;

/// Runs `hook` right after the baseline count is noted, i.e. just before the deal is sent.
struct Hooked {
    inner: MemoryJournal,
    hook: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for Hooked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hooked")
    }
}

#[async_trait]
impl Journal for Hooked {
    async fn begin(&self, entry: Entry) -> Result<Begin, JournalError> {
        self.inner.begin(entry).await
    }
    async fn note(&self, claim: &Claim, name: &str, value: &str) -> Result<Entry, JournalError> {
        let e = self.inner.note(claim, name, value).await?;
        (self.hook)();
        Ok(e)
    }
    async fn finish(&self, claim: Claim, state: State) -> Result<Entry, JournalError> {
        self.inner.finish(claim, state).await
    }
    async fn get(&self, key: &OperationKey) -> Result<Option<Entry>, JournalError> {
        self.inner.get(key).await
    }
    async fn list(&self) -> Result<Vec<Entry>, JournalError> {
        self.inner.list().await
    }
}

#[tokio::test]
async fn a_lost_deal_answer_is_found_in_the_trade_log_not_recorded_twice() {
    let fake = Arc::new(common::fake().await);
    let c = Client::new(
        fake.config_builder()
            .transport(
                common::transport(common::fast_retry(3))
                    .with_attempt_timeout(Duration::from_millis(150)),
            )
            .build()
            .unwrap(),
    )
    .unwrap();
    c.check_credentials().await.unwrap();
    let on = chrono::NaiveDate::from_ymd_opt(2024, 6, 28).unwrap();
    let d = common::deal(Side::Buy, 100, Decimal::new(168_550, 2));
    let memory = MemoryJournal::new();
    let f = fake.clone();
    let hooked: Arc<dyn Journal> = Arc::new(Hooked {
        inner: memory.clone(),
        hook: Box::new(move || {
            f.fail_next(
                "portfolio_manage",
                Fault::Delay(Duration::from_millis(600)),
                1,
            )
        }),
    });
    let key = OperationKey::new("trades/2024-06-28/buy-1").unwrap();
    let err = c.deal_once(&hooked, &key, &d, on).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(fake.deals().len(), 1);

    let plain: Arc<dyn Journal> = Arc::new(memory.clone());
    let done = c.deal_once(&plain, &key, &d, on).await.unwrap();
    assert_eq!(done.how, How::Reconciled);
    assert_eq!(done.id, "10086/2024-06-28/600519/buy/#1");
    assert_eq!(fake.deals().len(), 1, "not recorded twice");
    let again = c.deal_once(&plain, &key, &d, on).await.unwrap();
    assert_eq!(again.how, How::Recorded);

    let other = common::deal(Side::Buy, 200, Decimal::new(168_550, 2));
    let e = c.deal_once(&plain, &key, &other, on).await.unwrap_err();
    assert!(e.is_journal_conflict(), "{e}");
    assert_eq!(fake.deals().len(), 1);
}

#[tokio::test]
async fn a_deal_that_never_arrived_is_sent_after_reconciliation() {
    let fake = Arc::new(common::fake().await);
    let c = common::client(&fake);
    c.check_credentials().await.unwrap();
    let on = chrono::NaiveDate::from_ymd_opt(2024, 6, 28).unwrap();
    let d = common::deal(Side::Sell, 40, Decimal::new(170_000, 2));
    let memory = MemoryJournal::new();
    let f = fake.clone();
    // The deal is refused by a server error before processing: unknown to the client.
    let hooked: Arc<dyn Journal> = Arc::new(Hooked {
        inner: memory.clone(),
        hook: Box::new(move || f.fail_next("portfolio_manage", Fault::code(-1000), 1)),
    });
    let key = OperationKey::new("trades/2024-06-28/sell-1").unwrap();
    let err = c.deal_once(&hooked, &key, &d, on).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(fake.deals().len(), 0);
    let plain: Arc<dyn Journal> = Arc::new(memory);
    let done = c.deal_once(&plain, &key, &d, on).await.unwrap();
    assert_eq!(done.how, How::ReconciledThenSent);
    assert_eq!(fake.deals().len(), 1);
}
