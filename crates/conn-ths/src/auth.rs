//! Access tokens: fetched with the refresh token, cached, persisted, replaced when rejected.
//!
//! `POST get_access_token` with header `refresh_token: <rt>` answers
//! `{"errorcode":0,"data":{"access_token":"…","expired_time":"2024-01-09 10:00:00"}}`. It returns
//! the account's current access token while that one is valid (7 days from first issue), so
//! calling it does not disturb other processes. `POST update_access_token` forces a new token
//! and **invalidates every older one**, so it is used only when a token just fetched with
//! `get_access_token` is still rejected.
//!
//! ⚠ `expired_time` is not in every client's documentation. It is read when present — as
//! `YYYY-MM-DD HH:MM:SS` Beijing time (UTC+8), or as Unix seconds/milliseconds — and when absent
//! the token is assumed to live [`DEFAULT_TOKEN_LIFETIME`](crate::config::DEFAULT_TOKEN_LIFETIME)
//! (configurable). Overestimating is harmless: a -1302 answer fetches a new token and replays.
//!
//! The [`IfindRefresher`](crate::IfindRefresher) plugs into conn-core's single-flight
//! [`TokenManager`](conn_core::token::TokenManager), which persists through a
//! [`TokenStore`](conn_core::token::TokenStore).
//!
//! This module holds the functions and constants; [`IfindRefresher`](crate::IfindRefresher) is
//! at the crate root.

pub(crate) mod endpoint;

pub use endpoint::{
    fingerprint, parse_expiry, parse_token_response, without_excerpts, ACCESS_TOKEN_HEADER,
    FINGERPRINT_KEY, GET_ACCESS_TOKEN, MAX_TOKEN_LIFETIME, REFRESH_TOKEN_HEADER,
    UPDATE_ACCESS_TOKEN,
};
