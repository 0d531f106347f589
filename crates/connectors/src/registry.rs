//! The registry: the original system's `ConfigurableAPIConnector` over `Box<dyn Connector>`.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;

use conn_core::connector::{Connector, RawRequest, RawResponse};
use conn_core::{Error, Result};
use http::Method;
use serde_json::Value;

use crate::report::Skipped;

/// A method given as text (`"post"`, `"GET"`) or as an [`http::Method`].
///
/// ```
/// use connectors::IntoMethod;
/// assert_eq!("post".into_method().unwrap(), http::Method::POST);
/// assert!("FETCH".into_method().unwrap_err().to_string().contains("`method`"));
/// ```
pub trait IntoMethod {
    /// The method, or a validation error naming `method`.
    fn into_method(self) -> Result<Method>;
}

/// The methods `call_api` accepts.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

impl IntoMethod for &str {
    fn into_method(self) -> Result<Method> {
        let upper = self.trim().to_ascii_uppercase();
        if !METHODS.contains(&upper.as_str()) {
            return Err(Error::validation(
                "method",
                format!("one of {} (got {self:?})", METHODS.join(", ")),
            ));
        }
        Method::from_bytes(upper.as_bytes())
            .map_err(|_| Error::validation("method", format!("not an HTTP method: {self:?}")))
    }
}

impl IntoMethod for String {
    fn into_method(self) -> Result<Method> {
        self.as_str().into_method()
    }
}

impl IntoMethod for Method {
    fn into_method(self) -> Result<Method> {
        Ok(self)
    }
}

impl IntoMethod for &Method {
    fn into_method(self) -> Result<Method> {
        Ok(self.clone())
    }
}

/// Every configured platform's connector, by platform name, plus typed clients for the
/// platforms built by [`Connectors::from_env`] / [`ConnectorsBuilder`](crate::ConnectorsBuilder).
///
/// ```
/// # #[cfg(all(feature = "douyin", feature = "fake"))] fn main() {
/// use connectors::Connectors;
/// use connectors::core::connector::RawRequest;
/// use conn_douyin::fake::FakeDouyin;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let fake = FakeDouyin::start().await;
/// let client = conn_douyin::Client::new(fake.config())?;
/// client.set_tokens(fake.open_id(), fake.authorize(fake.open_id(), &["video.list.bind"])).await?;
///
/// let mut reg = Connectors::new();
/// reg.register(Box::new(client));
/// assert_eq!(reg.platforms(), ["douyin"]);
///
/// // The original `call_api(platform, endpoint, method, data)`; Douyin calls act for an
/// // account (DOUYIN_OPEN_ID, or the request's account):
/// let req = RawRequest::new(http::Method::GET, "/api/douyin/v1/video/video_list/")
///     .with_account(fake.open_id())
///     .with_data(serde_json::json!({"cursor": 0, "count": 10}));
/// let resp = reg.call("douyin", req).await?;
/// assert_eq!(resp.status, 200);
///
/// let err = reg.call_api("erp", "/api/orders", "GET", None).await.unwrap_err();
/// assert!(err.to_string().contains("registered: douyin"));
/// let err = reg.call_api("douyin", "/x", "FETCH", None).await.unwrap_err();
/// assert!(err.to_string().contains("`method`"));
/// # Ok::<(), conn_core::Error>(())
/// # }).unwrap();
/// # }
/// # #[cfg(not(all(feature = "douyin", feature = "fake")))] fn main() {}
/// ```
#[derive(Default)]
pub struct Connectors {
    connectors: BTreeMap<String, Box<dyn Connector>>,
    pub(crate) skipped: Vec<Skipped>,
    /// The typed client of each platform built by a descriptor, by platform (or content
    /// profile) name; the accessors below downcast to the platform's client type. One map
    /// instead of a field per platform keeps this type free of platform features.
    typed: BTreeMap<String, Box<dyn Any + Send + Sync>>,
    #[cfg(feature = "redis")]
    pub(crate) redis: Option<conn_redis::Redis>,
}

impl fmt::Debug for Connectors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connectors")
            .field("platforms", &self.platforms())
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

