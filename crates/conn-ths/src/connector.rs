//! The [`Connector`] implementation: the original system's `call_api(platform, endpoint,
//! method, data)` for iFinD.
//!
//! A raw call goes through the same token, rate-limit, retry and replay rules as the typed
//! operations. A `POST` to a data endpoint without an explicit idempotency is treated as the read
//! it is (idempotent); `portfolio_manage` and unknown endpoints stay non-idempotent unless the
//! caller says otherwise. The token endpoints are the client's own business and are refused.

use async_trait::async_trait;
use conn_core::connector::{Connector, RawRequest, RawResponse};
use conn_core::retry::Idempotency;
use conn_core::{Error, Result};
use http::Method;

use crate::auth::{GET_ACCESS_TOKEN, UPDATE_ACCESS_TOKEN};
use crate::client::Client;
use crate::ops::endpoint::READS;
use crate::PLATFORM;

#[async_trait]
impl Connector for Client {
    fn platform(&self) -> &str {
        PLATFORM
    }

    async fn call(&self, request: RawRequest) -> Result<RawResponse> {
        let name = request.endpoint.trim_matches('/');
        if name == GET_ACCESS_TOKEN || name == UPDATE_ACCESS_TOKEN {
            return Err(Error::validation(
                "endpoint",
                "access tokens are fetched by the client itself (use check_credentials)",
            ));
        }
        let mut req = request.to_request()?;
        if request.idempotency.is_none() && request.method == Method::POST && READS.contains(&name)
        {
            req = req.idempotency(Idempotency::Idempotent);
        }
        Ok(RawResponse::from(self.execute(&req).await?))
    }

    async fn check_credentials(&self) -> Result<()> {
        Client::check_credentials(self).await
    }
}
