//! The ERP client: one method per operation of the original connector.

use std::sync::Arc;

use conn_core::clock::SharedClock;
use conn_core::env::Env;
use conn_core::retry::Idempotency;
use conn_core::transport::{Body, Request, Response, Transport};
use conn_core::{Error, Result};
use http::HeaderValue;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::Value;

use crate::auth::{RequestSigner, SignBody, SignableRequest, SigningContext};
use crate::config::Config;
use crate::model::{decode_error, CreatedOrder, FinancialData, NewOrder, Order, Period};
use crate::pagination::{order_stream, OrderQuery, OrderStream, OrdersPage};
use crate::profile::{self, Flow};
use crate::PLATFORM;

/// Characters escaped in an order id placed in a path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\');

/// Longest order id accepted.
pub const MAX_ORDER_ID_LEN: usize = 128;

/// The ERP client. Cheap to clone; clones share the HTTP client and counters.
///
/// ```no_run
/// use conn_erp::{Client, NewOrder, OrderQuery, Period};
/// use futures::TryStreamExt;
/// # async fn demo() -> conn_core::Result<()> {
/// let erp = Client::from_env()?;
/// let fin = erp.financial_data(&"2024-01".parse::<Period>()?).await?;
/// let orders: Vec<_> = erp.list_orders(OrderQuery::new().limit(500)).try_collect().await?;
/// let created = erp
///     .create_order(&NewOrder::new("ACME").item("SKU-1", "2".parse().unwrap(), "9.90".parse()?))
///     .await?;
/// # let _ = (fin, orders, created); Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    transport: Transport,
}

/// Builds a [`Client`] with optional pieces: an HTTP client, a clock.
///
/// There is no `token_store`: the ERP profiles sign each request (API key, MD5 or HMAC
/// signatures over a timestamp and nonce) and hold no token that could be stored.
///
/// ```
/// use std::sync::Arc;
/// use conn_core::clock::ManualClock;
/// use conn_erp::{Client, Config};
/// let config = Config::builder().base_url("http://localhost:8013").build()?;
/// let erp = Client::builder(config)
///     .http_client(conn_core::reexports::reqwest::Client::new())
///     .clock(Arc::new(ManualClock::at_unix(1_700_000_000)))
///     .build()?;
/// # let _ = erp;
/// # Ok::<(), conn_core::Error>(())
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    config: Config,
    http: Option<conn_core::reexports::reqwest::Client>,
    clock: Option<SharedClock>,
}

impl ClientBuilder {
    /// Shares an existing reqwest client (its connection pool, proxies and TLS settings); by
    /// default one is built from the transport settings.
    pub fn http_client(mut self, client: conn_core::reexports::reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The clock signing timestamps come from (default: the system clock). Each logical
    /// call draws one timestamp, so every retry of it carries the same signature.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let mut config = self.config;
        if let Some(c) = self.clock {
            config.clock = c;
        }
        let envelope = config.envelope.clone().decoder();
        let transport = Transport::with_optional_client(
            PLATFORM,
            config.transport.clone(),
            envelope,
            self.http,
        )?;
        Ok(Client {
            inner: Arc::new(Inner { config, transport }),
        })
    }
}

impl Client {
    /// A client for a configuration, with the system clock and its own HTTP client.
    pub fn new(config: Config) -> Result<Self> {
        Self::builder(config).build()
    }

    /// A builder for the optional pieces (HTTP client, clock).
    pub fn builder(config: Config) -> ClientBuilder {
        ClientBuilder {
            config,
            http: None,
            clock: None,
        }
    }

    /// A client configured from the process environment.
    pub fn from_env() -> Result<Self> {
        Self::new(Config::from_env()?)
    }