impl Connectors {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a connector under its [`Connector::platform`] name, replacing (and returning)
    /// any connector of that name. A typed client of the same name (see
    /// [`Connectors::douyin`]) is dropped with it, so typed and raw access never disagree.
    pub fn register(&mut self, connector: Box<dyn Connector>) -> Option<Box<dyn Connector>> {
        let name = connector.platform().to_owned();
        self.forget_typed(&name);
        self.skipped.retain(|s| s.platform != name);
        self.connectors.insert(name, connector)
    }

    /// Removes a platform's connector.
    pub fn unregister(&mut self, platform: &str) -> Option<Box<dyn Connector>> {
        self.forget_typed(platform);
        self.connectors.remove(platform)
    }

    fn forget_typed(&mut self, name: &str) {
        self.typed.remove(name);
    }

    /// Registers a platform's connector and its typed client under the same name (what a
    /// descriptor built).
    pub(crate) fn register_typed(
        &mut self,
        name: &str,
        connector: Box<dyn Connector>,
        typed: Box<dyn Any + Send + Sync>,
    ) {
        self.register(connector);
        self.typed.insert(name.to_owned(), typed);
    }

    /// The typed client registered under `name`, when it is a `T`.
    fn typed<T: 'static>(&self, name: &str) -> Option<&T> {
        self.typed.get(name)?.downcast_ref()
    }

    /// The connector of a platform.
    pub fn get(&self, platform: &str) -> Option<&dyn Connector> {
        self.connectors.get(platform).map(|c| c.as_ref())
    }

    /// The registered platform names, sorted.
    pub fn platforms(&self) -> Vec<&str> {
        self.connectors.keys().map(String::as_str).collect()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.connectors.is_empty()
    }

    /// Platforms [`Connectors::from_env`] left out because none of their variables is set, with
    /// the variables that would enable each.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The original system's `call_api(platform, endpoint, method, data)`: `data` becomes the
    /// query of a GET or DELETE and the JSON body otherwise; the platform's connector adds its
    /// authentication, envelope handling and retries.
    ///
    /// An unknown platform is a validation error naming `platform` and listing the registered
    /// ones (a known platform that was not configured is a configuration error saying what to
    /// set); an unknown method is a validation error naming `method`.
    pub async fn call_api(
        &self,
        platform: &str,
        endpoint: &str,
        method: impl IntoMethod,
        data: Option<Value>,
    ) -> Result<RawResponse> {
        let method = method.into_method()?;
        let mut req = RawRequest::new(method, endpoint);
        if let Some(d) = data {
            req = req.with_data(d);
        }
        self.call(platform, req).await
    }

    /// Sends a full [`RawRequest`] (account, idempotency, extra query) to a platform.
    pub async fn call(&self, platform: &str, request: RawRequest) -> Result<RawResponse> {
        self.connector_for(platform)?.call(request).await
    }

    /// The connector of `platform`, or the error [`Connectors::call_api`] documents.
    pub fn connector_for(&self, platform: &str) -> Result<&dyn Connector> {
        if let Some(c) = self.get(platform) {
            return Ok(c);
        }
        if let Some(s) = self.skipped.iter().find(|s| s.platform == platform) {
            return Err(s.to_error());
        }
        let registered = self.platforms();
        Err(Error::validation(
            "platform",
            format!(
                "unknown platform `{platform}`; registered: {}",
                if registered.is_empty() {
                    "none (configure a platform with its environment variables)".to_owned()
                } else {
                    registered.join(", ")
                }
            ),
        ))
    }

    /// Checks every registered platform's credentials concurrently; one result per platform,
    /// sorted by name.
    pub async fn check_all(&self) -> Vec<(String, Result<()>)> {
        let checks = self.connectors.iter().map(|(name, c)| async move {
            let r = c.check_credentials().await;
            (name.clone(), r)
        });
        futures::future::join_all(checks).await
    }

    /// The Douyin client, when Douyin was configured by [`Connectors::from_env`].
    #[cfg(feature = "douyin")]
    #[cfg_attr(docsrs, doc(cfg(feature = "douyin")))]
    pub fn douyin(&self) -> Option<&conn_douyin::Client> {
        self.typed(conn_douyin::PLATFORM)
    }

    /// The shared Redis, when `REDIS_URL` is set (feature `redis`): tokens already live there;
    /// build limiters, replay caches and event streams on it.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis(&self) -> Option<&conn_redis::Redis> {
        self.redis.as_ref()
    }

    /// A webhook replay cache shared by every receiver (`scope`: the endpoint, e.g. `douyin`),
    /// when `REDIS_URL` is set; pass it to `WebhookVerifier::verify_shared`.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn replay_cache(&self, scope: &str) -> Option<conn_redis::RedisReplayCache> {
        self.redis
            .as_ref()
            .map(|r| conn_redis::RedisReplayCache::new(r.clone(), scope))
    }

    /// The iFinD client, when configured.
    #[cfg(feature = "ths")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ths")))]
    pub fn ths(&self) -> Option<&conn_ths::Client> {
        self.typed(conn_ths::PLATFORM)
    }

    /// The ERP client, when configured.
    #[cfg(feature = "erp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "erp")))]
    pub fn erp(&self) -> Option<&conn_erp::Client> {
        self.typed(conn_erp::PLATFORM)
    }

    /// A content profile's client (`xiaohongshu`, `zhihu`, `toutiao`, custom), when configured.
    #[cfg(feature = "content")]
    #[cfg_attr(docsrs, doc(cfg(feature = "content")))]
    pub fn content(&self, profile: &str) -> Option<&conn_content::Client> {
        self.typed(profile)
    }

    /// Every configured content profile's client, by profile name.
    #[cfg(feature = "content")]
    #[cfg_attr(docsrs, doc(cfg(feature = "content")))]
    pub fn contents(&self) -> BTreeMap<&str, &conn_content::Client> {
        self.typed
            .iter()
            .filter_map(|(name, c)| Some((name.as_str(), c.downcast_ref()?)))
            .collect()
    }

    /// The typed client of a platform that must be configured, or the configuration error
    /// saying what to set (the `require_*` accessors are this with the type filled in). Asking
    /// with the wrong client type is the same "not configured" error.
    ///
    /// ```
    /// use connectors::core::env::{Env, MapEnv};
    /// use connectors::Connectors;
    ///
    /// let reg = Connectors::from_env_with(&Env::from_source(MapEnv::new())).unwrap();
    /// # #[cfg(feature = "ths")] {
    /// let e = reg.require::<connectors::ths::Client>("ths").unwrap_err();
    /// assert!(e.to_string().contains("THS_REFRESH_TOKEN"), "{e}");
    /// # }
    /// ```
    pub fn require<T: 'static>(&self, platform: &str) -> Result<&T> {
        self.typed(platform).ok_or_else(|| {
            match self.skipped.iter().find(|s| s.platform == platform) {
                Some(s) => s.to_error(),
                None => Error::config(format!(
                    "{platform} is not configured (it was not built by Connectors::from_env)"
                )),
            }
        })
    }

    /// The Douyin client, or a configuration error naming the variables to set.
    #[cfg(feature = "douyin")]
    #[cfg_attr(docsrs, doc(cfg(feature = "douyin")))]
    pub fn require_douyin(&self) -> Result<&conn_douyin::Client> {
        self.require(conn_douyin::PLATFORM)
    }

    /// The iFinD client, or a configuration error naming the variables to set.
    #[cfg(feature = "ths")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ths")))]
    pub fn require_ths(&self) -> Result<&conn_ths::Client> {
        self.require(conn_ths::PLATFORM)
    }

    /// The ERP client, or a configuration error naming the variables to set.
    #[cfg(feature = "erp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "erp")))]
    pub fn require_erp(&self) -> Result<&conn_erp::Client> {
        self.require(conn_erp::PLATFORM)
    }

    /// A content profile's client, or a configuration error naming the variables to set.
    #[cfg(feature = "content")]
    #[cfg_attr(docsrs, doc(cfg(feature = "content")))]
    pub fn require_content(&self, profile: &str) -> Result<&conn_content::Client> {
        self.require(profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_case_insensitively() {
        assert_eq!("get".into_method().unwrap(), Method::GET);
        assert_eq!(" Delete ".into_method().unwrap(), Method::DELETE);
        assert_eq!(Method::PATCH.into_method().unwrap(), Method::PATCH);
        let e = "".into_method().unwrap_err();
        assert!(
            matches!(e, Error::Validation(ref v) if v.field == "method"),
            "{e}"
        );
    }
}
