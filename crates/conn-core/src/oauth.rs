//! Scheme-neutral pieces of an OAuth authorization-code flow: the CSRF `state` a client puts
//! in the authorization URL and checks on the redirect, and the conversion of a token answer's
//! lifetimes into a [`TokenSet`] that keeps what the platform did not send again.
//!
//! Platform crates build their own endpoints and field names on top of these (each platform's
//! token answer has its own envelope); the state and the lifetime rules are the same everywhere.

use std::fmt;
use std::time::{Duration, SystemTime};

use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::secret::{AccessToken, RefreshToken};
use crate::token::TokenSet;
use crate::Result;

/// Longest state accepted back from a redirect (a generated one is 32 characters).
pub const MAX_STATE_LEN: usize = 128;

/// The `state` of an authorization request: 16 random bytes as 32 lowercase hex characters,
/// as oauth2-rs's `CsrfToken::new_random` does. It travels in the URL the user opens, so it is
/// not a secret, but it must be compared in constant time and never be guessable.
///
/// ```
/// use conn_core::oauth::CsrfState;
/// let state = CsrfState::new_random();
/// assert_eq!(state.as_str().len(), 32);
/// assert!(state.verify(state.as_str()).is_ok());
/// assert!(state.verify("forged").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfState(String);

impl CsrfState {
    /// A fresh state from the operating system's CSPRNG (through `rand`'s thread RNG).
    pub fn new_random() -> Self {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    /// A state chosen by the caller (one stored between the two halves of a flow). It must be
    /// 1 to [`MAX_STATE_LEN`] characters of `[A-Za-z0-9._~-]`, so it survives a URL unchanged.
    pub fn from_stored(state: impl Into<String>) -> Result<Self> {
        let s = state.into();
        check_state(&s)?;
        Ok(Self(s))
    }

    /// The state's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks the state a redirect brought back, in constant time. A mismatch is a validation
    /// error on `state` (the redirect did not come from this authorization request).
    pub fn verify(&self, returned: &str) -> Result<()> {
        let same: bool = self.0.as_bytes().ct_eq(returned.as_bytes()).into();
        if same {
            Ok(())
        } else {
            Err(Error::validation(
                "state",
                "does not match the state of the authorization request (possible CSRF)",
            ))
        }
    }
}

impl fmt::Debug for CsrfState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not a secret, but an attacker who reads logs could replay a pending redirect.
        f.write_str("CsrfState([redacted])")
    }
}

