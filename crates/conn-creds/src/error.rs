//! The crate's error type, and its mapping into [`conn_core::Error`].
//!
//! Every variant names the file (and, for integrity failures, the record) it is about, and keeps
//! the underlying I/O or decode error as its source. No variant ever carries a secret or the
//! encryption key: a key-format error says what was expected, never what was given.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::ENCRYPTION_KEY_VAR;

/// The expected form of an encryption key, quoted in every key-format error.
pub const KEY_FORM: &str =
    "32 random bytes, base64-encoded (standard or URL-safe alphabet), e.g. the output of `openssl rand -base64 32`";

/// Which record an integrity error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordRef {
    /// The file header (format fields, record count, whole-file tag).
    Header,
    /// A credential record.
    Credential {
        /// Platform.
        platform: String,
        /// Credential name.
        name: String,
    },
    /// A token record.
    Token {
        /// Platform.
        platform: String,
        /// Account.
        account: String,
    },
    /// A record whose framing could not be read, by position.
    Index {
        /// Zero-based record index.
        index: usize,
        /// Byte offset of the record in the file.
        offset: usize,
    },
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordRef::Header => f.write_str("the header"),
            RecordRef::Credential { platform, name } => write!(f, "credential {platform}/{name}"),
            RecordRef::Token { platform, account } => write!(f, "token {platform}/{account}"),
            RecordRef::Index { index, offset } => write!(f, "record #{index} at byte {offset}"),
        }
    }
}

/// Anything that can go wrong with the credential store.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum CredsError {
    /// A platform, credential name or account broke the naming rule.
    #[error("invalid `{field}`: {rule}")]
    InvalidName {
        /// Which argument (`platform`, `name`, `account`).
        field: &'static str,
        /// The rule it broke.
        rule: String,
    },

    /// A value is larger than the store accepts.
    #[error("invalid `{field}`: must be at most {limit} bytes")]
    TooLarge {
        /// Which argument.
        field: &'static str,
        /// The limit in bytes.
        limit: usize,
    },

    /// The encryption key is not 32 bytes of base64.
    #[error("encryption key from {origin} is malformed ({problem}); expected {KEY_FORM}")]
    KeyFormat {
        /// Where the key came from (the variable or the key file).
        origin: String,
        /// What is wrong with it (never the key itself).
        problem: String,
    },

    /// A store exists but no key was found to open it.
    #[error(
        "{store} exists but there is no encryption key: set {ENCRYPTION_KEY_VAR} or restore the key file {key_file}"
    )]
    KeyMissing {
        /// The store file.
        store: PathBuf,
        /// Where the key file was expected.
        key_file: PathBuf,
    },

    /// The key does not open this store.
    #[error(
        "wrong encryption key for {file}: the key from {key_origin} did not encrypt this store"
    )]
    WrongKey {
        /// The store file.
        file: PathBuf,
        /// Where the key came from.
        key_origin: String,
    },

    /// The file is damaged or was tampered with: a record failed authentication, the record list
    /// does not match the header, or the framing is broken.
    #[error("integrity check failed in {file}, {record}: {detail}")]
    Integrity {
        /// The store file.
        file: PathBuf,
        /// The record (or the header).
        record: RecordRef,
        /// What did not match.
        detail: String,
    },

    /// Not a store file, or a format version / algorithm this build does not know.
    #[error("{file} is not a store this version can read: {detail}")]
    UnsupportedFormat {
        /// The file.
        file: PathBuf,
        /// What was found.
        detail: String,
    },

    /// A stored token set did not decode.
    #[error("stored token {platform}/{account} in {file} does not decode: {detail}")]
    TokenDecode {
        /// The store file.
        file: PathBuf,
        /// Platform.
        platform: String,
        /// Account.
        account: String,
        /// Where decoding failed. The JSON error itself is not kept: serde_json quotes the
        /// offending value, which here would be a token.
        detail: String,
    },

    /// A file holding a secret can be read by other users.
    #[error("{path} is readable by other users (mode {mode:04o}); run `chmod 600 {path}`")]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// The path exists and is not a directory.
    #[error("{path} exists and is not a directory; the credential store needs a directory there")]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },

    /// The store directory (or a file in it) cannot be written.
    #[error("cannot write {path}: the credential store directory is not writable ({source})")]
    NotWritable {
        /// The path that could not be written.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// Any other I/O failure.
    #[error("cannot {op} {path}")]
    Io {
        /// What was being done (`read`, `rename`, `lock`…).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// A blocking task (file lock, fsync) panicked or was cancelled.
    #[error("credential store background task failed: {0}")]
    Task(String),

    /// This platform is not supported (the store needs Unix file modes and `flock`).
    #[error("the credential store is not supported on this platform: {0}")]
    Unsupported(&'static str),
}

impl CredsError {
    /// True for [`CredsError::WrongKey`].
    pub fn is_wrong_key(&self) -> bool {
        matches!(self, CredsError::WrongKey { .. })
    }

    /// True for [`CredsError::Integrity`].
    pub fn is_integrity(&self) -> bool {
        matches!(self, CredsError::Integrity { .. })
    }

    /// A short label for the kind of failure (used as the message of [`conn_core::Error::Store`],
    /// whose source is the full error).
    pub fn summary(&self) -> &'static str {
        match self {
            CredsError::InvalidName { .. } | CredsError::TooLarge { .. } => "invalid input",
            CredsError::KeyFormat { .. } => "malformed encryption key",
            CredsError::KeyMissing { .. } => "missing encryption key",
            CredsError::WrongKey { .. } => "wrong encryption key",
            CredsError::Integrity { .. } => "credential store integrity check failed",
            CredsError::UnsupportedFormat { .. } => "unreadable credential store format",
            CredsError::TokenDecode { .. } => "stored token does not decode",
            CredsError::InsecurePermissions { .. } => "insecure file permissions",
            CredsError::NotADirectory { .. } => "credential store path is not a directory",
            CredsError::NotWritable { .. } => "credential store is not writable",
            CredsError::Io { .. } => "credential store I/O failed",
            CredsError::Task(_) => "credential store task failed",
            CredsError::Unsupported(_) => "credential store unsupported on this platform",
        }
    }

    /// An I/O error, turned into [`CredsError::NotWritable`] when the OS says permission denied
    /// or read-only file system.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        let path = path.into();
        if is_not_writable(&source) && op_writes(op) {
            CredsError::NotWritable { path, source }
        } else {
            CredsError::Io { op, path, source }
        }
    }

    pub(crate) fn integrity(
        file: impl Into<PathBuf>,
        record: RecordRef,
        detail: impl Into<String>,
    ) -> Self {
        CredsError::Integrity {
            file: file.into(),
            record,
            detail: detail.into(),
        }
    }
}

