//! The built-in profiles (小红书, 知乎, 今日头条) and the generic custom shape: conventions of
//! this crate (⚠), since none of the platforms documents a publishing API.

use conn_core::envelope::Code;

use super::{
    AuthScheme, Endpoint, Envelope, FieldMapping, HttpMethod, Limits, ListField, Pointer, Profile,
    ResponseMapping, StatsEndpoint, StatsMapping,
};

/// The built-in profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// 小红书.
    Xiaohongshu,
    /// 知乎.
    Zhihu,
    /// 今日头条.
    Toutiao,
}

impl Builtin {
    /// All built-ins.
    pub const ALL: [Builtin; 3] = [Builtin::Xiaohongshu, Builtin::Zhihu, Builtin::Toutiao];

    /// The profile name.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Xiaohongshu => "xiaohongshu",
            Builtin::Zhihu => "zhihu",
            Builtin::Toutiao => "toutiao",
        }
    }

    /// The built-in by name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Its profile (no base URL).
    pub fn profile(self) -> Profile {
        match self {
            Builtin::Xiaohongshu => Profile::xiaohongshu(),
            Builtin::Zhihu => Profile::zhihu(),
            Builtin::Toutiao => Profile::toutiao(),
        }
    }
}

fn endpoint(method: HttpMethod, path: &str) -> Endpoint {
    Endpoint {
        method,
        path: path.to_owned(),
        api_method: None,
    }
}

fn stats_endpoint(method: HttpMethod, path: &str, id_field: &str) -> StatsEndpoint {
    StatsEndpoint {
        method,
        path: path.to_owned(),
        id_field: id_field.to_owned(),
        api_method: None,
    }
}

fn ptr(s: &str) -> Option<Pointer> {
    Some(Pointer::new(s))
}

fn at(s: &str) -> Vec<Pointer> {
    vec![Pointer::new(s)]
}

impl Profile {
    /// 小红书 notes (conventions, ⚠: Xiaohongshu documents no publishing API).
    pub fn xiaohongshu() -> Self {
        Self {
            name: "xiaohongshu".into(),
            base_url: None,
            auth: AuthScheme::Bearer,
            publish: endpoint(HttpMethod::Post, "/note/publish"),
            stats: stats_endpoint(HttpMethod::Post, "/note/stats", "note_id"),
            mapping: FieldMapping {
                title: "/title".into(),
                body: "/desc".into(),
                images: Some(ListField::array("/image_urls")),
                tags: Some(ListField::array("/topics")),
                fixed: Default::default(),
            },
            response: ResponseMapping {
                id: "/data/note_id".into(),
                stats: StatsMapping {
                    views: ptr("/data/view_count"),
                    likes: ptr("/data/liked_count"),
                    comments: ptr("/data/comment_count"),
                    shares: ptr("/data/share_count"),
                    favorites: ptr("/data/collected_count"),
                },
            },
            // The ark open platform's envelope: HTTP 200 with {error_code, success, data,
            // error_msg}; `success:false` or a non-zero `error_code` is an error.
            envelope: Envelope {
                code: at("/error_code"),
                success: vec![Code::from(0)],
                message: at("/error_msg"),
                success_flag: at("/success"),
                auth_codes: vec![Code::from(401), Code::from(403)],
                not_found_codes: vec![Code::from(404)],
                rate_limit_codes: vec![Code::from(429)],
                errors_with_http_200: true,
                ..Envelope::default()
            },
            limits: Limits {
                title_max_chars: Some(20),
                body_max_chars: Some(1000),
                min_images: 1,
                max_images: Some(18),
                max_tags: Some(10),
                ..Limits::default()
            },
            idempotency_header: None,
        }
    }

    /// 知乎 articles (conventions, ⚠: Zhihu documents no publishing API). The envelope is
    /// Zhihu's web API one: `{"error": {"code", "message"}}` on failure only.
    pub fn zhihu() -> Self {
        Self {
            name: "zhihu".into(),
            base_url: None,
            auth: AuthScheme::Bearer,
            publish: endpoint(HttpMethod::Post, "/articles"),
            stats: stats_endpoint(HttpMethod::Get, "/articles/{id}/stats", "id"),
            mapping: FieldMapping {
                title: "/title".into(),
                body: "/content".into(),
                images: Some(ListField::array("/image_urls")),
                tags: Some(ListField::array("/topics")),
                fixed: Default::default(),
            },
            response: ResponseMapping {
                id: "/id".into(),
                stats: StatsMapping {
                    views: None,
                    likes: ptr("/voteup_count"),
                    comments: ptr("/comment_count"),
                    shares: None,
                    favorites: ptr("/favlists_count"),
                },
            },
            envelope: Envelope {
                code: at("/error/code"),
                message: at("/error/message"),
                auth_codes: vec![Code::from(100), Code::from(101)],
                not_found_codes: vec![Code::from(404)],
                rate_limit_codes: vec![Code::from(429)],
                ..Envelope::default()
            },
            limits: Limits {
                title_max_chars: Some(100),
                max_images: Some(20),
                max_tags: Some(3),
                ..Limits::default()
            },
            idempotency_header: None,
        }
    }

