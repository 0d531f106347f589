//! What the journal records about one keyed create, and the one admission rule every journal
//! applies when a call arrives for a key.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::JournalError;
use super::key::OperationKey;

/// Where a keyed create stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Recorded durably before the request left; still there means the create was interrupted
    /// (a crash, an unknown outcome) or is being sent right now by the key's holder.
    Sending,
    /// The platform created it: `id` is its item / order / deal id.
    Done {
        /// The created object's id.
        id: String,
    },
    /// A definite failure: the platform did not create it. A later call with the same key
    /// sends again (nothing exists to duplicate); the failure stays visible until then.
    Failed {
        /// The platform's code, when there was one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        /// The error's text (secret-free, as every error's `Display` is).
        message: String,
    },
}

impl State {
    /// A short name: `sending`, `done`, `failed`.
    pub fn name(&self) -> &'static str {
        match self {
            State::Sending => "sending",
            State::Done { .. } => "done",
            State::Failed { .. } => "failed",
        }
    }
}

/// One keyed create as the journal records it.
///
/// ```
/// use conn_core::journal::{request_digest, Entry, OperationKey, State};
///
/// let key = OperationKey::new("campaign-42/video-1").unwrap();
/// let digest = request_digest(&serde_json::json!({"text": "hello", "video_id": "v1"}));
/// let e = Entry::new(key, "douyin", "publish_video", "_000open_id", digest);
/// assert_eq!(e.state, State::Sending);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The caller's key.
    pub key: OperationKey,
    /// Platform name (`douyin`, `ths`, …).
    pub platform: String,
    /// Operation name (`publish_video`, `deal`, …).
    pub operation: String,
    /// The account it acts for (an `open_id`, a portfolio id, a profile name).
    pub account: String,
    /// Lowercase hex SHA-256 of the canonical request ([`request_digest`]).
    pub request_digest: String,
    /// Where it stands.
    #[serde(flatten)]
    pub state: State,
    /// Facts recorded on the way that reconciliation needs (a Douyin `video_id` once uploaded,
    /// an ERP idempotency key); written durably before the request that uses them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub detail: BTreeMap<String, String>,
    /// How many calls took this key to the sending state (1 for a first send).
    pub attempts: u32,
    /// First recorded, Unix milliseconds.
    pub created_at_ms: i64,
    /// Last changed, Unix milliseconds.
    pub updated_at_ms: i64,
}

/// Now in Unix milliseconds (0 for a clock before 1970, which only makes entries look old).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Entry {
    /// A new entry in the [`State::Sending`] state, stamped now.
    pub fn new(
        key: OperationKey,
        platform: impl Into<String>,
        operation: impl Into<String>,
        account: impl Into<String>,
        request_digest: String,
    ) -> Self {
        let now = now_ms();
        Self {
            key,
            platform: platform.into(),
            operation: operation.into(),
            account: account.into(),
            request_digest,
            state: State::Sending,
            detail: BTreeMap::new(),
            attempts: 1,
            created_at_ms: now,
            updated_at_ms: now,
        }
    }

    /// A recorded detail.
    pub fn detail(&self, name: &str) -> Option<&str> {
        self.detail.get(name).map(String::as_str)
    }

    /// The created id when [`State::Done`].
    pub fn done_id(&self) -> Option<&str> {
        match &self.state {
            State::Done { id } => Some(id),
            _ => None,
        }
    }
}

/// Lowercase hex SHA-256 of the canonical JSON of `request`: object keys sorted at every
/// depth, no whitespace, strings escaped as `serde_json` does. Two requests that differ only
/// in key order have one digest; any other difference changes it.
///
/// ```
/// use conn_core::journal::request_digest;
/// use serde_json::json;
///
/// assert_eq!(request_digest(&json!({"a": 1, "b": [true, null]})),
///            request_digest(&json!({"b": [true, null], "a": 1})));
/// assert_ne!(request_digest(&json!({"a": 1})), request_digest(&json!({"a": 2})));
/// ```
pub fn request_digest(request: &Value) -> String {
    let mut out = String::new();
    canonical(request, &mut out);
    hex::encode(Sha256::digest(out.as_bytes()))
}

/// The canonical text [`request_digest`] hashes.
pub fn canonical_json(request: &Value) -> String {
    let mut out = String::new();
    canonical(request, &mut out);
    out
}

fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(x) = m.get(k) {
                    canonical(x, out);
                }
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// What a journal does with a call for a key, decided by [`admit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Nothing usable was recorded: write the returned entry (sending) and send.
    Fresh(Entry),
    /// A result is recorded: return it without sending.
    Recorded(Entry),
    /// A create was interrupted: write the returned entry (its `attempts` counted) and
    /// reconcile before anything else.
    InFlight(Entry),
}

