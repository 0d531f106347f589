//! The one driver every platform's keyed create goes through: each platform supplies only
//! `send` (the create) and `reconcile` (idempotent reads that find an interrupted create).

use std::future::Future;
use std::sync::Arc;

use super::entry::{Entry, State};
use super::{Begin, Claim, Journal, JournalError, OperationKey};
use crate::error::{Error, OutcomeUnknown};

/// What reconciling an interrupted create found. Never a guess: a platform answers `NotDone`
/// only when what it read proves the create absent.
#[derive(Debug)]
pub enum Reconciled {
    /// The create took effect: its id.
    Done(String),
    /// Conclusively absent: safe to send.
    NotDone,
    /// Cannot tell: `checked` says what was read and why it does not settle it.
    Unknown {
        /// What was checked ("the 200 newest items of _000x: no video_id v.1, but the list
        /// ends before the create's time").
        checked: String,
        /// The failure that stopped the check, if one did.
        cause: Option<Error>,
    },
}

/// How [`run_once`] got its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Sent now.
    Sent,
    /// Recorded by an earlier call; nothing sent.
    Recorded,
    /// An interrupted create was found on the platform; nothing sent.
    Reconciled,
    /// An interrupted create was conclusively absent, then sent now.
    ReconciledThenSent,
}

/// A keyed create that is done.
#[derive(Debug, Clone)]
pub struct Completed {
    /// The created object's id.
    pub id: String,
    /// The journal entry (state done).
    pub entry: Entry,
    /// How the result was obtained.
    pub how: How,
}

/// What `send` gets: the entry as recorded (with any detail an earlier, interrupted attempt
/// noted) and a way to record details durably before the request that uses them.
#[derive(Debug)]
pub struct Attempt {
    journal: Arc<dyn Journal>,
    claim: Arc<Claim>,
    entry: Entry,
}

impl Attempt {
    /// The entry before this attempt (its `detail` holds what earlier attempts noted).
    pub fn entry(&self) -> &Entry {
        &self.entry
    }

    /// The key.
    pub fn key(&self) -> &OperationKey {
        self.claim.key()
    }

    /// Records `name = value` durably; returns once it is written. Call it before sending the
    /// request whose reconciliation needs the value.
    pub async fn note(&self, name: &str, value: &str) -> Result<(), Error> {
        self.journal.note(&self.claim, name, value).await?;
        Ok(())
    }
}

/// Runs one keyed create exactly once (see the [module docs](super)).
///
/// `reconcile` is called only when the journal finds the key `sending` (an earlier call was
/// interrupted); it must use idempotent reads only. `send` performs the create and returns the
/// created id. A definite failure of `send` is recorded as [`State::Failed`] and returned; an
/// unknown outcome leaves the entry `sending` and is returned with the key added to its
/// context, so the next call reconciles.
///
/// A journal conflict (same key, another request) is returned before anything is sent; so is
/// any journal failure before sending, since without a durable record sending is not safe.
pub async fn run_once<R, RF, S, SF>(
    journal: &Arc<dyn Journal>,
    entry: Entry,
    reconcile: R,
    send: S,
) -> Result<Completed, Error>
where
    R: FnOnce(Entry) -> RF,
    RF: Future<Output = Result<Reconciled, Error>>,
    S: FnOnce(Attempt) -> SF,
    SF: Future<Output = Result<String, Error>>,
{
    let key = entry.key.clone();
    let (claim, recorded, reconciled) = match journal.begin(entry).await? {
        Begin::Recorded(e) => {
            let id = e.done_id().map(str::to_owned).ok_or_else(|| {
                Error::from(JournalError::Corrupt {
                    path: key.to_string(),
                    detail: format!("recorded as {} but admitted as done", e.state.name()),
                })
            })?;
            return Ok(Completed {
                id,
                entry: e,
                how: How::Recorded,
            });
        }
        Begin::Fresh(claim) => {
            let e = journal.get(&key).await?.ok_or(JournalError::Missing {
                key: key.to_string(),
            })?;
            (claim, e, false)
        }
        Begin::InFlight(e, claim) => {
            let platform = e.platform.clone();
            let operation = e.operation.clone();
            match reconcile(e.clone()).await {
                Ok(Reconciled::Done(id)) => {
                    let entry = journal
                        .finish(claim, State::Done { id: id.clone() })
                        .await?;
                    tracing::info!(key = %key, id = %id, "interrupted create found on the platform");
                    return Ok(Completed {
                        id,
                        entry,
                        how: How::Reconciled,
                    });
                }
                Ok(Reconciled::NotDone) => (claim, e, true),
                Ok(Reconciled::Unknown { checked, cause }) => {
                    return Err(unknown(&key, platform, operation, checked, cause));
                }
                Err(cause) => {
                    return Err(unknown(
                        &key,
                        platform,
                        operation,
                        "reconciliation failed before it could tell".into(),
                        Some(cause),
                    ));
                }
            }
        }
    };
    let claim = Arc::new(claim);
    let attempt = Attempt {
        journal: journal.clone(),
        claim: claim.clone(),
        entry: recorded,
    };
    let result = send(attempt).await;
    // `send` has returned, so its `Attempt` (the only other owner) is gone unless the caller
    // moved it somewhere that outlives the call; then the hold lasts as long as that does.
    let Ok(claim) = Arc::try_unwrap(claim) else {
        return Err(Error::from(JournalError::Busy {
            key: key.to_string(),
            waited: std::time::Duration::ZERO,
        }));
    };
    match result {
        Ok(id) => {
            let entry = journal
                .finish(claim, State::Done { id: id.clone() })
                .await
                .map_err(|e| {
                    // The create succeeded; the entry stays `sending`, so the next call with
                    // this key reconciles and finds `id` instead of sending again.
                    Error::store(
                        format!("`{key}` was created as {id} but the journal could not record it; the next call with this key will find it"),
                        e,
                    )
                })?;
            Ok(Completed {
                id,
                entry,
                how: if reconciled {
                    How::ReconciledThenSent
                } else {
                    How::Sent
                },
            })
        }
        Err(Error::OutcomeUnknown(mut o)) => {
            // Leave `sending`: dropping the claim lets the next caller in to reconcile.
            drop(claim);
            o.context.push(("operation_key".into(), key.to_string()));
            Err(Error::OutcomeUnknown(o))
        }
        Err(e) => {
            let state = State::Failed {
                code: e.platform_code().map(str::to_owned),
                message: e.to_string(),
            };
            if let Err(je) = journal.finish(claim, state).await {
                // Still `sending`: the next call reconciles, which finds nothing and sends.
                tracing::warn!(key = %key, error = %je, "could not record a definite failure");
            }
            Err(e)
        }
    }
}

