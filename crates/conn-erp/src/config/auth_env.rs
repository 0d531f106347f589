//! The auth mode and its credentials from `ERP_*` variables: inference, contradiction checks,
//! and every missing or invalid credential reported together.

use conn_core::env::Env;
use conn_core::secret::{AccessToken, ApiKey, ClientSecret, Password, Secret};
use conn_core::{Error, Result};

use super::{header_name, Problems};
use crate::auth::{
    ApiKeyAuth, Auth, AuthMode, BasicAuth, BearerAuth, KingdeeHmacSigner, KingdeeIdentity, NoAuth,
    SortedMd5Signer, TokenAuth, WdtSigner,
};

/// Every credential variable, for the contradiction check.
const CREDENTIAL_VARS: [&str; 7] = [
    "ERP_API_KEY",
    "ERP_API_SECRET",
    "ERP_USERNAME",
    "ERP_PASSWORD",
    "ERP_APP_KEY",
    "ERP_APP_SECRET",
    "ERP_ACCESS_TOKEN",
];

/// The credential variables a mode reads.
fn credential_vars(mode: AuthMode) -> &'static [&'static str] {
    match mode {
        AuthMode::None => &[],
        AuthMode::ApiKey | AuthMode::Bearer => &["ERP_API_KEY"],
        AuthMode::Basic => &["ERP_USERNAME", "ERP_PASSWORD"],
        AuthMode::Token => &["ERP_API_KEY", "ERP_API_SECRET"],
        AuthMode::JstMd5 | AuthMode::WdtMd5 => {
            &["ERP_APP_KEY", "ERP_APP_SECRET", "ERP_ACCESS_TOKEN"]
        }
        AuthMode::KingdeeHmac => &["ERP_APP_KEY", "ERP_APP_SECRET"],
    }
}

pub(super) fn infer_mode(env: &Env) -> Result<AuthMode> {
    let set = |v: &str| env.is_set(v);
    let has_basic = set("ERP_USERNAME") || set("ERP_PASSWORD");
    if set("ERP_API_KEY") && has_basic {
        return Err(Error::config_var(
            "ERP_AUTH_MODE",
            "both ERP_API_KEY and ERP_USERNAME/ERP_PASSWORD are set and ERP_AUTH_MODE is not: \
             set ERP_AUTH_MODE=api_key or basic, or unset the variables of the other mode",
        ));
    }
    if set("ERP_APP_KEY") || set("ERP_APP_SECRET") || set("ERP_ACCESS_TOKEN") {
        return Err(Error::config_var(
            "ERP_AUTH_MODE",
            "ERP_APP_KEY/ERP_APP_SECRET are set but ERP_AUTH_MODE is not: choose the signing \
             scheme with ERP_AUTH_MODE=jst_md5, wdt_md5 or kingdee_hmac",
        ));
    }
    if set("ERP_API_SECRET") {
        return Err(Error::config_var(
            "ERP_AUTH_MODE",
            "ERP_API_SECRET is set but ERP_AUTH_MODE is not: for an ERPNext token header set \
             ERP_AUTH_MODE=token with ERP_API_KEY and ERP_API_SECRET",
        ));
    }
    Ok(if set("ERP_API_KEY") {
        AuthMode::ApiKey
    } else if has_basic {
        AuthMode::Basic
    } else {
        AuthMode::None
    })
}

fn require_secret(env: &Env, var: &str, mode: AuthMode) -> Result<Secret> {
    env.secret(var)
        .ok_or_else(|| Error::config_var(var, format!("not set; ERP_AUTH_MODE={mode} needs it")))
}

fn header_safe(var: &str, s: &Secret) -> Result<()> {
    if http::HeaderValue::from_str(s.expose_secret()).is_err() {
        return Err(Error::config_var(
            var,
            "contains characters not allowed in an HTTP header",
        ));
    }
    Ok(())
}