fn op_writes(op: &str) -> bool {
    matches!(
        op,
        "create" | "write" | "rename" | "create directory" | "sync" | "set permissions of"
    )
}

fn is_not_writable(e: &io::Error) -> bool {
    if e.kind() == io::ErrorKind::PermissionDenied {
        return true;
    }
    #[cfg(unix)]
    {
        if e.raw_os_error() == Some(libc::EROFS) {
            return true;
        }
    }
    false
}

/// Result with [`CredsError`].
pub type CredsResult<T> = Result<T, CredsError>;

impl From<CredsError> for conn_core::Error {
    /// Name/size problems become validation errors, key problems config errors naming
    /// `API_CREDENTIAL_ENCRYPTION_KEY`, everything else a store error whose source is the
    /// [`CredsError`] itself (downcast it to match on the variant).
    fn from(e: CredsError) -> Self {
        match e {
            CredsError::InvalidName { field, rule } => conn_core::Error::validation(field, rule),
            CredsError::TooLarge { field, limit } => {
                conn_core::Error::validation(field, format!("must be at most {limit} bytes"))
            }
            e @ (CredsError::KeyFormat { .. } | CredsError::KeyMissing { .. }) => {
                conn_core::Error::config_var(ENCRYPTION_KEY_VAR, e.to_string())
            }
            other => conn_core::Error::store(other.summary(), other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn maps_into_core_errors_keeping_the_chain() {
        let e: conn_core::Error = CredsError::integrity(
            "/x/store.v1",
            RecordRef::Credential {
                platform: "douyin".into(),
                name: "app_secret".into(),
            },
            "authentication tag mismatch",
        )
        .into();
        assert!(matches!(e, conn_core::Error::Store(_)));
        let src = e.source().unwrap();
        let creds = src.downcast_ref::<CredsError>().unwrap();
        assert!(creds.is_integrity());
        assert!(
            src.to_string().contains("credential douyin/app_secret"),
            "{src}"
        );
        assert!(src.to_string().contains("/x/store.v1"), "{src}");

        let e: conn_core::Error = CredsError::KeyFormat {
            origin: ENCRYPTION_KEY_VAR.into(),
            problem: "decodes to 5 bytes".into(),
        }
        .into();
        let text = e.to_string();
        assert!(matches!(e, conn_core::Error::Config(_)));
        assert!(text.contains("API_CREDENTIAL_ENCRYPTION_KEY"), "{text}");
        assert!(text.contains("openssl rand -base64 32"), "{text}");

        let e: conn_core::Error = CredsError::InvalidName {
            field: "platform",
            rule: "lower-case".into(),
        }
        .into();
        assert!(matches!(e, conn_core::Error::Validation(_)));
    }

    #[test]
    fn permission_denied_on_write_is_not_writable() {
        let e = CredsError::io(
            "create",
            "/ro/store.v1",
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert!(matches!(e, CredsError::NotWritable { .. }));
        assert!(e.to_string().contains("not writable"));
        let e = CredsError::io(
            "read",
            "/ro/store.v1",
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert!(matches!(e, CredsError::Io { .. }));
    }
}