/// Settles an interrupted keyed create without sending anything (an operator's
/// `journal reconcile`): for an entry found `sending`, runs `reconcile`; done is recorded as
/// done, conclusively absent as a definite failure (so the next keyed call sends again), and
/// unknown is returned as [`Error::OutcomeUnknown`] with what was checked, leaving `sending`.
/// Entries in any other state, or none, are returned as they are.
pub async fn settle<R, RF>(
    journal: &Arc<dyn Journal>,
    key: &OperationKey,
    reconcile: R,
) -> Result<Option<Entry>, Error>
where
    R: FnOnce(Entry) -> RF,
    RF: Future<Output = Result<Reconciled, Error>>,
{
    let Some(e) = journal.get(key).await? else {
        return Ok(None);
    };
    if e.state != State::Sending {
        return Ok(Some(e));
    }
    match journal.begin(e).await? {
        Begin::Recorded(e) => Ok(Some(e)),
        // Finished as a failure meanwhile (and now `sending` again, unheld once dropped): the
        // next keyed call reconciles it.
        Begin::Fresh(claim) => {
            drop(claim);
            Ok(journal.get(key).await?)
        }
        Begin::InFlight(e, claim) => {
            let (platform, operation) = (e.platform.clone(), e.operation.clone());
            match reconcile(e).await {
                Ok(Reconciled::Done(id)) => Ok(Some(journal.finish(claim, State::Done { id }).await?)),
                Ok(Reconciled::NotDone) => Ok(Some(
                    journal
                        .finish(
                            claim,
                            State::Failed {
                                code: None,
                                message: "reconciled: the platform has no such item; the next keyed call sends it".into(),
                            },
                        )
                        .await?,
                )),
                Ok(Reconciled::Unknown { checked, cause }) => {
                    Err(unknown(key, platform, operation, checked, cause))
                }
                Err(cause) => Err(unknown(
                    key,
                    platform,
                    operation,
                    "reconciliation failed before it could tell".into(),
                    Some(cause),
                )),
            }
        }
    }
}