/// The one admission rule every [`Journal`](super::Journal) applies, under its lock and while
/// it holds the key: `existing` is what is recorded for `incoming.key`.
///
/// - nothing recorded, or a definite failure → [`Admission::Fresh`];
/// - done → [`Admission::Recorded`];
/// - sending (the last holder is gone) → [`Admission::InFlight`];
/// - a different platform, operation, account or request digest → [`JournalError::Conflict`],
///   and nothing changes.
pub fn admit(existing: Option<&Entry>, incoming: Entry) -> Result<Admission, JournalError> {
    let Some(e) = existing else {
        return Ok(Admission::Fresh(incoming));
    };
    if e.request_digest != incoming.request_digest
        || e.platform != incoming.platform
        || e.operation != incoming.operation
        || e.account != incoming.account
    {
        return Err(JournalError::Conflict {
            key: e.key.to_string(),
            recorded: format!(
                "{}.{} for {} (digest {})",
                e.platform,
                e.operation,
                e.account,
                short(&e.request_digest)
            ),
            requested: format!(
                "{}.{} for {} (digest {})",
                incoming.platform,
                incoming.operation,
                incoming.account,
                short(&incoming.request_digest)
            ),
        });
    }
    let now = now_ms();
    match &e.state {
        State::Done { .. } => Ok(Admission::Recorded(e.clone())),
        State::Failed { .. } => {
            let mut next = e.clone();
            next.state = State::Sending;
            next.attempts = e.attempts.saturating_add(1);
            next.updated_at_ms = now;
            Ok(Admission::Fresh(next))
        }
        State::Sending => {
            let mut next = e.clone();
            next.attempts = e.attempts.saturating_add(1);
            next.updated_at_ms = now;
            Ok(Admission::InFlight(next))
        }
    }
}

fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn sha256_matches_the_fips_180_2_example() {
        // FIPS 180-2, appendix B.1: the published SHA-256 of "abc".
        assert_eq!(
            hex::encode(Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn canonical_form_follows_rfc_8785_for_ascii_objects() {
        // RFC 8785 §3.2.3 sorts members by key; the nested example of the RFC's appendix
        // reduces, for ASCII keys and integers, to this text.
        let v = json!({"b": [1, {"d": true, "c": null}], "a": "x\"y"});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":"x\"y","b":[1,{"c":null,"d":true}]}"#
        );
        assert_eq!(
            request_digest(&v),
            hex::encode(Sha256::digest(
                br#"{"a":"x\"y","b":[1,{"c":null,"d":true}]}"#
            ))
        );
    }

    fn entry(digest: &str) -> Entry {
        Entry::new(
            OperationKey::new("k-1").unwrap(),
            "p",
            "op",
            "acct",
            digest.to_owned(),
        )
    }

    #[test]
    fn admission_table() {
        let fresh = entry("d1");
        assert!(matches!(
            admit(None, fresh.clone()).unwrap(),
            Admission::Fresh(_)
        ));

        let mut done = fresh.clone();
        done.state = State::Done { id: "i".into() };
        assert_eq!(
            admit(Some(&done), fresh.clone()).unwrap(),
            Admission::Recorded(done.clone())
        );

        let Admission::InFlight(e) = admit(Some(&fresh), fresh.clone()).unwrap() else {
            panic!("sending must be in flight")
        };
        assert_eq!(e.attempts, 2);

        let mut failed = fresh.clone();
        failed.state = State::Failed {
            code: Some("2114007".into()),
            message: "m".into(),
        };
        let Admission::Fresh(e) = admit(Some(&failed), fresh.clone()).unwrap() else {
            panic!("a definite failure may be sent again")
        };
        assert_eq!((e.state, e.attempts), (State::Sending, 2));

        for other in [
            entry("d2"),
            Entry {
                account: "b".into(),
                ..fresh.clone()
            },
            Entry {
                operation: "op2".into(),
                ..fresh.clone()
            },
            Entry {
                platform: "q".into(),
                ..fresh.clone()
            },
        ] {
            let err = admit(Some(&done), other).unwrap_err();
            assert!(matches!(err, JournalError::Conflict { .. }), "{err}");
        }
    }

    #[test]
    fn entries_round_trip_through_json() {
        let mut e = entry("d");
        e.detail.insert("video_id".into(), "v.1".into());
        e.state = State::Failed {
            code: None,
            message: "no".into(),
        };
        let text = serde_json::to_string(&e).unwrap();
        assert!(text.contains("\"state\":\"failed\""), "{text}");
        assert_eq!(serde_json::from_str::<Entry>(&text).unwrap(), e);
    }
}
