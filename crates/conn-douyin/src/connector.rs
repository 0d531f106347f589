//! The workspace's [`Connector`] trait for [`Client`]: the original system's
//! `call_api("douyin", endpoint, method, data)`.
//!
//! Resource endpoints get the account's `open_id` in the query (from
//! [`RawRequest::account`](conn_core::connector::RawRequest) or `DOUYIN_OPEN_ID`) and its token in
//! the `access-token` header, with the same refresh-and-replay as the typed methods. Endpoints
//! under `/oauth/` and `/platform/` are sent as given (their credentials travel in the body).

use async_trait::async_trait;
use conn_core::connector::{Connector, RawRequest, RawResponse};
use conn_core::error::{Error, Result};

use crate::client::Client;
use crate::PLATFORM;

#[async_trait]
impl Connector for Client {
    fn platform(&self) -> &str {
        PLATFORM
    }

    async fn call(&self, raw: RawRequest) -> Result<RawResponse> {
        let mut req = raw.to_request()?;
        let path = raw.endpoint.trim_start_matches('/');
        if path.starts_with("oauth/") || path.starts_with("platform/") {
            return Ok(self.transport().execute(&req).await?.into());
        }
        let open_id = self.resolve_open_id(raw.account.as_deref())?;
        if !req.query_pairs().iter().any(|(k, _)| k == "open_id") {
            req = req.query("open_id", open_id.clone());
        }
        Ok(self.execute_for(&open_id, req).await?.into())
    }

    /// With a client secret: fetches the client token (proves key and secret). With only a
    /// fixed access token: reads one page of the default account's videos.
    async fn check_credentials(&self) -> Result<()> {
        if self.config().client_secret.is_some() {
            self.client_token().await.map(|_| ())
        } else if self.config().access_token.is_some() {
            let open_id = self.resolve_open_id(None)?;
            self.video_list_page(&open_id, 0, 1).await.map(|_| ())
        } else {
            Err(Error::config_var(
                "DOUYIN_CLIENT_SECRET",
                "no credentials to check; set DOUYIN_CLIENT_KEY and DOUYIN_CLIENT_SECRET, or DOUYIN_ACCESS_TOKEN",
            ))
        }
    }
}
