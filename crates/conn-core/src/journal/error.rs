//! Journal failures.

use std::time::Duration;

use crate::error::{BoxError, Error};

/// A journal failure. It converts into [`Error::Store`] keeping itself as the source;
/// [`Error::journal_error`] finds it again.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The key was used before for a different request: nothing was sent.
    #[error("operation key `{key}` was used for {recorded}; this call is {requested}: choose a new key, nothing was sent")]
    Conflict {
        /// The key.
        key: String,
        /// What the journal holds (platform.operation, account, digest prefix).
        recorded: String,
        /// What this call asked.
        requested: String,
    },
    /// Another caller held the key for longer than the journal waits.
    #[error("operation key `{key}` is being sent by another caller (waited {waited:?}); try again later")]
    Busy {
        /// The key.
        key: String,
        /// How long this call waited.
        waited: Duration,
    },
    /// The journal file or record cannot be read as a journal; it is left untouched.
    #[error("journal {path} is damaged ({detail}); it was not changed: fix or move it")]
    Corrupt {
        /// File or record.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The file is something else (another program's, or a newer format).
    #[error("{path} is not a journal this version can use ({found}); it was not changed")]
    Foreign {
        /// File.
        path: String,
        /// What was found instead.
        found: String,
    },
    /// No entry for a key the caller expected to hold.
    #[error("operation key `{key}` has no journal entry")]
    Missing {
        /// The key.
        key: String,
    },
    /// A local file operation failed.
    #[error("journal: could not {operation} {path}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The backend (a database, Redis…) failed.
    #[error("journal backend: {message}")]
    Backend {
        /// What failed.
        message: String,
        /// The cause.
        #[source]
        source: Option<BoxError>,
    },
}

impl JournalError {
    /// A backend failure with a cause.
    pub fn backend(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Backend {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// True for [`JournalError::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }
}

impl From<JournalError> for Error {
    fn from(e: JournalError) -> Self {
        Error::store(e.to_string(), e)
    }
}

impl Error {
    /// The [`JournalError`] behind a store error, when a journal raised it.
    ///
    /// ```
    /// use conn_core::journal::JournalError;
    ///
    /// let e = conn_core::Error::from(JournalError::Missing { key: "k".into() });
    /// assert!(matches!(e.journal_error(), Some(JournalError::Missing { .. })));
    /// ```
    pub fn journal_error(&self) -> Option<&JournalError> {
        match self {
            Error::Store(s) => s
                .source
                .as_deref()
                .and_then(|src| src.downcast_ref::<JournalError>()),
            Error::Shared(inner) => inner.journal_error(),
            _ => None,
        }
    }

    /// True when a journal refused the call because its key was used for another request.
    pub fn is_journal_conflict(&self) -> bool {
        self.journal_error().is_some_and(JournalError::is_conflict)
    }
}