/// The auth of `env`, or `None` with every problem found pushed to `problems` (a missing
/// credential does not hide the next one).
pub(super) fn auth_from_env(
    env: &Env,
    profile_mode: Option<AuthMode>,
    problems: &mut Problems,
) -> Option<Auth> {
    let (mode, explicit) = match env.get("ERP_AUTH_MODE") {
        Some(m) => (
            problems.take(m.parse::<AuthMode>().map_err(|()| {
                Error::config_var(
                    "ERP_AUTH_MODE",
                    format!(
                        "expected api_key, basic, token, bearer, jst_md5, wdt_md5, kingdee_hmac \
                         or none, got {m:?}"
                    ),
                )
            }))?,
            true,
        ),
        None => match profile_mode {
            Some(m) => (m, true),
            None => (problems.take(infer_mode(env))?, false),
        },
    };
    let used = credential_vars(mode);
    let stray: Vec<&str> = CREDENTIAL_VARS
        .iter()
        .copied()
        .filter(|v| env.is_set(v) && !used.contains(v))
        .collect();
    if let Some(first) = stray.first() {
        let how = if explicit {
            format!("ERP_AUTH_MODE={mode}")
        } else {
            format!("the inferred ERP_AUTH_MODE={mode}")
        };
        problems.push(Error::config_var(
            *first,
            format!(
                "{} set but {how} does not use it; unset it or choose another ERP_AUTH_MODE",
                stray.join(", ")
            ),
        ));
    }
    let before = problems.len();
    // Every required value is read before any is used, so all missing ones are reported.
    let secret = |p: &mut Problems, var: &str| {
        p.take(require_secret(env, var, mode).and_then(|s| header_safe(var, &s).map(|()| s)))
    };
    let plain = |p: &mut Problems, var: &str, what: &str| p.take(env.require(var, what));
    let auth = match mode {
        AuthMode::None => Some(Auth::None(NoAuth)),
        AuthMode::ApiKey => {
            let key = secret(problems, "ERP_API_KEY");
            let header = env
                .get("ERP_API_KEY_HEADER")
                .map(|h| header_name("ERP_API_KEY_HEADER", &h))
                .transpose();
            let header = problems.take(header);
            match (key, header) {
                (Some(k), Some(h)) => {
                    let mut a = ApiKeyAuth::new(ApiKey::from(k));
                    if let Some(h) = h {
                        a = a.with_header(h);
                    }
                    Some(Auth::ApiKey(a))
                }
                _ => None,
            }
        }
        AuthMode::Basic => {
            let user = plain(
                problems,
                "ERP_USERNAME",
                "the ERP user name (ERP_AUTH_MODE=basic)",
            );
            let pass = problems.take(require_secret(env, "ERP_PASSWORD", mode));
            if user.as_deref().is_some_and(|u| u.contains(':')) {
                problems.push(Error::config_var(
                    "ERP_USERNAME",
                    "must not contain ':' (Basic auth separates user and password with it)",
                ));
            }
            match (user, pass) {
                (Some(u), Some(p)) => Some(Auth::Basic(BasicAuth::new(u, Password::from(p)))),
                _ => None,
            }
        }
        AuthMode::Token => {
            let key = secret(problems, "ERP_API_KEY");
            let sec = secret(problems, "ERP_API_SECRET");
            match (key, sec) {
                (Some(k), Some(s)) => Some(Auth::Token(TokenAuth::new(
                    ApiKey::from(k),
                    ClientSecret::from(s),
                ))),
                _ => None,
            }
        }
        AuthMode::Bearer => secret(problems, "ERP_API_KEY")
            .map(|k| Auth::Bearer(BearerAuth::new(AccessToken::from(k)))),
        AuthMode::JstMd5 => {
            let app_key = plain(problems, "ERP_APP_KEY", "the 聚水潭 app key");
            let sec = problems.take(require_secret(env, "ERP_APP_SECRET", mode));
            let extra = env
                .get("ERP_SIGN_EXTRA_PARAMS")
                .map(|x| {
                    serde_urlencoded::from_str::<Vec<(String, String)>>(&x).map_err(|_| {
                        Error::config_var(
                            "ERP_SIGN_EXTRA_PARAMS",
                            "expected form-encoded pairs such as charset=utf-8&version=2",
                        )
                    })
                })
                .transpose();
            let extra = problems.take(extra);
            match (app_key, sec, extra) {
                (Some(k), Some(sec), Some(extra)) => {
                    let mut s = SortedMd5Signer::jushuitan(k, ClientSecret::from(sec));
                    if let Some(t) = env.secret("ERP_ACCESS_TOKEN") {
                        s = s.with_access_token(AccessToken::from(t));
                    }
                    if let Some(n) = env.get("ERP_SIGN_APP_KEY_NAME") {
                        let mut names = s.names().clone();
                        names.app_key = n;
                        s = s.with_names(names);
                    }
                    if let Some(extra) = extra {
                        s = s.with_extra_params(extra);
                    }
                    Some(Auth::Md5(s))
                }
                _ => None,
            }
        }
        AuthMode::WdtMd5 => {
            let sid = plain(problems, "ERP_WDT_SID", "the 旺店通 seller account (sid)");
            let key = plain(problems, "ERP_APP_KEY", "the 旺店通 app key");
            let sec = problems.take(require_secret(env, "ERP_APP_SECRET", mode));
            match (sid, key, sec) {
                (Some(sid), Some(key), Some(sec)) => problems
                    .take(WdtSigner::new(sid, key, ClientSecret::from(sec)))
                    .map(Auth::Wdt),
                _ => None,
            }
        }
        AuthMode::KingdeeHmac => {
            let app_id = plain(
                problems,
                "ERP_APP_KEY",
                "the Kingdee AppId (<client id>_<32 characters>)",
            );
            let sec = problems.take(require_secret(env, "ERP_APP_SECRET", mode));
            let acct = plain(
                problems,
                "ERP_KINGDEE_ACCT_ID",
                "the Kingdee data centre (账套) id",
            );
            let user = plain(problems, "ERP_KINGDEE_USERNAME", "the Kingdee user name");
            let lcid =
                problems.take(env.parse::<u32>("ERP_KINGDEE_LCID", "a locale id such as 2052"));
            match (app_id, sec, acct, user, lcid) {
                (Some(app_id), Some(sec), Some(acct), Some(user), Some(lcid)) => {
                    let mut id = KingdeeIdentity::new(acct, user);
                    if let Some(l) = lcid {
                        id.lcid = l;
                    }
                    if let Some(o) = env.get("ERP_KINGDEE_ORG_NUM") {
                        id.org_num = o;
                    }
                    problems
                        .take(KingdeeHmacSigner::new(app_id, ClientSecret::from(sec), id))
                        .map(Auth::Kingdee)
                }
                _ => None,
            }
        }
    };
    auth.filter(|_| problems.len() == before)
}
