//! Redacting secret types.
//!
//! Every token, app secret, password and key in the workspace lives in a [`Secret`] or in one of
//! the typed newtypes declared with [`secret_type!`](crate::secret_type). `Debug` prints
//! `[redacted]`, there is no `Display`, no `Serialize`, and reading the value needs an explicit
//! [`Secret::expose_secret`] call, so a secret reaching a log is a visible decision in review.
//! The buffer is zeroized when the value is dropped.
//!
//! ```
//! use conn_core::secret::Secret;
//!
//! let s = Secret::new("act.123456");
//! assert_eq!(format!("{s:?}"), "Secret([redacted])");
//! assert_eq!(s.expose_secret(), "act.123456");
//! ```

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A string secret: redacted in `Debug`, zeroized on drop, compared in constant time.
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// Reads the secret. Call sites are where a secret leaves its box: keep them few.
    pub fn expose_secret(&self) -> &str {
        self.0.as_str()
    }

    /// True when the secret is the empty string (an unset variable, say).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of bytes in the secret; useful for validation messages that must not show it.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// A masked preview for humans (`ab…yz (32 chars)`); short secrets are fully masked.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 12 {
            return format!("**** ({} chars)", chars.len());
        }
        let head: String = chars[..2].iter().collect();
        let tail: String = chars[chars.len() - 2..].iter().collect();
        format!("{head}…{tail} ({} chars)", chars.len())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl PartialEq for Secret {
    /// Constant-time in the length of the shorter value, so comparisons leak no prefix.
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

/// Declares a typed secret newtype over [`Secret`], in the style of oauth2-rs.
///
/// ```
/// conn_core::secret_type! {
///     /// An API key for some service.
///     ApiKey
/// }
/// let k = ApiKey::new("k-123");
/// assert_eq!(format!("{k:?}"), "ApiKey([redacted])");
/// assert_eq!(k.expose_secret(), "k-123");
/// ```
#[macro_export]
macro_rules! secret_type {
    ($(#[$attr:meta])* $name:ident) => {
        $(#[$attr])*
        #[derive(Clone, PartialEq, Eq, Default)]
        pub struct $name($crate::secret::Secret);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self($crate::secret::Secret::new(value))
            }
            /// Reads the secret; call sites are where it leaves its box.
            pub fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }
            /// The untyped secret.
            pub fn as_secret(&self) -> &$crate::secret::Secret {
                &self.0
            }
            /// True when empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl From<$name> for $crate::secret::Secret {
            fn from(s: $name) -> Self {
                s.0
            }
        }

        impl From<$crate::secret::Secret> for $name {
            fn from(s: $crate::secret::Secret) -> Self {
                Self(s)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self::new(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::new(s)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::secret::Secret::deserialize(d).map(Self)
            }
        }
    };
}

secret_type! {
    /// A bearer/access token (`act.…` on Douyin, iFinD `access_token`).
    AccessToken
}
secret_type! {
    /// A refresh token (`rft.…` on Douyin, iFinD `refresh_token`).
    RefreshToken
}
secret_type! {
    /// An application secret (Douyin `client_secret`, ERP signing secrets).
    ClientSecret
}
secret_type! {
    /// An API key sent in a header.
    ApiKey
}
secret_type! {
    /// A password (Basic auth).
    Password
}

/// Builds a header value that carries a secret, marked sensitive so that hyper/h2 never index it
/// and reqwest's `Debug` never prints it.
///
/// ```
/// use conn_core::secret::{sensitive_header, Secret};
/// let v = sensitive_header(&Secret::new("act.1")).unwrap();
/// assert!(v.is_sensitive());
/// ```
pub fn sensitive_header(
    secret: &Secret,
) -> Result<http::HeaderValue, http::header::InvalidHeaderValue> {
    sensitive_header_str(secret.expose_secret())
}

/// Like [`sensitive_header`] for a value already composed from a secret (`Bearer …`, `token k:s`).
pub fn sensitive_header_str(
    value: &str,
) -> Result<http::HeaderValue, http::header::InvalidHeaderValue> {
    let mut v = http::HeaderValue::from_str(value)?;
    v.set_sensitive(true);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_for_all_types() {
        let v = "super-secret-value";
        for printed in [
            format!("{:?}", Secret::new(v)),
            format!("{:?}", AccessToken::new(v)),
            format!("{:?}", RefreshToken::new(v)),
            format!("{:?}", ClientSecret::new(v)),
            format!("{:?}", ApiKey::new(v)),
            format!("{:?}", Password::new(v)),
            format!("{:#?}", Some(AccessToken::new(v))),
        ] {
            assert!(!printed.contains(v), "{printed}");
            assert!(printed.contains("[redacted]"), "{printed}");
        }
    }

    #[test]
    fn masked_never_shows_the_middle() {
        assert_eq!(Secret::new("abc").masked(), "**** (3 chars)");
        let m = Secret::new("act.0123456789abcdef").masked();
        assert_eq!(m, "ac…ef (20 chars)");
    }

    #[test]
    fn equality_and_deserialize() {
        let a: AccessToken = serde_json::from_str("\"x\"").unwrap();
        assert_eq!(a, AccessToken::new("x"));
        assert_ne!(a, AccessToken::new("y"));
    }
}
