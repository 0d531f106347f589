//! Token refreshers plugged into conn-core's single-flight [`TokenManager`]s: one per user
//! account (keyed by `open_id`) and one for the app's client token.
//!
//! A user refresh renews the refresh token first when it is about to expire (or when a renewal
//! was asked for), persisting the renewed refresh token at once: renewal kills the old one, so
//! losing the new one would strand the account. A dead refresh token (10010) or the renewal
//! limit (10020) comes back as an error for which `is_reauth_required()` holds; the manager then
//! deletes the account's stored tokens.
//!
//! [`TokenManager`]: conn_core::token::TokenManager

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use conn_core::clock::SharedClock;
use conn_core::error::{Error, ReauthRequired, Result};
use conn_core::secret::RefreshToken;
use conn_core::token::{TokenKey, TokenRefresher, TokenSet, TokenStore};

use crate::envelope::{douyin_code, DouyinCode};
use crate::oauth::OAuth;
use crate::PLATFORM;

/// Key of the `extra` entry counting renewals of an account's refresh token.
pub(crate) const RENEWALS_KEY: &str = "renewals";
/// Account name of the app's client token in the token store.
pub const CLIENT_TOKEN_ACCOUNT: &str = "@client";

/// A "re-authorization required" error for an account.
pub(crate) fn reauth(open_id: &str, reason: impl Into<String>, source: Option<Error>) -> Error {
    Error::from(ReauthRequired {
        platform: PLATFORM.into(),
        account: Some(open_id.to_owned()),
        reason: reason.into(),
        source: source.map(Box::new),
    })
}

/// Renewals recorded in a token set.
pub(crate) fn renewals_of(ts: &TokenSet) -> u32 {
    ts.extra
        .get(RENEWALS_KEY)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A renewal whose follow-up refresh has not succeeded yet.
struct PendingRenewal {
    killed: RefreshToken,
    fresh: RefreshToken,
    refresh_expires_at: Option<SystemTime>,
    renewals: u32,
}

/// Refreshes one account's user token.
pub(crate) struct UserRefresher {
    oauth: OAuth,
    open_id: String,
    key: TokenKey,
    store: Arc<dyn TokenStore>,
    clock: SharedClock,
    auto_renew_before: Option<std::time::Duration>,
    renew_next: AtomicBool,
    renew_unavailable: AtomicBool,
    pending: Mutex<Option<PendingRenewal>>,
}

impl fmt::Debug for UserRefresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRefresher")
            .field("open_id", &self.open_id)
            .field("auto_renew_before", &self.auto_renew_before)
            .finish_non_exhaustive()
    }
}

impl UserRefresher {
    pub(crate) fn new(
        oauth: OAuth,
        open_id: &str,
        store: Arc<dyn TokenStore>,
        clock: SharedClock,
        auto_renew_before: Option<std::time::Duration>,
    ) -> Self {
        Self {
            oauth,
            open_id: open_id.to_owned(),
            key: TokenKey::new(PLATFORM, open_id),
            store,
            clock,
            auto_renew_before,
            renew_next: AtomicBool::new(false),
            renew_unavailable: AtomicBool::new(false),
            pending: Mutex::new(None),
        }
    }

    /// Makes the next refresh renew the refresh token first.
    pub(crate) fn request_renewal(&self) {
        self.renew_next.store(true, Ordering::SeqCst);
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Option<PendingRenewal>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl TokenRefresher for UserRefresher {
    async fn refresh(&self, current: Option<&TokenSet>) -> Result<TokenSet> {
        let Some(current) = current else {
            return Err(reauth(
                &self.open_id,
                "no tokens are stored for this account; authorize it first (authorize_url, then exchange_code)",
                None,
            ));
        };
        let Some(mut refresh_token) = current.refresh_token.clone() else {
            return Err(reauth(
                &self.open_id,
                "the stored tokens carry no refresh token",
                None,
            ));
        };
        let mut refresh_expires_at = current.refresh_expires_at;
        let mut renewals = renewals_of(current);
        // A renewal succeeded earlier but its refresh failed: use the renewed token.
        {
            let pending = self.pending();
            if let Some(p) = pending.as_ref().filter(|p| p.killed == refresh_token) {
                refresh_token = p.fresh.clone();
                refresh_expires_at = p.refresh_expires_at;
                renewals = p.renewals;
            }
        }
        let now = self.clock.now();
        let explicit = self.renew_next.swap(false, Ordering::SeqCst);
        let due = !self.renew_unavailable.load(Ordering::SeqCst)
            && self.auto_renew_before.is_some_and(|window| {
                refresh_expires_at
                    .is_some_and(|exp| exp <= conn_core::token::expiry_after(now, window))
            });
        if explicit || due {
            match self.oauth.renew(&refresh_token).await {
                Ok(renewed) => {
                    renewals += 1;
                    refresh_expires_at =
                        Some(conn_core::token::expiry_after(now, renewed.expires_in));
                    let killed = std::mem::replace(&mut refresh_token, renewed.refresh_token);
                    *self.pending() = Some(PendingRenewal {
                        killed,
                        fresh: refresh_token.clone(),
                        refresh_expires_at,
                        renewals,
                    });
                    // Persist at once: the old refresh token is already dead.
                    let mut interim = current.clone();
                    interim.refresh_token = Some(refresh_token.clone());
                    interim.refresh_expires_at = refresh_expires_at;
                    interim
                        .extra
                        .insert(RENEWALS_KEY.to_owned(), renewals.to_string());
                    if let Err(e) = self.store.save(&self.key, &interim).await {
                        tracing::warn!(account = %self.key, error = %e, "renewed refresh token not persisted");
                    }
                    tracing::info!(account = %self.key, renewals, "refresh token renewed");
                }
                Err(e) if !explicit && douyin_code(&e) == Some(DouyinCode::ScopeMissing) => {
                    // The app lacks the renew_refresh_token permission: refresh without renewing.
                    self.renew_unavailable.store(true, Ordering::SeqCst);
                    tracing::warn!(account = %self.key, error = %e, "automatic refresh-token renewal unavailable");
                }
                Err(e) => return Err(e),
            }
        }
        let token = self.oauth.refresh(&refresh_token, &self.open_id).await?;
        *self.pending() = None;
        let mut previous = current.clone();
        previous.refresh_token = Some(refresh_token);
        previous.refresh_expires_at = refresh_expires_at;
        previous
            .extra
            .insert(RENEWALS_KEY.to_owned(), renewals.to_string());
        Ok(token.into_token_set(self.clock.now(), Some(&previous)))
    }
}

/// Fetches the app's client token.
pub(crate) struct ClientRefresher {
    oauth: OAuth,
    clock: SharedClock,
}

impl fmt::Debug for ClientRefresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRefresher").finish_non_exhaustive()
    }
}

impl ClientRefresher {
    pub(crate) fn new(oauth: OAuth, clock: SharedClock) -> Self {
        Self { oauth, clock }
    }
}

#[async_trait]
impl TokenRefresher for ClientRefresher {
    async fn refresh(&self, _current: Option<&TokenSet>) -> Result<TokenSet> {
        let t = self.oauth.client_token().await?;
        Ok(TokenSet::new(t.access_token)
            .with_expires_in(self.clock.now(), t.expires_in)
            .with_account(CLIENT_TOKEN_ACCOUNT))
    }
}
