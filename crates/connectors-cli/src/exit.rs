//! Exit codes: one per class of failure, derived from `conn_core::Error::category()`, so a
//! script can tell "fix your configuration" from "the platform said no" from "try again".

use std::fmt;

use connectors::core::error::Category;
use connectors::core::Error;

/// Success.
pub const OK: u8 = 0;
/// Anything not covered below.
pub const OTHER: u8 = 1;
/// Bad command line (clap's own code).
pub const USAGE: u8 = 2;
/// Configuration or credentials missing or invalid: the message names the variable.
pub const CONFIG: u8 = 3;
/// Authentication or authorization failed (expired or revoked tokens, missing scopes,
/// re-authorization required, an OAuth state mismatch).
pub const AUTH: u8 = 4;
/// The platform returned an error (its code and log id are printed), or an answer that could
/// not be read.
pub const API: u8 = 5;
/// Network failure or timeout.
pub const NETWORK: u8 = 6;
/// Invalid input, rejected before any request: the message names the field and the rule.
pub const INVALID_INPUT: u8 = 7;
/// The request may or may not have taken effect (it was not replayed); check before retrying.
pub const OUTCOME_UNKNOWN: u8 = 8;
/// The encrypted credential store failed (wrong key, damage, permissions).
pub const STORE: u8 = 9;

/// The exit-code table shown at the end of `connectors --help`.
pub const HELP: &str = "\
Exit codes:
  0  ok
  1  anything else
  2  usage: the command line is invalid
  3  config: a setting or credential is missing or invalid (the variable is named)
  4  auth: authorization failed or must be renewed (run `connectors douyin login` again)
  5  API: the platform returned an error (its code and log id are printed)
  6  network: connection failure or timeout
  7  invalid input: rejected before sending (the field and the rule are named)
  8  outcome unknown: the request may have taken effect; check before retrying
  9  store: the encrypted credential store failed (wrong key, damage, permissions)";

/// The exit code for a connector error.
pub fn code_for(e: &Error) -> u8 {
    match e.category() {
        Category::Config => CONFIG,
        Category::Validation => INVALID_INPUT,
        Category::Auth => AUTH,
        Category::Api | Category::Decode => API,
        Category::Network => NETWORK,
        Category::Unknown => OUTCOME_UNKNOWN,
        Category::Store => STORE,
        _ => OTHER,
    }
}

/// A class name for machine output.
pub fn class_name(code: u8) -> &'static str {
    match code {
        OK => "ok",
        USAGE => "usage",
        CONFIG => "config",
        AUTH => "auth",
        API => "api",
        NETWORK => "network",
        INVALID_INPUT => "invalid_input",
        OUTCOME_UNKNOWN => "outcome_unknown",
        STORE => "store",
        _ => "other",
    }
}

/// A command's failure: a connector error, or a failure of the tool itself with its class.
#[derive(Debug)]
pub enum CliError {
    /// From a connector or the store; the exit code follows its category.
    Core(Error),
    /// A command run by the tool (`connectors sandbox -- cargo test`) failed: its exit status
    /// is passed through and nothing more is printed (it has said what went wrong).
    Child(u8),
    /// The tool's own failure (a listener that cannot bind, an OAuth state mismatch…).
    Failure {
        /// Exit code.
        code: u8,
        /// What happened.
        message: String,
    },
}

impl CliError {
    /// A failure of the tool with an exit code.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        CliError::Failure {
            code,
            message: message.into(),
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Core(e) => code_for(e),
            CliError::Child(code) => *code,
            CliError::Failure { code, .. } => *code,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Core(e) => write!(f, "{e}"),
            CliError::Child(code) => write!(f, "the command exited with status {code}"),
            CliError::Failure { message, .. } => f.write_str(message),
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Core(e)
    }
}

impl From<connectors::creds::CredsError> for CliError {
    fn from(e: connectors::creds::CredsError) -> Self {
        CliError::Core(e.into())
    }
}

impl From<connectors::ConfigReport> for CliError {
    fn from(r: connectors::ConfigReport) -> Self {
        CliError::Core(r.into())
    }
}

/// Result of a command.
pub type CliResult<T = ()> = std::result::Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;
    use connectors::core::error::{ApiError, ApiErrorKind};

    #[test]
    fn categories_map_to_distinct_codes() {
        assert_eq!(code_for(&Error::config_var("X", "m")), CONFIG);
        assert_eq!(code_for(&Error::validation("f", "r")), INVALID_INPUT);
        let api = |k| Error::from(ApiError::new("douyin", "1", "m", k));
        assert_eq!(code_for(&api(ApiErrorKind::QuotaExceeded)), API);
        assert_eq!(code_for(&api(ApiErrorKind::TokenExpired)), AUTH);
        assert_eq!(code_for(&api(ApiErrorKind::InvalidCredentials)), CONFIG);
        assert_eq!(code_for(&Error::store_msg("x")), STORE);
        let unknown = Error::outcome_unknown("douyin", "create", vec![], api(ApiErrorKind::Other));
        assert_eq!(code_for(&unknown), OUTCOME_UNKNOWN);
        for c in [
            OK,
            OTHER,
            USAGE,
            CONFIG,
            AUTH,
            API,
            NETWORK,
            INVALID_INPUT,
            OUTCOME_UNKNOWN,
            STORE,
        ] {
            assert!(HELP.contains(&format!("  {c}  ")), "{c} undocumented");
        }
    }
}