fn check_state(s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_STATE_LEN {
        return Err(Error::validation(
            "state",
            format!("must be 1 to {MAX_STATE_LEN} characters"),
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
    {
        return Err(Error::validation(
            "state",
            "may only hold letters, digits and . _ ~ -",
        ));
    }
    Ok(())
}

/// What a token endpoint answered, before it becomes a [`TokenSet`].
///
/// `refresh_token` and `refresh_expires_in` are optional because refresh answers often omit
/// them; [`TokenAnswer::into_token_set`] then keeps the previous ones, so a refresh never
/// loses the refresh token it did not rotate.
#[derive(Default)]
pub struct TokenAnswer {
    /// The new access token.
    pub access_token: Option<AccessToken>,
    /// Its lifetime.
    pub expires_in: Option<Duration>,
    /// A new refresh token, when the platform rotated it.
    pub refresh_token: Option<RefreshToken>,
    /// The refresh token's lifetime, when sent.
    pub refresh_expires_in: Option<Duration>,
    /// The account the tokens belong to (`open_id`), when sent.
    pub account: Option<String>,
    /// Granted scopes, when sent.
    pub scopes: Vec<String>,
}

impl fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAnswer")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("refresh_expires_in", &self.refresh_expires_in)
            .field("account", &self.account)
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl TokenAnswer {
    /// The token set this answer gives at `now`, over `previous` (the set it replaces): a
    /// missing refresh token, refresh expiry, account or scope list is carried over. A missing
    /// access token is a decode-shaped validation error naming `access_token`.
    ///
    /// ```
    /// use conn_core::oauth::TokenAnswer;
    /// use conn_core::secret::{AccessToken, RefreshToken};
    /// use conn_core::token::TokenSet;
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let now = UNIX_EPOCH + Duration::from_secs(1_000);
    /// let old = TokenSet::new(AccessToken::new("a1"))
    ///     .with_refresh_token(Some(RefreshToken::new("r1")))
    ///     .with_account("u1");
    /// let answer = TokenAnswer {
    ///     access_token: Some(AccessToken::new("a2")),
    ///     expires_in: Some(Duration::from_secs(60)),
    ///     ..TokenAnswer::default()
    /// };
    /// let new = answer.into_token_set(now, Some(&old)).unwrap();
    /// assert_eq!(new.access_token.expose_secret(), "a2");
    /// assert_eq!(new.refresh_token.unwrap().expose_secret(), "r1");
    /// assert_eq!(new.account.as_deref(), Some("u1"));
    /// assert_eq!(new.expires_at, Some(now + Duration::from_secs(60)));
    /// ```
    pub fn into_token_set(self, now: SystemTime, previous: Option<&TokenSet>) -> Result<TokenSet> {
        let access = self.access_token.ok_or_else(|| {
            Error::validation("access_token", "the token answer carries no access token")
        })?;
        let mut ts = TokenSet::new(access);
        if let Some(d) = self.expires_in {
            ts = ts.with_expires_in(now, d);
        }
        let rotated = self.refresh_token.is_some();
        ts = ts.with_refresh_token(
            self.refresh_token
                .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
        );
        match self.refresh_expires_in {
            Some(d) => ts = ts.with_refresh_expires_in(now, d),
            // An unrotated refresh token keeps its old expiry.
            None if !rotated => ts.refresh_expires_at = previous.and_then(|p| p.refresh_expires_at),
            None => {}
        }
        if let Some(a) = self
            .account
            .or_else(|| previous.and_then(|p| p.account.clone()))
        {
            ts = ts.with_account(a);
        }
        let scopes = if self.scopes.is_empty() {
            previous.map(|p| p.scopes.clone()).unwrap_or_default()
        } else {
            self.scopes
        };
        Ok(ts.with_scopes(scopes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn random_states_differ_and_stored_ones_are_checked() {
        let a = CsrfState::new_random();
        let b = CsrfState::new_random();
        assert_ne!(a, b);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(!format!("{a:?}").contains(a.as_str()));
        assert!(CsrfState::from_stored("abc-DEF_1.~").is_ok());
        for bad in ["", "a b", "a&b=c", "é", &"x".repeat(MAX_STATE_LEN + 1)] {
            let e = CsrfState::from_stored(bad).unwrap_err();
            assert!(e.to_string().contains("state"), "{bad:?}: {e}");
        }
        assert!(a.verify(b.as_str()).is_err());
        assert!(a.verify("").is_err());
        assert!(a.verify(&format!("{}x", a.as_str())).is_err());
    }

    #[test]
    fn a_rotated_refresh_token_replaces_the_old_one_and_its_expiry() {
        let now = UNIX_EPOCH + Duration::from_secs(10_000);
        let old = TokenSet::new(AccessToken::new("a1"))
            .with_refresh_token(Some(RefreshToken::new("r1")))
            .with_refresh_expires_in(now, Duration::from_secs(100))
            .with_scopes(vec!["s".into()]);
        let new = TokenAnswer {
            access_token: Some(AccessToken::new("a2")),
            refresh_token: Some(RefreshToken::new("r2")),
            refresh_expires_in: None,
            ..TokenAnswer::default()
        }
        .into_token_set(now, Some(&old))
        .unwrap();
        assert_eq!(new.refresh_token.unwrap().expose_secret(), "r2");
        assert_eq!(
            new.refresh_expires_at, None,
            "a new token's expiry is unknown"
        );
        assert_eq!(new.scopes, vec!["s".to_owned()]);
        let kept = TokenAnswer {
            access_token: Some(AccessToken::new("a3")),
            ..TokenAnswer::default()
        }
        .into_token_set(now, Some(&old))
        .unwrap();
        assert_eq!(kept.refresh_expires_at, old.refresh_expires_at);
        let e = TokenAnswer::default()
            .into_token_set(now, None)
            .unwrap_err();
        assert!(e.to_string().contains("access_token"), "{e}");
    }
}
