//! Kingdee 金蝶云星空 (K3Cloud) WebAPI signing, as the official SDK does it.
//!
//! Source: the PyPI package `kingdee.cdp.webapi.sdk` (8.2.0), `WebApiClient.BuildHeader` in
//! `k3cloud_webapi_sdk/core/webapi_client.py`; the known answers in
//! `tests/vectors/kingdee.json` were produced by running that code (`tests/vectors/kingdee.py`).
//!
//! Every request carries:
//!
//! | header | value |
//! |---|---|
//! | `X-Api-ClientID` | the AppId's part before `_` |
//! | `X-Api-Auth-Version` | `2.0` |
//! | `x-api-timestamp` | Unix **seconds** |
//! | `x-api-nonce` | a unique string; the SDK sends the same seconds, and so do we |
//! | `x-api-signheaders` | `x-api-timestamp,x-api-nonce` |
//! | `X-Api-Signature` | `base64(hex(HMAC-SHA256(client_secret, "POST\n" + enc(path) + "\n\nx-api-nonce:" + nonce + "\nx-api-timestamp:" + ts + "\n")))` |
//! | `X-Kd-Appkey` | the AppId |
//! | `X-Kd-Appdata` | `base64(acct_id + "," + username + "," + lcid + "," + org_num)` |
//! | `X-Kd-Signature` | `base64(hex(HMAC-SHA256(app_secret, AppId + appdata)))` |
//!
//! `enc` is RFC 3986 percent-encoding of the decoded path that also encodes `/` (Python
//! `quote(path).replace('/', '%2F')`), and `client_secret` is derived from the AppId
//! ([`derive_client_secret`]), not the app secret.

use base64::Engine;
use conn_core::secret::{sensitive_header_str, ClientSecret};
use conn_core::{Error, Result};
use hmac::{Hmac, Mac};
use http::header::HeaderName;
use http::HeaderValue;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;

use super::{plain_header, RequestSigner, SignableRequest, SigningContext};

/// What Python's `quote()` keeps (letters, digits, `_.-~`); `/` is encoded too, as the SDK
/// replaces it by `%2F` afterwards.
const SDK_QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// ROT13 of the SDK's XOR seed `0054s397p6234378o09pn7q3r5qropr7` (`encode_util.rot`).
const XOR_KEY: &[u8; 32] = b"0054f397c6234378b09ca7d3e5debce7";

/// The path as the signature sees it: percent-decoded, then encoded the SDK's way.
///
/// ```
/// use conn_erp::auth::kingdee_encode_path;
/// assert_eq!(
///     kingdee_encode_path("/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc"),
///     "%2Fk3cloud%2FKingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc"
/// );
/// assert_eq!(kingdee_encode_path("/k3%20cloud/x"), "%2Fk3%20cloud%2Fx");
/// ```
pub fn kingdee_encode_path(path: &str) -> String {
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    utf8_percent_encode(&decoded, SDK_QUOTE).to_string()
}

/// Splits a Kingdee AppId (`<client id>_<32 base64 characters>`) into the client id and the
/// client secret the gateway signature is keyed with: the 32 characters are base64-decoded,
/// XORed byte by byte with ROT13(`0054s397p6234378o09pn7q3r5qropr7`) and base64-encoded again
/// (`encode_util.DecodeAppSecret`).
///
/// The SDK silently signs with an empty key when the AppId has another shape; here that is a
/// configuration error naming `ERP_APP_KEY`.
///
/// ```
/// let (id, secret) = conn_erp::auth::derive_client_secret("224466_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX").unwrap();
/// assert_eq!(id, "224466");
/// assert_eq!(secret.expose_secret().len(), 32);
/// assert!(conn_erp::auth::derive_client_secret("no-underscore").is_err());
/// ```
pub fn derive_client_secret(app_id: &str) -> Result<(String, ClientSecret)> {
    let bad = |rule: &str| Error::config_var("ERP_APP_KEY", format!("the Kingdee AppId {rule}"));
    let mut parts = app_id.split('_');
    let (Some(id), Some(tail), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad(
            "must be <client id>_<32 characters>, with exactly one '_'",
        ));
    };
    if id.is_empty() || tail.len() != 32 {
        return Err(bad("must be <client id>_<32 characters>"));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes = b64
        .decode(tail)
        .map_err(|_| bad("part after '_' is not base64"))?;
    let xored: Vec<u8> = bytes
        .iter()
        .zip(XOR_KEY.iter())
        .map(|(b, k)| b ^ k)
        .collect();
    Ok((id.to_owned(), ClientSecret::new(b64.encode(xored))))
}