    /// 今日头条 articles (conventions, ⚠: Toutiao documents no publishing API). The envelope is
    /// the ByteDance open-platform one: HTTP 200 with `data.error_code`, `data.description`,
    /// `extra.logid`; `10008`/`2190008` mean the access token is invalid.
    pub fn toutiao() -> Self {
        Self {
            name: "toutiao".into(),
            base_url: None,
            auth: AuthScheme::Bearer,
            publish: endpoint(HttpMethod::Post, "/article/create/"),
            stats: stats_endpoint(HttpMethod::Get, "/article/stats/", "item_id"),
            mapping: FieldMapping {
                title: "/title".into(),
                body: "/content".into(),
                images: Some(ListField::array("/cover_images")),
                tags: Some(ListField::array("/tags")),
                fixed: Default::default(),
            },
            response: ResponseMapping {
                id: "/data/item_id".into(),
                stats: StatsMapping {
                    views: ptr("/data/read_count"),
                    likes: ptr("/data/digg_count"),
                    comments: ptr("/data/comment_count"),
                    shares: ptr("/data/share_count"),
                    favorites: ptr("/data/favorite_count"),
                },
            },
            envelope: Envelope {
                code: at("/data/error_code"),
                success: vec![Code::from(0)],
                message: at("/data/description"),
                log_id: at("/extra/logid"),
                auth_codes: vec![Code::from(10008), Code::from(2190008), Code::from(2190002)],
                not_found_codes: vec![Code::from(2190007)],
                rate_limit_codes: vec![Code::from(28003018), Code::from(28001052)],
                errors_with_http_200: true,
                ..Envelope::default()
            },
            limits: Limits {
                title_min_chars: 5,
                title_max_chars: Some(30),
                max_images: Some(3),
                max_tags: Some(5),
                ..Limits::default()
            },
            idempotency_header: None,
        }
    }

    /// A generic profile for an endpoint of your own (see the module docs for its shape).
    pub fn custom(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            base_url: None,
            auth: AuthScheme::Bearer,
            publish: endpoint(HttpMethod::Post, "/content/publish"),
            stats: stats_endpoint(HttpMethod::Get, "/content/{id}/stats", "content_id"),
            mapping: FieldMapping {
                title: "/title".into(),
                body: "/body".into(),
                images: Some(ListField::array("/images")),
                tags: Some(ListField::array("/tags")),
                fixed: Default::default(),
            },
            response: ResponseMapping {
                id: "/data/id".into(),
                stats: StatsMapping {
                    views: ptr("/data/views"),
                    likes: ptr("/data/likes"),
                    comments: ptr("/data/comments"),
                    shares: ptr("/data/shares"),
                    favorites: ptr("/data/favorites"),
                },
            },
            envelope: Envelope {
                code: at("/code"),
                success: vec![Code::from(0)],
                message: at("/message"),
                auth_codes: vec![Code::from(401), Code::from(403)],
                not_found_codes: vec![Code::from(404)],
                rate_limit_codes: vec![Code::from(429)],
                ..Envelope::default()
            },
            limits: Limits::default(),
            idempotency_header: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conn_core::error::ApiErrorKind;
    use http::StatusCode;
    use serde_json::json;

    #[test]
    fn the_toutiao_envelope_compares_codes_as_text() {
        let e = Profile::toutiao().envelope;
        let found = |v: serde_json::Value| e.error_in(StatusCode::OK, Some(&v));
        assert_eq!(found(json!({"data": {"error_code": "0"}})), None);
        let f = found(json!({"data": {"error_code": "10008", "description": "expired"}})).unwrap();
        assert_eq!(
            (f.code.as_str(), f.message.as_deref()),
            ("10008", Some("expired"))
        );
        assert_eq!(f.kind, ApiErrorKind::InvalidCredentials);
        assert_eq!(e.kind_of_code("28003018"), Some(ApiErrorKind::RateLimited));
        let f = e
            .error_in(
                StatusCode::BAD_GATEWAY,
                Some(&json!({"data": {"error_code": 1}})),
            )
            .unwrap();
        assert_eq!(f.kind, ApiErrorKind::ServerError);
        assert_eq!(
            e.success_body(),
            json!({"data": {"error_code": 0, "description": "success"}})
        );
    }

    #[test]
    fn the_zhihu_envelope_treats_an_absent_code_as_success() {
        let zhihu = Profile::zhihu().envelope;
        assert_eq!(
            zhihu.error_in(StatusCode::OK, Some(&json!({"id": 1}))),
            None
        );
        let body = zhihu.body_with(&Code::from(100), "bad token");
        let f = zhihu.error_in(StatusCode::OK, Some(&body)).unwrap();
        assert_eq!(
            (f.code.as_str(), f.message.as_deref()),
            ("100", Some("bad token"))
        );
    }
}
