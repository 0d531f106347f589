//! [`conn_core::connector::Connector`] for the ERP client: the original system's
//! `call_api("erp", endpoint, method, data)` with this crate's auth, signing and envelope.

use async_trait::async_trait;
use conn_core::connector::{Connector, RawRequest, RawResponse};
use conn_core::Result;

use crate::client::Client;
use crate::PLATFORM;

#[async_trait]
impl Connector for Client {
    fn platform(&self) -> &str {
        PLATFORM
    }

    /// Signs the raw request with the configured auth (a signing scheme folds its data into
    /// `biz` like any other call) and sends it. A POST is not replayed once it may have been
    /// received unless the raw request carries an idempotency key.
    async fn call(&self, request: RawRequest) -> Result<RawResponse> {
        let req = request.to_request()?;
        Ok(RawResponse::from(self.send(&req).await?))
    }

    async fn check_credentials(&self) -> Result<()> {
        Client::check_credentials(self).await
    }
}
