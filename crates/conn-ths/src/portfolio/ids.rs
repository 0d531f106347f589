//! How a portfolio and a write are referred to: [`PortfolioId`] and [`WriteReceipt`].

use std::fmt;

use conn_core::Result;
use serde_json::Value;

/// An iFinD portfolio id (`portfid`), a number on the wire as in the manual's examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortfolioId(u64);

impl PortfolioId {
    /// An id.
    pub fn new(id: u64) -> Self {
        Self(id)
    }

    /// Parses an id typed by a user.
    pub fn parse(s: &str) -> Result<Self> {
        s.trim().parse().map(Self).map_err(|_| {
            conn_core::Error::validation("portfid", format!("a portfolio number, got {s:?}"))
        })
    }

    /// The id.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for PortfolioId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What the server said about a write (`deal`, `cashacs`, `newportf`, imports).
#[derive(Debug, Clone, PartialEq)]
pub struct WriteReceipt {
    /// The server's `errmsg` (`"Success!"`).
    pub message: String,
    /// The whole answer (it may hold a new portfolio's id or an import's job id).
    pub answer: Value,
}