/// `base64(lowercase-hex(HMAC-SHA256(key, msg)))`: the base64 of the *hex text* of the MAC.
///
/// ```
/// // printf '%s' 'abc' | openssl dgst -sha256 -hmac 'key'
/// //   → 9c196e32dc0175f86f4b1cb89289d6619de6bee699e4c378e68309ed97a1a6ab
/// // printf '%s' '9c196e32dc0175f86f4b1cb89289d6619de6bee699e4c378e68309ed97a1a6ab' | base64 -w0
/// let sig = conn_erp::auth::hmac_signature("key", "abc");
/// assert_eq!(sig, "OWMxOTZlMzJkYzAxNzVmODZmNGIxY2I4OTI4OWQ2NjE5ZGU2YmVlNjk5ZTRjMzc4ZTY4MzA5ZWQ5N2ExYTZhYg==");
/// ```
pub fn hmac_signature(key: &str, msg: &str) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; an empty MAC rather
    // than a panic if that ever changes (the server then rejects the call).
    let hex_mac = match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(msg.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    base64::engine::general_purpose::STANDARD.encode(hex_mac)
}

/// The string the gateway signature covers.
///
/// ```
/// let s = conn_erp::auth::kingdee_string_to_sign("/k3cloud/a.common.kdsvc", "1700000000", 1_700_000_000);
/// assert_eq!(s, "POST\n%2Fk3cloud%2Fa.common.kdsvc\n\nx-api-nonce:1700000000\nx-api-timestamp:1700000000\n");
/// ```
pub fn kingdee_string_to_sign(path: &str, nonce: &str, unix_seconds: i64) -> String {
    format!(
        "POST\n{}\n\nx-api-nonce:{nonce}\nx-api-timestamp:{unix_seconds}\n",
        kingdee_encode_path(path)
    )
}

/// Who calls: the account (data centre) id, the user, the locale and the organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KingdeeIdentity {
    /// The data centre (账套) id, `ERP_KINGDEE_ACCT_ID`.
    pub acct_id: String,
    /// The user name, `ERP_KINGDEE_USERNAME`.
    pub username: String,
    /// The locale id, `ERP_KINGDEE_LCID` (2052 = simplified Chinese, the SDK's default).
    pub lcid: u32,
    /// The organisation number, `ERP_KINGDEE_ORG_NUM` (0, the SDK's default).
    pub org_num: String,
}

impl KingdeeIdentity {
    /// An identity with the SDK's default locale (2052) and organisation (0).
    pub fn new(acct_id: impl Into<String>, username: impl Into<String>) -> Self {
        Self {
            acct_id: acct_id.into(),
            username: username.into(),
            lcid: 2052,
            org_num: "0".to_owned(),
        }
    }

    /// `acct_id,username,lcid,org_num`, the plain text of `X-Kd-Appdata`.
    pub fn app_data(&self) -> String {
        format!(
            "{},{},{},{}",
            self.acct_id, self.username, self.lcid, self.org_num
        )
    }
}

/// The Kingdee K3Cloud WebAPI signer (`ERP_AUTH_MODE=kingdee`).
#[derive(Debug, Clone)]
pub struct KingdeeHmacSigner {
    app_id: String,
    client_id: String,
    client_secret: ClientSecret,
    app_secret: ClientSecret,
    identity: KingdeeIdentity,
}