fn unknown(
    key: &OperationKey,
    platform: String,
    operation: String,
    checked: String,
    cause: Option<Error>,
) -> Error {
    let source = cause.unwrap_or_else(|| {
        Error::store_msg(format!(
            "`{key}` was interrupted while sending and reconciliation could not settle it"
        ))
    });
    OutcomeUnknown::new(platform, operation, source)
        .with_context(vec![
            ("operation_key".into(), key.to_string()),
            ("checked".into(), checked),
        ])
        .into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::journal::{request_digest, MemoryJournal};

    fn journal() -> (MemoryJournal, Arc<dyn Journal>) {
        let m = MemoryJournal::new();
        (m.clone(), Arc::new(m))
    }

    fn entry(body: serde_json::Value) -> Entry {
        Entry::new(
            OperationKey::new("job-1").unwrap(),
            "p",
            "create",
            "acct",
            request_digest(&body),
        )
    }

    fn outcome_unknown() -> Error {
        OutcomeUnknown::new("p", "create", Error::store_msg("timeout after send")).into()
    }

    #[tokio::test]
    async fn unknown_then_reconciled_done_sends_once() {
        let (_, j) = journal();
        let sent = AtomicUsize::new(0);
        let body = serde_json::json!({"x": 1});
        let err = run_once(
            &j,
            entry(body.clone()),
            |_| async { unreachable!() },
            |_| async {
                sent.fetch_add(1, Ordering::SeqCst);
                Err(outcome_unknown())
            },
        )
        .await
        .unwrap_err();
        let Error::OutcomeUnknown(o) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(o.context("operation_key"), Some("job-1"));

        let done = run_once(
            &j,
            entry(body),
            |e| async move {
                assert_eq!(e.attempts, 2);
                Ok(Reconciled::Done("item-9".into()))
            },
            |_| async { unreachable!("found, not sent") },
        )
        .await
        .unwrap();
        assert_eq!((done.id.as_str(), done.how), ("item-9", How::Reconciled));
        assert_eq!(sent.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn reconcile_unknown_or_failing_never_sends() {
        let (m, j) = journal();
        let body = serde_json::json!({"x": 1});
        let _ = run_once(
            &j,
            entry(body.clone()),
            |_| async { unreachable!() },
            |_| async { Err(outcome_unknown()) },
        )
        .await;
        for round in 0..2 {
            let err = run_once(
                &j,
                entry(body.clone()),
                |_| async move {
                    if round == 0 {
                        Ok(Reconciled::Unknown {
                            checked: "list ended early".into(),
                            cause: None,
                        })
                    } else {
                        Err(Error::store_msg("list failed"))
                    }
                },
                |_| async { unreachable!("never sent on an unknown reconciliation") },
            )
            .await
            .unwrap_err();
            let Error::OutcomeUnknown(o) = &err else {
                panic!("{err:?}")
            };
            assert!(o.context("checked").is_some());
        }
        assert_eq!(m.list().await.unwrap()[0].state, State::Sending);
    }

    #[tokio::test]
    async fn not_done_sends_with_the_details_noted_before() {
        let (_, j) = journal();
        let body = serde_json::json!({"x": 1});
        let _ = run_once(
            &j,
            entry(body.clone()),
            |_| async { unreachable!() },
            |a| async move {
                a.note("video_id", "v-1").await?;
                Err(outcome_unknown())
            },
        )
        .await;
        let done = run_once(
            &j,
            entry(body),
            |e| async move {
                assert_eq!(e.detail("video_id"), Some("v-1"));
                Ok(Reconciled::NotDone)
            },
            |a| async move {
                assert_eq!(a.entry().detail("video_id"), Some("v-1"));
                Ok("item".to_owned())
            },
        )
        .await
        .unwrap();
        assert_eq!(done.how, How::ReconciledThenSent);
    }

    #[tokio::test]
    async fn a_definite_failure_is_recorded_and_sent_again_later() {
        let (_, j) = journal();
        let body = serde_json::json!({"x": 1});
        let err = run_once(
            &j,
            entry(body.clone()),
            |_| async { unreachable!() },
            |_| async { Err(Error::validation("text", "too long")) },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Validation(_)));
        assert!(matches!(
            j.get(&OperationKey::new("job-1").unwrap())
                .await
                .unwrap()
                .unwrap()
                .state,
            State::Failed { .. }
        ));
        let ok = run_once(
            &j,
            entry(body),
            |_| async { unreachable!("failed is not in flight") },
            |_| async { Ok("item".to_owned()) },
        )
        .await
        .unwrap();
        assert_eq!((ok.how, ok.entry.attempts), (How::Sent, 2));
    }

    #[tokio::test]
    async fn same_key_other_request_conflicts_and_sends_nothing() {
        let (_, j) = journal();
        run_once(
            &j,
            entry(serde_json::json!({"x": 1})),
            |_| async { unreachable!() },
            |_| async { Ok("item".to_owned()) },
        )
        .await
        .unwrap();
        let err = run_once(
            &j,
            entry(serde_json::json!({"x": 2})),
            |_| async { unreachable!() },
            |_| async { unreachable!("a conflict sends nothing") },
        )
        .await
        .unwrap_err();
        assert!(err.is_journal_conflict(), "{err}");
        assert!(err.to_string().contains("job-1"), "{err}");
    }

    #[tokio::test]
    async fn settle_records_what_reconciliation_finds_and_sends_nothing() {
        let (_, j) = journal();
        let body = serde_json::json!({"x": 1});
        let k = OperationKey::new("job-1").unwrap();
        assert!(settle(&j, &k, |_| async { unreachable!() })
            .await
            .unwrap()
            .is_none());
        let _ = run_once(
            &j,
            entry(body.clone()),
            |_| async { unreachable!() },
            |_| async { Err(outcome_unknown()) },
        )
        .await;
        let err = settle(&j, &k, |_| async {
            Ok(Reconciled::Unknown {
                checked: "c".into(),
                cause: None,
            })
        })
        .await
        .unwrap_err();
        assert!(err.is_outcome_unknown());
        let e = settle(&j, &k, |_| async { Ok(Reconciled::NotDone) })
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(e.state, State::Failed { .. }));
        // A settled "not done" is sent by the next keyed call, without reconciling again.
        let done = run_once(
            &j,
            entry(body),
            |_| async { unreachable!() },
            |_| async { Ok("i".to_owned()) },
        )
        .await
        .unwrap();
        assert_eq!(done.how, How::Sent);
        let e = settle(&j, &k, |_| async { unreachable!("done is not reconciled") })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(e.done_id(), Some("i"));
    }
}
