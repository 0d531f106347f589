//! The platform's wire addresses: hosts, paths and the token header, for code that talks to
//! Douyin (or a fake of it) beside the [`Client`](crate::Client), such as benchmarks and mock
//! servers. The client uses these same constants, so a path changes in one place.
//!
//! ```
//! use conn_douyin::endpoint;
//! assert_eq!(
//!     format!("{}{}", endpoint::DEFAULT_BASE_URL, endpoint::VIDEO_LIST_PATH),
//!     "https://open.douyin.com/api/douyin/v1/video/video_list/"
//! );
//! ```

use http::HeaderName;

/// The production host.
pub const DEFAULT_BASE_URL: &str = "https://open.douyin.com";
/// The sandbox host.
pub const SANDBOX_BASE_URL: &str = "https://open-sandbox.douyin.com";

/// The header carrying the user access token on resource APIs.
pub const ACCESS_TOKEN_HEADER: HeaderName = HeaderName::from_static("access-token");

/// Path of the authorization page.
pub const AUTHORIZE_PATH: &str = "/platform/oauth/connect/";
/// Path of the code exchange.
pub const ACCESS_TOKEN_PATH: &str = "/oauth/access_token/";
/// Path of the access-token refresh.
pub const REFRESH_TOKEN_PATH: &str = "/oauth/refresh_token/";
/// Path of the refresh-token renewal.
pub const RENEW_REFRESH_TOKEN_PATH: &str = "/oauth/renew_refresh_token/";
/// Path of the app's client token.
pub const CLIENT_TOKEN_PATH: &str = "/oauth/client_token/";

/// Path of the single-request video upload.
pub const UPLOAD_VIDEO_PATH: &str = "/api/douyin/v1/video/upload_video/";
/// Path of the chunked-upload init.
pub const INIT_PART_UPLOAD_PATH: &str = "/api/douyin/v1/video/init_video_part_upload/";
/// Path of a chunked-upload part.
pub const UPLOAD_PART_PATH: &str = "/api/douyin/v1/video/upload_video_part/";
/// Path of the chunked-upload completion.
pub const COMPLETE_PART_UPLOAD_PATH: &str = "/api/douyin/v1/video/complete_video_part_upload/";
/// Path of the image upload.
pub const UPLOAD_IMAGE_PATH: &str = "/api/douyin/v1/video/upload_image/";

/// Path of `create_video`.
pub const CREATE_VIDEO_PATH: &str = "/api/douyin/v1/video/create_video/";
/// Path of `create_image_text`.
pub const CREATE_IMAGE_TEXT_PATH: &str = "/api/douyin/v1/video/create_image_text/";

/// Path of `video_list`.
pub const VIDEO_LIST_PATH: &str = "/api/douyin/v1/video/video_list/";
/// Path of `video_data`.
pub const VIDEO_DATA_PATH: &str = "/api/douyin/v1/video/video_data/";