    /// A client configured from `env`.
    pub fn from_env_with(env: &Env) -> Result<Self> {
        Self::new(Config::from_env_with(env)?)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The transport (counters, base URL).
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// Signs a transport request with the configured auth: draws a timestamp and nonce, hands
    /// the request to the signer, and rebuilds it with what the signer added.
    ///
    /// The signed request keeps the operation, method, path, idempotency (and its key header),
    /// query, headers and body; a per-request retry policy, attempt timeout or outcome context
    /// must be set on the signed request (conn-core's `Request` does not expose them to copy).
    /// It is signed once: every retry of it carries the same timestamp, nonce and signature.
    pub fn sign(&self, req: &Request) -> Result<Request> {
        let cfg = &self.inner.config;
        let url = self.inner.transport.url_for(req.path(), &[])?;
        let mut s = SignableRequest::new(req.method().clone(), url.path());
        s.query = req.query_pairs().to_vec();
        s.headers = req.headers().clone();
        s.body = match req.body_ref() {
            Body::Empty => SignBody::Empty,
            Body::Json(b) => SignBody::Json(
                serde_json::from_slice(b)
                    .map_err(|e| Error::validation("body", format!("is not valid JSON: {e}")))?,
            ),
            Body::Form(f) => SignBody::Form(
                serde_urlencoded::from_str(f)
                    .map_err(|e| Error::validation("body", format!("is not a valid form: {e}")))?,
            ),
            _ => {
                return Err(Error::validation(
                    "body",
                    "only JSON and form bodies can be sent to the ERP (they are signed)",
                ))
            }
        };
        let ctx = SigningContext::draw(&cfg.clock, cfg.nonce.as_ref());
        cfg.auth.sign(&mut s, &ctx)?;
        // Signed in place on a clone, so the request keeps its retry policy, timeout,
        // idempotency and outcome context.
        let mut out = req.clone();
        *out.query_mut() = s.query;
        *out.headers_mut() = s.headers;
        match s.body {
            SignBody::Empty => out.set_body(Body::Empty),
            SignBody::Json(v) => out = out.json(&v)?,
            SignBody::Form(pairs) => out = out.form(&pairs)?,
        }
        Ok(out)
    }

    /// Signs and sends a request (retries per its idempotency).
    pub async fn send(&self, req: &Request) -> Result<Response> {
        let signed = self.sign(req)?;
        self.inner.transport.execute(&signed).await
    }

    /// The payload of an answer: the value at the data pointer, or the whole body.
    fn payload<'a>(&self, body: &'a Value) -> &'a Value {
        let p = &self.inner.config.data_pointer;
        if p.is_empty() {
            return body;
        }
        match body.pointer(p) {
            Some(v) if !v.is_null() => v,
            _ => body,
        }
    }

    /// Financial figures for a period (`GET ERP_FINANCIAL_PATH?start_date=…&end_date=…`).
    ///
    /// With a built-in profile other than `own`, the period's orders are summed instead (see
    /// [`crate::Profile`]): `revenue` only, `raw` = `{"source":"orders","orders":n}`.
    #[tracing::instrument(name = "erp.financial_data", skip_all, fields(period = %period))]
    pub async fn financial_data(&self, period: &Period) -> Result<FinancialData> {
        let cfg = &self.inner.config;
        if let Some(flow) = self.flow() {
            return self.financial_from_orders(flow, period).await;
        }
        let (s, e) = &cfg.period_params;
        let req = Request::get("financial_data", cfg.paths.financial.clone())
            .query(s.clone(), period.start().to_string())
            .query(e.clone(), period.end().to_string());
        let body: Value = self.send(&req).await?.json()?;
        FinancialData::from_json(*period, self.payload(&body))
    }

    async fn financial_from_orders(
        &self,
        flow: &dyn Flow,
        period: &Period,
    ) -> Result<FinancialData> {
        use futures::TryStreamExt;
        let cfg = &self.inner.config;
        let days = cfg
            .profile_options
            .window_days
            .or(cfg.profile.window_days());
        let mut revenue = rust_decimal::Decimal::ZERO;
        let mut count: u64 = 0;
        for (start, end) in profile::windows(period, days) {
            let mut q = OrderQuery::new();
            q.filters = flow.period_filters(start, end);
            let mut orders = self.list_orders(q);
            while let Some(o) = orders.try_next().await? {
                count = count.saturating_add(1);
                if let Some(m) = o.total_amount {
                    revenue = revenue.checked_add(m.amount()).ok_or_else(|| {
                        Error::validation("revenue", "the period's total overflows a decimal")
                    })?;
                }
            }
        }
        Ok(FinancialData {
            period: *period,
            revenue: Some(crate::model::Money::new(revenue)),
            expenses: None,
            profit: None,
            currency: None,
            raw: serde_json::json!({"source": "orders", "orders": count}),
        })
    }

    /// The flow of the configured built-in profile (`None` for `own`).
    fn flow(&self) -> Option<&'static dyn Flow> {
        profile::flow(self.inner.config.profile)
    }

    /// Every order, page after page, as a stream (see [`crate::Pagination`]).
    pub fn list_orders(&self, query: OrderQuery) -> OrderStream {
        let pagination = self.inner.config.pagination.clone();
        let client = self.clone();
        let q = query.clone();
        order_stream(pagination, &query, move |page| {
            let (client, q) = (client.clone(), q.clone());
            async move { client.orders_page(&q, page).await }
        })
    }

    fn list_request(&self, query: &OrderQuery, page: u64, size: u32) -> Result<Request> {
        let cfg = &self.inner.config;
        if let Some(flow) = self.flow() {
            return flow.list_request(&cfg.profile_options, query, page, size);
        }
        let mut req = Request::get("list_orders", cfg.paths.orders.clone());
        for (k, v) in &query.filters {
            req = req.query(k.clone(), v.clone());
        }
        for (k, v) in cfg.pagination.style.params(page, size) {
            req = req.query(k, v);
        }
        Ok(req)
    }

    /// One page of the order list (0-based page number, whatever the style).
    #[tracing::instrument(name = "erp.orders_page", skip_all, fields(page))]
    pub async fn orders_page(&self, query: &OrderQuery, page: u64) -> Result<OrdersPage> {
        let cfg = &self.inner.config;
        query.validate(cfg.pagination.style)?;
        let req = self.list_request(query, page, cfg.pagination.page_size)?;
        let body: Value = self.send(&req).await?.json()?;
        match self.flow() {
            Some(flow) => profile::parse_page(flow, page, &body),
            None => self.parse_page(page, body),
        }
    }

    /// Reads a page of the own profile; the orders are moved out of `body` into their `raw`.
    fn parse_page(&self, page: u64, mut body: Value) -> Result<OrdersPage> {
        const OP: &str = "list_orders";
        let cfg = &self.inner.config;
        let ptr = &cfg.pagination.items_pointer;
        let total = body
            .pointer(&cfg.pagination.total_pointer)
            .filter(|_| !cfg.pagination.total_pointer.is_empty())
            .and_then(|v| match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            });
        let where_ = ptr.trim_start_matches('/').replace('/', ".");
        let found = if ptr.is_empty() {
            Some(&mut body)
        } else {
            body.pointer_mut(ptr)
        };
        let items = match found.map(Value::take) {
            Some(Value::Array(a)) => a,
            Some(Value::Null) => Vec::new(),
            Some(other) => {
                return Err(decode_error(
                    OP,
                    &where_,
                    &other,
                    "expected an array of orders",
                ))
            }
            None => {
                return Err(decode_error(
                    OP,
                    &where_,
                    &body,
                    &format!("no order list at {ptr:?} (set ERP_ORDERS_LIST_POINTER)"),
                ))
            }
        };
        let mut orders = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let path = format_args!("{where_}[{i}]");
            orders.push(Order::from_owned(OP, &path, item, &cfg.order_fields)?);
        }
        Ok(OrdersPage {
            page,
            orders,
            total,
        })
    }

    /// One order by id (`GET ERP_ORDER_PATH` with `{id}` replaced, percent-encoded).
    #[tracing::instrument(name = "erp.order", skip_all)]
    pub async fn order(&self, id: &str) -> Result<Order> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::validation("id", "is required"));
        }
        if id.chars().count() > MAX_ORDER_ID_LEN {
            return Err(Error::validation(
                "id",
                format!("at most {MAX_ORDER_ID_LEN} characters"),
            ));
        }
        if id.chars().any(char::is_control) {
            return Err(Error::validation(
                "id",
                "must not contain control characters",
            ));
        }
        let cfg = &self.inner.config;
        if let Some(flow) = self.flow() {
            let req = flow.detail_request(&cfg.profile_options, id)?;
            let body: Value = self.send(&req).await?.json()?;
            return profile::parse_detail(flow, id, &body);
        }
        let path = cfg
            .paths
            .order
            .replace("{id}", &utf8_percent_encode(id, SEGMENT).to_string());
        let body: Value = self.send(&Request::get("get_order", path)).await?.json()?;
        Order::from_json("get_order", "data", self.payload(&body), &cfg.order_fields)
    }

    /// Creates an order with a fresh idempotency key, sent on every attempt.
    ///
    /// Without an idempotency header configured the create is never replayed once it may have
    /// reached the ERP: a timeout then comes back as [`Error::OutcomeUnknown`].
    #[tracing::instrument(name = "erp.create_order", skip_all, fields(items = order.items.len()))]
    pub async fn create_order(&self, order: &NewOrder) -> Result<CreatedOrder> {
        order.validate()?;
        let cfg = &self.inner.config;
        if cfg.profile.dedupes_by_number() {
            // The ERP dedupes on the outer number: the caller's, or a fresh one per call.
            let number = order
                .external_id
                .clone()
                .unwrap_or_else(|| self.fresh_number());
            return self
                .create_with(order, self.number_idempotency(number))
                .await;
        }
        if self.flow().is_some() {
            // Kingdee refuses a second bill with the same number and ERPNext dedupes nothing:
            // never replayed once it may have been received. The number still goes out (as
            // FBillNo) so an unknown outcome can be looked up.
            let number = order
                .external_id
                .clone()
                .unwrap_or_else(|| self.fresh_number());
            return self
                .create_with_number(order, Idempotency::NonIdempotent, Some(number))
                .await;
        }
        let idem = match &cfg.idempotency_header {
            Some(h) => Idempotency::new_key(h.clone()),
            None => Idempotency::NonIdempotent,
        };
        self.create_with(order, idem).await
    }

    /// 32 hex characters, unique per call.
    fn fresh_number(&self) -> String {
        match Idempotency::new_key(self.number_header()) {
            Idempotency::Key { key, .. } => key,
            _ => String::new(),
        }
    }

    fn number_header(&self) -> http::HeaderName {
        self.inner
            .config
            .idempotency_header
            .clone()
            .unwrap_or(http::HeaderName::from_static(
                crate::config::DEFAULT_IDEMPOTENCY_HEADER,
            ))
    }

    /// A create made repeatable by the ERP's own outer order number.
    fn number_idempotency(&self, number: String) -> Idempotency {
        Idempotency::Key {
            header: self.number_header(),
            key: number,
        }
    }

    /// Creates an order with the caller's idempotency key: to retry a logical call whose
    /// outcome was unknown, pass the key it carried (`OutcomeUnknown` context
    /// `idempotency_key`, or [`CreatedOrder::idempotency_key`]).
    #[tracing::instrument(name = "erp.create_order", skip_all, fields(items = order.items.len()))]
    pub async fn create_order_with_key(
        &self,
        order: &NewOrder,
        key: impl Into<String>,
    ) -> Result<CreatedOrder> {
        order.validate()?;
        let key = key.into();
        let cfg = &self.inner.config;
        if cfg.profile.dedupes_by_number() {
            if order.external_id.as_deref().is_some_and(|x| x != key) {
                return Err(Error::validation(
                    "idempotency_key",
                    "must equal external_id: the ERP dedupes on the outer order number",
                ));
            }
            if key.is_empty() || key.len() > 64 || key.chars().any(char::is_control) {
                return Err(Error::validation(
                    "idempotency_key",
                    "the outer order number must be 1 to 64 characters without control characters",
                ));
            }
            return self.create_with(order, self.number_idempotency(key)).await;
        }
        if self.flow().is_some() {
            return Err(Error::config_var(
                "ERP_PROFILE",
                format!(
                    "{} cannot dedupe creates, so an idempotency key cannot be honoured",
                    cfg.profile
                ),
            ));
        }
        let Some(header) = self.inner.config.idempotency_header.clone() else {
            return Err(Error::config_var(
                "ERP_IDEMPOTENCY_HEADER",
                "is disabled, so an idempotency key cannot be sent",
            ));
        };
        if key.is_empty() || key.len() > 255 || HeaderValue::from_str(&key).is_err() {
            return Err(Error::validation(
                "idempotency_key",
                "must be 1 to 255 visible ASCII characters",
            ));
        }
        self.create_with(order, Idempotency::Key { header, key })
            .await
    }

    async fn create_with(&self, order: &NewOrder, idem: Idempotency) -> Result<CreatedOrder> {
        self.create_with_number(order, idem, None).await
    }

    async fn create_with_number(
        &self,
        order: &NewOrder,
        idem: Idempotency,
        number: Option<String>,
    ) -> Result<CreatedOrder> {
        let cfg = &self.inner.config;
        let key = match &idem {
            Idempotency::Key { key, .. } => Some(key.clone()),
            _ => None,
        };
        let number = key.clone().or(number).unwrap_or_default();
        let req = match self.flow() {
            Some(flow) => flow.create_request(&cfg.profile_options, order, &number, idem)?,
            None => Request::post("create_order", cfg.paths.create_order.clone(), idem)
                .json(&order.to_json())?,
        };
        let mut signed = self.sign(&req)?;
        signed = signed.outcome_context("customer", order.customer.trim());
        if let Some(x) = &order.external_id {
            signed = signed.outcome_context("external_id", x.clone());
        }
        if cfg.profile == crate::profile::Profile::Kingdee {
            signed = signed.outcome_context("bill_no", number.clone());
        }
        let body: Value = self.inner.transport.execute(&signed).await?.json()?;
        if let Some(flow) = self.flow() {
            let id = flow.created_id(&body, &number)?;
            return Ok(CreatedOrder {
                id,
                status: None,
                total_amount: Some(order.total()),
                idempotency_key: key,
                raw: body,
            });
        }
        let data = self.payload(&body);
        let parsed = Order::from_json("create_order", "data", data, &cfg.order_fields)?;
        Ok(CreatedOrder {
            id: parsed.id,
            status: parsed.status,
            total_amount: parsed.total_amount,
            idempotency_key: key,
            raw: data.clone(),
        })
    }

    /// The cheapest authenticated call: the first page of orders, one order long.
    pub async fn check_credentials(&self) -> Result<()> {
        let req = self.list_request(&OrderQuery::new(), 0, 1)?;
        self.send(&req).await.map(|_| ())
    }
}
