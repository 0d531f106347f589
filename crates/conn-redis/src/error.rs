//! The crate's error type and its mapping onto conn-core's.

use std::time::Duration;

/// What went wrong with shared state in Redis.
///
/// Every variant names the operation or the record; none carries a token, a key or the URL's
/// password. Converted into [`conn_core::Error`] (a config error for [`Config`](Self::Config),
/// a store error otherwise, with this error as its source so callers can downcast it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisError {
    /// A setting is missing or malformed.
    #[error("{var}: {problem}")]
    Config {
        /// The environment variable (or builder setting) at fault.
        var: &'static str,
        /// What is wrong and what is expected.
        problem: String,
    },
    /// Redis could not be reached or answered with an error. Nothing was changed locally:
    /// callers get this instead of a silent fallback to per-process state.
    #[error("redis {op} failed: {source}")]
    Unavailable {
        /// The operation (`token load`, `lease acquire`, `limiter acquire`...).
        op: &'static str,
        /// The client's error.
        #[source]
        source: redis::RedisError,
    },
    /// A write under a lease was refused: the lease expired (or was taken over) or the record
    /// changed since the lease was taken, so another process may hold a newer token. Nothing
    /// was written.
    #[error("token {record}: write refused, {reason}; nothing was written")]
    Fenced {
        /// The token record (`platform/account`).
        record: String,
        /// Why (`the lease expired or was taken over`, `the record changed since...`).
        reason: &'static str,
    },
    /// The refresh lease of a token could not be taken in time.
    #[error("token {record}: the refresh lease was not free within {waited:?}")]
    LockTimeout {
        /// The token record (`platform/account`).
        record: String,
        /// How long the caller waited.
        waited: Duration,
    },
    /// A stored token record could not be decrypted or decoded: another encryption key, a
    /// record moved between names, or damage. The record is left as it is.
    #[error("token {record}: {problem}")]
    Record {
        /// The token record (`platform/account`).
        record: String,
        /// What is wrong.
        problem: String,
    },
    /// Redis answered something this crate's scripts never return.
    #[error("redis {op}: unexpected reply ({detail})")]
    Protocol {
        /// The operation.
        op: &'static str,
        /// What was unexpected.
        detail: String,
    },
}

impl RedisError {
    pub(crate) fn unavailable(op: &'static str) -> impl FnOnce(redis::RedisError) -> Self {
        move |source| Self::Unavailable { op, source }
    }

    /// True when Redis could not be reached or timed out (as opposed to a refused write or a
    /// bad record): the condition that ends when Redis comes back.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    /// True for [`Fenced`](Self::Fenced).
    pub fn is_fenced(&self) -> bool {
        matches!(self, Self::Fenced { .. })
    }

    /// Finds a `RedisError` in the source chain of a conn-core error.
    pub fn find(error: &conn_core::Error) -> Option<&RedisError> {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = cur {
            if let Some(found) = e.downcast_ref::<RedisError>() {
                return Some(found);
            }
            cur = e.source();
        }
        None
    }
}

impl From<RedisError> for conn_core::Error {
    fn from(e: RedisError) -> Self {
        match e {
            RedisError::Config { var, problem } => conn_core::Error::config_var(var, problem),
            other => conn_core::Error::store(other.to_string(), other),
        }
    }
}

/// Results of this crate.
pub type Result<T, E = RedisError> = std::result::Result<T, E>;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn converts_to_conn_core_and_is_found_again() {
        let e: conn_core::Error = RedisError::Fenced {
            record: "douyin/acct".into(),
            reason: "the lease expired or was taken over",
        }
        .into();
        assert!(e.to_string().contains("douyin/acct"), "{e}");
        assert!(RedisError::find(&e).unwrap().is_fenced());

        let e: conn_core::Error = RedisError::Config {
            var: "REDIS_URL",
            problem: "not a redis:// or rediss:// URL".into(),
        }
        .into();
        assert!(matches!(e, conn_core::Error::Config(_)));
        assert!(e.to_string().contains("REDIS_URL"), "{e}");
    }
}
