//! [`Connector`] for [`Client`]: the original system's `call_api` through a profile.

use async_trait::async_trait;
use conn_core::connector::{Connector, RawRequest, RawResponse};
use conn_core::error::ApiErrorKind;
use conn_core::transport::Body;
use conn_core::{Error, Result};
use serde_json::Value;

use crate::auth::Authenticator;
use crate::client::Client;

/// The id the credential check asks stats for; no platform has content with this id.
pub const CREDENTIAL_CHECK_ID: &str = "connectors-credential-check";

#[async_trait]
impl Connector for Client {
    /// The profile name (`xiaohongshu`, `zhihu`, `toutiao`, or a custom one).
    fn platform(&self) -> &str {
        &self.profile().name
    }

    /// Calls `endpoint` with the profile's authentication, envelope and retries. With
    /// `xhs_sign`, the data must be a JSON object with a `method` field (the open-platform
    /// operation name), as Xiaohongshu's `common_controller` takes it; the signature fields are
    /// added to it.
    async fn call(&self, request: RawRequest) -> Result<RawResponse> {
        let req = request.to_request()?;
        let resp = match self.authenticator() {
            Authenticator::Xhs(_) => {
                let body: Value = match req.body_ref() {
                    Body::Json(b) => serde_json::from_slice(b).map_err(|e| {
                        Error::validation("data", format!("is not valid JSON: {e}"))
                    })?,
                    _ => {
                        return Err(Error::validation(
                            "data",
                            "xhs_sign needs a JSON object body: use POST with data",
                        ))
                    }
                };
                let method = body
                    .get("method")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        Error::validation(
                            "data.method",
                            "required with xhs_sign (the open-platform operation name)",
                        )
                    })?;
                self.send(req, Some(body), &method).await?
            }
            _ => self.send(req, None, "").await?,
        };
        Ok(resp.into())
    }

    /// None of the platforms has a documented "who am I" endpoint, so this asks the stats
    /// endpoint for [`CREDENTIAL_CHECK_ID`]: an answer, or a platform error other than an auth
    /// one (typically "not found"), means the credentials were accepted. Auth errors, HTTP
    /// errors without an envelope and network failures are returned.
    async fn check_credentials(&self) -> Result<()> {
        match self.stats(CREDENTIAL_CHECK_ID).await {
            Ok(_) => Ok(()),
            Err(e) => match e.api_kind() {
                Some(
                    ApiErrorKind::NotFound | ApiErrorKind::InvalidRequest | ApiErrorKind::Other,
                ) => Ok(()),
                _ => Err(e),
            },
        }
    }
}
