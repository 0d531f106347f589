//! [`ConfigBuilder::from_env`]: the `ERP_*` variables, every problem reported at once.

use conn_core::env::Env;
use conn_core::envelope::Code;
use conn_core::pointer::Pointer;
use conn_core::transport::TransportConfig;
use conn_core::{Error, Result};

use super::auth_env::auth_from_env;
use super::{header_name, Config, ConfigBuilder, DEFAULT_API_URL};
use crate::profile::Profile;

/// The problems found while reading the environment, so one run reports all of them.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<Error>);

impl Problems {
    /// The value, or `None` with the error kept.
    pub(crate) fn take<T>(&mut self, r: Result<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub(crate) fn push(&mut self, e: Error) {
        self.0.push(e);
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// A JSON pointer variable; `.` stands for the whole body (an empty variable counts as unset).
fn pointer_var(env: &Env, name: &str) -> Option<String> {
    env.get(name)
        .map(|v| if v == "." { String::new() } else { v })
}

fn list_var(v: &str) -> Vec<String> {
    v.split(',')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

impl Config {
    /// Reads `ERP_*` (and conn-core's `API_*`) variables from `env`, reporting **every**
    /// missing or invalid setting (the shape conn-douyin's `from_env_report` has); the
    /// builder's own checks run once the variables are readable.
    ///
    /// ```
    /// use conn_core::env::{Env, MapEnv};
    /// use conn_erp::Config;
    /// let env = Env::from_source(
    ///     MapEnv::new()
    ///         .set("ERP_AUTH_MODE", "kingdee_hmac")
    ///         .set("ERP_PAGE_SIZE", "lots"),
    /// );
    /// let errors = Config::from_env_report(&env).unwrap_err();
    /// let text = errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n");
    /// for var in ["ERP_APP_KEY", "ERP_APP_SECRET", "ERP_KINGDEE_ACCT_ID", "ERP_KINGDEE_USERNAME", "ERP_PAGE_SIZE"] {
    ///     assert!(text.contains(var), "{var}: {text}");
    /// }
    /// ```
    pub fn from_env_report(env: &Env) -> std::result::Result<Self, Vec<Error>> {
        ConfigBuilder::from_env_report(env)?
            .build()
            .map_err(|e| vec![e])
    }
}

impl ConfigBuilder {
    /// A builder filled from the environment (see [`crate::ENV_VARS`]): every problem found
    /// is in the one error; [`ConfigBuilder::from_env_report`] returns them as a list.
    pub fn from_env(env: &Env) -> Result<Self> {
        Self::from_env_report(env).map_err(Error::config_all)
    }

    /// A builder filled from the environment, or every problem found.
    pub fn from_env_report(env: &Env) -> std::result::Result<Self, Vec<Error>> {
        let mut p = Problems::default();
        let url = env
            .get("ERP_API_URL")
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        let transport = p.take(TransportConfig::from_env(env, &url, Some("ERP_API_URL")));
        let mut b = Self::new(url);
        b.base_url_var = Some("ERP_API_URL");
        b.transport = transport;
        let profile = env.get("ERP_PROFILE").and_then(|v| {
            p.take(v.parse::<Profile>().map_err(|()| {
                Error::config_var(
                    "ERP_PROFILE",
                    format!("expected own, jushuitan, wangdiantong, kingdee or erpnext, got {v:?}"),
                )
            }))
        });
        if let Some(auth) = auth_from_env(env, profile.and_then(Profile::auth_mode), &mut p) {
            b.auth = auth;
        }
        let profile =
            profile.unwrap_or_else(|| b.auth.mode().map_or(Profile::Own, Profile::implied_by));
        b = b.profile(profile);
        b.profile_options.shop = env.get("ERP_SHOP");
        if let Some(o) = env.get("ERP_KINGDEE_SALE_ORG") {
            b.profile_options.kingdee_sale_org = o;
        }
        b.profile_options.window_days = p
            .take(env.parse::<u32>("ERP_PERIOD_WINDOW_DAYS", "a whole number of days"))
            .flatten();
        for (var, slot) in [
            ("ERP_ORDERS_PATH", &mut b.paths.orders),
            ("ERP_ORDER_PATH", &mut b.paths.order),
            ("ERP_CREATE_ORDER_PATH", &mut b.paths.create_order),
            ("ERP_FINANCIAL_PATH", &mut b.paths.financial),
        ] {
            if let Some(v) = env.get(var) {
                *slot = v;
            }
        }
        if let Some(s) = env.get("ERP_PAGINATION") {
            let style = s.parse().map_err(|()| {
                Error::config_var(
                    "ERP_PAGINATION",
                    format!("expected page_index, page_no, limit_start or offset_limit, got {s:?}"),
                )
            });
            if let Some(style) = p.take(style) {
                b.pagination.style = style;
            }
        }
        let size = env.parse::<u32>("ERP_PAGE_SIZE", "a whole number of orders per page");
        if let Some(n) = p.take(size).flatten() {
            b.pagination.page_size = n;
        }
        if let Some(v) = pointer_var(env, "ERP_ORDERS_LIST_POINTER") {
            b.pagination.items_pointer = v;
        }
        if let Some(v) = pointer_var(env, "ERP_ORDERS_TOTAL_POINTER") {
            b.pagination.total_pointer = v;
        }
        if let Some(v) = pointer_var(env, "ERP_DATA_POINTER") {
            b.data_pointer = v;
        }
        if let Some(f) = env.get("ERP_ORDER_ID_FIELD") {
            b.order_fields.id = vec![f];
        }
        if let Some(f) = env.get("ERP_ORDER_AMOUNT_FIELD") {
            b.order_fields.total_amount = vec![f];
        }
        if let Some(h) = env.get("ERP_IDEMPOTENCY_HEADER") {
            match h.to_ascii_lowercase().as_str() {
                "none" | "off" | "false" | "0" => b.idempotency_header = None,
                _ => {
                    if let Some(name) = p.take(header_name("ERP_IDEMPOTENCY_HEADER", &h)) {
                        b.idempotency_header = Some(name);
                    }
                }
            }
        }
        if let Some(f) = env.get("ERP_ERROR_CODE_FIELDS") {
            b.envelope.code = if f.eq_ignore_ascii_case("none") {
                Vec::new()
            } else {
                list_var(&f).iter().map(|n| Pointer::new(n)).collect()
            };
        }
        if let Some(codes) = env.get("ERP_AUTH_ERROR_CODES") {
            b.envelope.auth_codes = list_var(&codes).into_iter().map(Code::from).collect();
        }
        if p.0.is_empty() {
            Ok(b)
        } else {
            Err(p.0)
        }
    }
}