impl KingdeeHmacSigner {
    /// A signer for an AppId (`<client id>_<32 characters>`), its app secret and an identity.
    /// Fails when the AppId has another shape (the client secret cannot be derived).
    pub fn new(
        app_id: impl Into<String>,
        app_secret: ClientSecret,
        identity: KingdeeIdentity,
    ) -> Result<Self> {
        let app_id = app_id.into();
        if HeaderValue::from_str(&app_id).is_err() {
            return Err(Error::config_var(
                "ERP_APP_KEY",
                "contains characters not allowed in an HTTP header",
            ));
        }
        let (client_id, client_secret) = derive_client_secret(&app_id)?;
        Ok(Self {
            app_id,
            client_id,
            client_secret,
            app_secret,
            identity,
        })
    }

    /// The AppId (`X-Kd-Appkey`).
    pub fn app_key(&self) -> &str {
        &self.app_id
    }

    /// The client id (`X-Api-ClientID`).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The identity.
    pub fn identity(&self) -> &KingdeeIdentity {
        &self.identity
    }

    /// The derived client secret (what the fake verifies the gateway signature with).
    #[cfg_attr(not(feature = "fake"), allow(dead_code))]
    pub(crate) fn client_secret(&self) -> &ClientSecret {
        &self.client_secret
    }
}

fn header(name: &'static str) -> HeaderName {
    HeaderName::from_static(name)
}

impl RequestSigner for KingdeeHmacSigner {
    fn sign(&self, request: &mut SignableRequest, ctx: &SigningContext) -> Result<()> {
        let ts = ctx.unix_seconds();
        // The SDK's nonce is the timestamp itself; the gateway only asks for a unique string.
        let nonce = ts.to_string();
        let gateway = hmac_signature(
            self.client_secret.expose_secret(),
            &kingdee_string_to_sign(request.path(), &nonce, ts),
        );
        let app_data = self.identity.app_data();
        let kd = hmac_signature(
            self.app_secret.expose_secret(),
            &format!("{}{app_data}", self.app_id),
        );
        let b64 = base64::engine::general_purpose::STANDARD;
        let h = &mut request.headers;
        h.insert(
            header("x-api-clientid"),
            plain_header(&self.client_id, "Kingdee client id")?,
        );
        h.insert(
            header("x-api-auth-version"),
            HeaderValue::from_static("2.0"),
        );
        h.insert(header("x-api-timestamp"), HeaderValue::from(ts));
        h.insert(header("x-api-nonce"), plain_header(&nonce, "nonce")?);
        h.insert(
            header("x-api-signheaders"),
            HeaderValue::from_static("x-api-timestamp,x-api-nonce"),
        );
        h.insert(
            header("x-kd-appkey"),
            plain_header(&self.app_id, "Kingdee AppId")?,
        );
        h.insert(
            header("x-kd-appdata"),
            plain_header(&b64.encode(app_data.as_bytes()), "Kingdee app data")?,
        );
        // Both signatures derive from secrets: sensitive, so they are never logged or indexed.
        let sensitive = |v: &str| {
            sensitive_header_str(v).map_err(|_| Error::config("signature is not a header value"))
        };
        h.insert(header("x-api-signature"), sensitive(&gateway)?);
        h.insert(header("x-kd-signature"), sensitive(&kd)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn signs_every_header_of_the_sdk() {
        let s = KingdeeHmacSigner::new(
            "224466_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX",
            ClientSecret::new("sec"),
            KingdeeIdentity::new("acct", "user"),
        )
        .unwrap();
        let mut r = SignableRequest::new(Method::POST, "/k3cloud/x.common.kdsvc");
        s.sign(&mut r, &SigningContext::new(1_700_000_000_999, "ignored"))
            .unwrap();
        assert_eq!(r.headers["x-api-clientid"], "224466");
        assert_eq!(r.headers["x-api-timestamp"], "1700000000");
        assert_eq!(r.headers["x-api-nonce"], "1700000000");
        assert!(r.headers["x-api-signature"].is_sensitive());
        assert!(r.headers["x-kd-signature"].is_sensitive());
        assert_eq!(r.headers["x-kd-appkey"], s.app_key());
    }

    #[test]
    fn app_ids_of_the_wrong_shape_are_config_errors() {
        for bad in [
            "",
            "_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX",
            "1_short",
            "1_2_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX",
            "1_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        ] {
            let e = derive_client_secret(bad).unwrap_err();
            assert!(e.to_string().contains("ERP_APP_KEY"), "{bad:?}: {e}");
        }
    }
}
