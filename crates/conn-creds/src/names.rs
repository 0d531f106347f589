//! The naming rule for platforms, credential names and token accounts.
//!
//! A credential `(platform, name)` is overridden by the environment variable
//! [`conn_core::credentials::env_var_name`]`(platform, name)`, i.e. `PLATFORM_NAME` upper-cased
//! (`("douyin", "app_secret")` → `DOUYIN_APP_SECRET`, `("ths", "refresh_token")` →
//! `THS_REFRESH_TOKEN`). So that every stored credential has exactly one variable and every
//! variable names at most one credential, the store accepts:
//!
//! - **platform**: 1–32 characters, lower-case ASCII letters and digits, starting with a letter
//!   (`douyin`, `ths`, `erp`, `xiaohongshu`). No `_`: the first `_` of a variable separates the
//!   platform from the name.
//! - **credential name**: 1–64 characters, lower-case ASCII letters, digits and `_`, starting with a
//!   letter (`app_id`, `client_secret`, `refresh_token`).
//! - **token account** (the second half of a [`conn_core::token::TokenKey`]; tokens are never
//!   read from the environment): 1–256 bytes of UTF-8 without control characters (a Douyin
//!   `open_id` such as `_000Qx-9…` is fine). The token's platform follows the platform rule.

use crate::error::{CredsError, CredsResult};

/// Longest platform name.
pub const MAX_PLATFORM_LEN: usize = 32;
/// Longest credential name.
pub const MAX_NAME_LEN: usize = 64;
/// Longest token account, in bytes.
pub const MAX_ACCOUNT_LEN: usize = 256;
/// Largest secret value (credential or serialised token set), in bytes.
pub const MAX_VALUE_LEN: usize = 64 * 1024;

/// Checks a platform name against the rule.
///
/// ```
/// assert!(conn_creds::names::check_platform("douyin").is_ok());
/// assert!(conn_creds::names::check_platform("Douyin").is_err());
/// ```
pub fn check_platform(platform: &str) -> CredsResult<()> {
    let ok = !platform.is_empty()
        && platform.len() <= MAX_PLATFORM_LEN
        && platform.starts_with(|c: char| c.is_ascii_lowercase())
        && platform
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(CredsError::InvalidName {
            field: "platform",
            rule: format!(
                "1-{MAX_PLATFORM_LEN} lower-case ASCII letters and digits, starting with a letter (e.g. `douyin`)"
            ),
        })
    }
}

/// Checks a credential name against the rule.
///
/// ```
/// assert!(conn_creds::names::check_name("app_secret").is_ok());
/// assert!(conn_creds::names::check_name("app-secret").is_err());
/// ```
pub fn check_name(name: &str) -> CredsResult<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CredsError::InvalidName {
            field: "name",
            rule: format!(
                "1-{MAX_NAME_LEN} lower-case ASCII letters, digits and `_`, starting with a letter (e.g. `app_secret`)"
            ),
        })
    }
}

/// Checks a token account against the rule.
pub fn check_account(account: &str) -> CredsResult<()> {
    let ok = !account.is_empty()
        && account.len() <= MAX_ACCOUNT_LEN
        && !account.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(CredsError::InvalidName {
            field: "account",
            rule: format!("1-{MAX_ACCOUNT_LEN} bytes of UTF-8 without control characters"),
        })
    }
}

/// Checks a value's size.
pub(crate) fn check_value(field: &'static str, len: usize) -> CredsResult<()> {
    if len <= MAX_VALUE_LEN {
        Ok(())
    } else {
        Err(CredsError::TooLarge {
            field,
            limit: MAX_VALUE_LEN,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conn_core::credentials::env_var_name;

    #[test]
    fn rule_makes_the_variable_mapping_one_to_one() {
        for (p, n, var) in [
            ("douyin", "app_secret", "DOUYIN_APP_SECRET"),
            ("ths", "refresh_token", "THS_REFRESH_TOKEN"),
            ("ths123", "app_key", "THS123_APP_KEY"),
        ] {
            check_platform(p).unwrap();
            check_name(n).unwrap();
            assert_eq!(env_var_name(p, n), var);
        }
        for bad in ["", "Douyin", "dou_yin", "dou-yin", "1ths", &"a".repeat(33)] {
            let e = check_platform(bad).unwrap_err();
            assert!(e.to_string().contains("`platform`"), "{e}");
        }
        for bad in ["", "App", "app-secret", "_x", "app.secret", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        check_account("_000Qx-9+/=").unwrap();
        assert!(check_account("").is_err());
        assert!(check_account("a\nb").is_err());
        assert!(check_value("value", MAX_VALUE_LEN + 1).is_err());
    }
}
