//! The responder every mock of the fake shares, and the lenient readers of request values
//! its routes, profiles and checks all use (so none of them imports another for these).

use std::sync::Arc;

use rust_decimal::Decimal;
use serde_json::Value;

use super::Shared;

/// The responder shared by every mock of the fake; its handlers are split by concern over
/// `routes` (the own profile and faults), `profiles` (the built-in ERPs) and `verify` (auth).
pub(crate) struct Responder(pub(crate) Arc<Shared>);

/// A count sent as a number or a numeric string; the rule is conn-core's, as in the client.
pub(super) fn number(v: Option<&Value>) -> Option<u64> {
    conn_core::lenient::opt_u64(v?).ok().flatten()
}

/// An amount sent as a number or a decimal string; the rule is conn-core's, as in the client.
pub(super) fn decimal(v: Option<&Value>) -> Option<Decimal> {
    conn_core::lenient::opt_decimal(v?).ok().flatten()
}
