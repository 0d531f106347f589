//! What the fake remembers: published items, idempotency keys, pending faults, counters.

use std::collections::HashMap;

use conn_core::fake::{FaultTarget, Faults};

use serde_json::Value;

use crate::model::Content;

/// One item the fake has published.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeItem {
    /// The id the fake gave it.
    pub id: String,
    /// The content as read back from the request through the profile's mapping.
    pub content: Content,
    /// The request body as received, with the Xiaohongshu signing fields removed.
    pub raw: Value,
    /// The idempotency key it was published with, if any.
    pub idempotency_key: Option<String>,
}

/// Counters the fake serves for an item (all 0 until set with
/// [`FakeContent::set_stats`](super::FakeContent::set_stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FakeStats {
    /// Views.
    pub views: u64,
    /// Likes.
    pub likes: u64,
    /// Comments.
    pub comments: u64,
    /// Shares.
    pub shares: u64,
    /// Favourites.
    pub favorites: u64,
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) items: Vec<FakeItem>,
    pub(super) stats: HashMap<String, FakeStats>,
    /// Idempotency key → the first answer (status, body).
    pub(super) by_key: HashMap<String, (u16, Value)>,
    pub(super) faults: Faults<FakeOp>,
    pub(super) requests: usize,
    pub(super) publish_requests: usize,
    pub(super) stats_requests: usize,
    pub(super) auth_failures: usize,
    pub(super) next_id: u64,
}

/// The operations of a content fake a fault can be queued for.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FakeOp {
    /// The publish endpoint.
    Publish,
    /// The stats endpoint.
    Stats,
    /// Any request (also one the profile has no route for).
    Any,
}

impl FaultTarget for FakeOp {
    fn covers(&self, op: &Self) -> bool {
        self == op || *self == FakeOp::Any
    }
}
