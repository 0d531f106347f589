//! The fake platform's state and rules: codes, tokens with their real lifetimes and rotation,
//! uploads (sizes and part numbers only), items, statistics, faults, counters, the request log.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use conn_core::clock::SharedClock;
use rand::RngCore;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::data::Statistics;

/// The platform operations the fake serves.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `GET /platform/oauth/connect/` (the authorization page).
    Authorize,
    /// `POST /oauth/access_token/`.
    AccessToken,
    /// `POST /oauth/refresh_token/`.
    RefreshToken,
    /// `POST /oauth/renew_refresh_token/`.
    RenewRefreshToken,
    /// `POST /oauth/client_token/`.
    ClientToken,
    /// `POST …/upload_video/`.
    UploadVideo,
    /// `POST …/init_video_part_upload/`.
    InitVideoPartUpload,
    /// `POST …/upload_video_part/`.
    UploadVideoPart,
    /// `POST …/complete_video_part_upload/`.
    CompleteVideoPartUpload,
    /// `POST …/create_video/`.
    CreateVideo,
    /// `POST …/upload_image/`.
    UploadImage,
    /// `POST …/create_image_text/`.
    CreateImageText,
    /// `GET …/video_list/`.
    VideoList,
    /// `POST …/video_data/`.
    VideoData,
    /// Any other request.
    Unknown,
}

impl Op {
    /// The operation of a method and path.
    pub fn of(method: &str, path: &str) -> Op {
        let p = path.trim_end_matches('/');
        let post = method.eq_ignore_ascii_case("POST");
        let get = method.eq_ignore_ascii_case("GET");
        match p {
            "/platform/oauth/connect" if get => Op::Authorize,
            "/oauth/access_token" if post => Op::AccessToken,
            "/oauth/refresh_token" if post => Op::RefreshToken,
            "/oauth/renew_refresh_token" if post => Op::RenewRefreshToken,
            "/oauth/client_token" if post => Op::ClientToken,
            "/api/douyin/v1/video/upload_video" if post => Op::UploadVideo,
            "/api/douyin/v1/video/init_video_part_upload" if post => Op::InitVideoPartUpload,
            "/api/douyin/v1/video/upload_video_part" if post => Op::UploadVideoPart,
            "/api/douyin/v1/video/complete_video_part_upload" if post => {
                Op::CompleteVideoPartUpload
            }
            "/api/douyin/v1/video/create_video" if post => Op::CreateVideo,
            "/api/douyin/v1/video/upload_image" if post => Op::UploadImage,
            "/api/douyin/v1/video/create_image_text" if post => Op::CreateImageText,
            "/api/douyin/v1/video/video_list" if get => Op::VideoList,
            "/api/douyin/v1/video/video_data" if post => Op::VideoData,
            _ => Op::Unknown,
        }
    }

    /// True for the token endpoints (their envelope has no `extra`).
    pub fn is_oauth(self) -> bool {
        matches!(
            self,
            Op::Authorize
                | Op::AccessToken
                | Op::RefreshToken
                | Op::RenewRefreshToken
                | Op::ClientToken
        )
    }
}

/// A fault to inject with [`FakeDouyin::fail_next`](super::FakeDouyin::fail_next).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// "System busy" (2100004): the work is not done.
    Busy,
    /// "Access token expired" (2190008 on APIs, 10008 on token endpoints).
    TokenExpired,
    /// "Too frequent" (28003018).
    RateLimited,
    /// Any Douyin code, with its description.
    Code(i64, String),
    /// The work **is done**, and the answer comes this much later (a client timing out first
    /// cannot know whether it happened).
    Slow(Duration),
    /// An HTTP error status with a non-JSON body; the work is not done.
    Http(u16),
    /// The connection is closed without an answer; the work is not done.
    DropConnection,
}

/// How `/oauth/refresh_token/` treats the refresh token (⚠ the sources disagree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefreshRotation {
    /// The same refresh token is returned (default).
    #[default]
    Same,
    /// No refresh token in the response.
    Omit,
    /// A new refresh token replaces the old one, which dies (expiry unchanged).
    New,
}

/// Summary of one multipart field (the fake never keeps uploaded bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PartSummary {
    /// Field name.
    pub name: String,
    /// File name.
    pub file_name: Option<String>,
    /// Content type.
    pub content_type: Option<String>,
    /// Size in bytes.
    pub size: u64,
}

/// A recorded request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedBody {
    /// No body.
    Empty,
    /// JSON.
    Json(Value),
    /// A form, in order.
    Form(Vec<(String, String)>),
    /// Multipart fields, sizes only.
    Multipart(Vec<PartSummary>),
    /// Anything else: its size.
    Bytes(u64),
}

/// One request as the fake saw it: enough to pin the wire format in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    /// The operation.
    pub op: Op,
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Headers (without `host`; a multipart boundary is replaced by `[boundary]`).
    pub headers: BTreeMap<String, String>,
    /// Body.
    pub body: RecordedBody,
}

const REDACTED: &str = "[redacted]";

impl RecordedRequest {
    /// A copy with every secret replaced by `[redacted]`: the `access-token` header, and
    /// `client_secret`, `code`, `refresh_token`, `access_token` in forms and JSON.
    pub fn redacted(&self) -> Self {
        let secret_field = |k: &str| {
            matches!(
                k,
                "client_secret" | "code" | "refresh_token" | "access_token"
            )
        };
        let mut r = self.clone();
        for (k, v) in r.headers.iter_mut() {
            if k == "access-token" || k == "authorization" {
                *v = REDACTED.to_owned();
            }
        }
        match &mut r.body {
            RecordedBody::Form(pairs) => {
                for (k, v) in pairs.iter_mut() {
                    if secret_field(k) {
                        *v = REDACTED.to_owned();
                    }
                }
            }
            RecordedBody::Json(Value::Object(m)) => {
                for (k, v) in m.iter_mut() {
                    if secret_field(k) {
                        *v = Value::from(REDACTED);
                    }
                }
            }
            _ => {}
        }
        r
    }
}

/// One chunked upload as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkedUpload {
    /// The upload id.
    pub upload_id: String,
    /// The account.
    pub open_id: String,
    /// `(part_number, size)` in arrival order.
    pub parts: Vec<(u32, u64)>,
    /// The video id, once completed.
    pub video_id: Option<String>,
}

/// One published item as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeItem {
    /// Item id.
    pub item_id: String,
    /// Account.
    pub open_id: String,
    /// The post's `text`.
    pub text: String,
    /// 4 video, 2 image post.
    pub media_type: i64,
    /// `private_status` as sent.
    pub private_status: i64,
    /// Creation time, Unix seconds.
    pub create_time: i64,
    /// The video used.
    pub video_id: Option<String>,
    /// The images used.
    pub image_ids: Vec<String>,
    /// Counters.
    pub statistics: Statistics,
}

#[derive(Debug, Clone)]
struct CodeGrant {
    open_id: String,
    scopes: Vec<String>,
    issued_at: SystemTime,
    used: bool,
}

#[derive(Debug, Clone)]
struct AccessGrant {
    open_id: String,
    scopes: Vec<String>,
    expires_at: SystemTime,
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    open_id: String,
    scopes: Vec<String>,
    expires_at: SystemTime,
    renewals: u32,
}

#[derive(Debug, Clone)]
struct VideoRec {
    open_id: String,
    used: bool,
}

/// Options fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) refresh_rotation: RefreshRotation,
    pub(crate) renew_permission: bool,
    pub(crate) numbers_as_strings: bool,
    pub(crate) daily_publish_limit: Option<usize>,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) record: bool,
    pub(crate) default_user: String,
}

/// Lifetimes of the real platform.
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(600);
pub(crate) const ACCESS_LIFETIME: Duration = Duration::from_secs(1_296_000);
pub(crate) const REFRESH_LIFETIME: Duration = Duration::from_secs(2_592_000);
pub(crate) const CLIENT_LIFETIME: Duration = Duration::from_secs(7_200);
/// A new client token leaves the previous one this long to live.
pub(crate) const CLIENT_OVERLAP: Duration = Duration::from_secs(300);
pub(crate) const MAX_RENEWALS: u32 = 5;
const MIB: u64 = 1024 * 1024;

/// A platform error: code and description.
pub(crate) type Fail = (i64, String);

fn fail(code: i64, desc: impl Into<String>) -> Fail {
    (code, desc.into())
}

/// "Parameter error" codes (not in the client's table: a wire mistake of the client).
pub(crate) const OAUTH_PARAM_ERROR: i64 = 10002;
pub(crate) const API_PARAM_ERROR: i64 = 2100005;

pub(crate) struct State {
    pub(crate) client_key: String,
    pub(crate) client_secret: String,
    pub(crate) clock: SharedClock,
    pub(crate) opts: Options,
    seq: u64,
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    client_tokens: HashMap<String, SystemTime>,
    videos: HashMap<String, VideoRec>,
    uploads: Vec<ChunkedUpload>,
    images: HashMap<String, String>,
    items: Vec<FakeItem>,
    faults: HashMap<Op, VecDeque<FaultKind>>,
    counts: HashMap<Op, usize>,
    recorded: Vec<RecordedRequest>,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("client_key", &self.client_key)
            .field("items", &self.items.len())
            .finish_non_exhaustive()
    }
}

fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn remaining(at: SystemTime, now: SystemTime) -> u64 {
    at.duration_since(now).map(|d| d.as_secs()).unwrap_or(0)
}

impl State {
    pub(crate) fn new(
        client_key: String,
        client_secret: String,
        clock: SharedClock,
        opts: Options,
    ) -> Self {
        Self {
            client_key,
            client_secret,
            clock,
            opts,
            seq: 0,
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            client_tokens: HashMap::new(),
            videos: HashMap::new(),
            uploads: Vec::new(),
            images: HashMap::new(),
            items: Vec::new(),
            faults: HashMap::new(),
            counts: HashMap::new(),
            recorded: Vec::new(),
        }
    }

    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn now(&self) -> SystemTime {
        self.clock.now()
    }

    pub(crate) fn log_id(&mut self) -> String {
        let n = self.next();
        format!("2024FAKE{n:012}")
    }

    /// A number, or its string form when the fake sends numbers as strings.
    pub(crate) fn num(&self, n: i64) -> Value {
        if self.opts.numbers_as_strings {
            Value::from(n.to_string())
        } else {
            Value::from(n)
        }
    }

    // ---- counters, faults, log ------------------------------------------------------------

    pub(crate) fn count(&mut self, op: Op) {
        *self.counts.entry(op).or_default() += 1;
    }

    pub(crate) fn requests(&self, op: Op) -> usize {
        self.counts.get(&op).copied().unwrap_or(0)
    }

    pub(crate) fn add_fault(&mut self, op: Op, kind: FaultKind, n: usize) {
        let q = self.faults.entry(op).or_default();
        for _ in 0..n {
            q.push_back(kind.clone());
        }
    }

    pub(crate) fn next_fault_is_drop(&self, op: Op) -> bool {
        self.faults
            .get(&op)
            .and_then(VecDeque::front)
            .is_some_and(|f| *f == FaultKind::DropConnection)
    }

    pub(crate) fn take_fault(&mut self, op: Op) -> Option<FaultKind> {
        self.faults.get_mut(&op).and_then(VecDeque::pop_front)
    }

    pub(crate) fn record(&mut self, r: RecordedRequest) {
        if self.opts.record {
            self.recorded.push(r);
        }
    }

    pub(crate) fn recorded(&self) -> Vec<RecordedRequest> {
        self.recorded.clone()
    }

    pub(crate) fn clear_recorded(&mut self) {
        self.recorded.clear();
    }

    // ---- OAuth --------------------------------------------------------------------------------

    pub(crate) fn issue_code(&mut self, open_id: &str, scopes: &[String]) -> String {
        let code = random_hex(16);
        let now = self.now();
        self.codes.insert(
            code.clone(),
            CodeGrant {
                open_id: open_id.to_owned(),
                scopes: scopes.to_vec(),
                issued_at: now,
                used: false,
            },
        );
        code
    }

    pub(crate) fn expire_code(&mut self, code: &str) {
        if let Some(c) = self.codes.get_mut(code) {
            c.issued_at = UNIX_EPOCH;
        }
    }

    fn new_access(&mut self, open_id: &str, scopes: &[String]) -> (String, Duration) {
        let token = format!("act.{}", random_hex(16));
        let now = self.now();
        self.access.insert(
            token.clone(),
            AccessGrant {
                open_id: open_id.to_owned(),
                scopes: scopes.to_vec(),
                expires_at: now + ACCESS_LIFETIME,
            },
        );
        (token, ACCESS_LIFETIME)
    }

    fn new_refresh(
        &mut self,
        open_id: &str,
        scopes: &[String],
        expires_at: SystemTime,
        renewals: u32,
    ) -> String {
        let token = format!("rft.{}", random_hex(16));
        self.refresh.insert(
            token.clone(),
            RefreshGrant {
                open_id: open_id.to_owned(),
                scopes: scopes.to_vec(),
                expires_at,
                renewals,
            },
        );
        token
    }

    /// Issues an access and a refresh token directly (what a code exchange returns).
    pub(crate) fn grant(&mut self, open_id: &str, scopes: &[String]) -> (String, String) {
        let (access, _) = self.new_access(open_id, scopes);
        let exp = self.now() + REFRESH_LIFETIME;
        let refresh = self.new_refresh(open_id, scopes, exp, 0);
        (access, refresh)
    }

    pub(crate) fn expire_access_tokens(&mut self, open_id: &str) {
        for g in self.access.values_mut().filter(|g| g.open_id == open_id) {
            g.expires_at = UNIX_EPOCH;
        }
    }

    pub(crate) fn expire_refresh_tokens(&mut self, open_id: &str) {
        for g in self.refresh.values_mut().filter(|g| g.open_id == open_id) {
            g.expires_at = UNIX_EPOCH;
        }
    }

    pub(crate) fn renewals(&self, open_id: &str) -> Option<u32> {
        self.refresh
            .values()
            .filter(|g| g.open_id == open_id)
            .map(|g| g.renewals)
            .max()
    }

    pub(crate) fn live_refresh_tokens(&self, open_id: &str) -> usize {
        let now = self.now();
        self.refresh
            .values()
            .filter(|g| g.open_id == open_id && g.expires_at > now)
            .count()
    }

    fn check_client_key(&self, key: Option<&str>) -> Result<(), Fail> {
        match key {
            Some(k) if k == self.client_key => Ok(()),
            _ => Err(fail(10003, "client_key invalid")),
        }
    }

    fn check_client_secret(&self, secret: Option<&str>) -> Result<(), Fail> {
        match secret {
            Some(s) if s == self.client_secret => Ok(()),
            _ => Err(fail(10013, "client_secret invalid")),
        }
    }

    fn token_data(
        &mut self,
        access: String,
        expires_in: Duration,
        open_id: &str,
        scopes: &[String],
    ) -> Map<String, Value> {
        let log_id = self.log_id();
        let mut m = Map::new();
        m.insert("access_token".into(), Value::from(access));
        m.insert("expires_in".into(), self.num(expires_in.as_secs() as i64));
        m.insert("open_id".into(), Value::from(open_id));
        m.insert("scope".into(), Value::from(scopes.join(",")));
        m.insert("log_id".into(), Value::from(log_id));
        m
    }

    /// The authorization page: the simulated user approves at once. Returns the redirect URL.
    pub(crate) fn authorize(&mut self, q: &HashMap<String, String>) -> Result<String, String> {
        if q.get("client_key").map(String::as_str) != Some(self.client_key.as_str()) {
            return Err("unknown client_key".into());
        }
        if q.get("response_type").map(String::as_str) != Some("code") {
            return Err("response_type must be code".into());
        }
        let redirect = q.get("redirect_uri").ok_or("redirect_uri missing")?;
        crate::config::check_redirect_uri(redirect).map_err(|r| format!("redirect_uri {r}"))?;
        if let Some(expected) = &self.opts.redirect_uri {
            if expected != redirect {
                return Err("redirect_uri does not match the app's".into());
            }
        }
        let scopes: Vec<String> = q
            .get("scope")
            .map(|s| {
                s.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if scopes.is_empty() {
            return Err("scope missing".into());
        }
        let mut granted = scopes;
        if let Some(opt) = q.get("optionalScope") {
            let parts: Vec<&str> = opt.split(',').collect();
            for pair in parts.chunks(2) {
                if let [s, "1"] = pair {
                    granted.push((*s).to_owned());
                }
            }
        }
        let user = self.opts.default_user.clone();
        let code = self.issue_code(&user, &granted);
        let mut url = url::Url::parse(redirect).map_err(|e| e.to_string())?;
        {
            let mut qp = url.query_pairs_mut();
            qp.append_pair("code", &code);
            if let Some(state) = q.get("state") {
                qp.append_pair("state", state);
            }
        }
        Ok(url.to_string())
    }

    pub(crate) fn access_token(
        &mut self,
        form: &HashMap<String, String>,
    ) -> Result<Map<String, Value>, Fail> {
        self.check_client_key(form.get("client_key").map(String::as_str))?;
        self.check_client_secret(form.get("client_secret").map(String::as_str))?;
        if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
            return Err(fail(
                OAUTH_PARAM_ERROR,
                "grant_type must be authorization_code",
            ));
        }
        let now = self.now();
        let code = form.get("code").cloned().unwrap_or_default();
        let grant = match self.codes.get_mut(&code) {
            Some(g) if !g.used && now < g.issued_at + CODE_LIFETIME => {
                g.used = true;
                g.clone()
            }
            _ => return Err(fail(10007, "code expired or already used")),
        };
        let (access, expires_in) = self.new_access(&grant.open_id, &grant.scopes);
        let refresh = self.new_refresh(&grant.open_id, &grant.scopes, now + REFRESH_LIFETIME, 0);
        let mut m = self.token_data(access, expires_in, &grant.open_id, &grant.scopes);
        m.insert("refresh_token".into(), Value::from(refresh));
        m.insert(
            "refresh_expires_in".into(),
            self.num(REFRESH_LIFETIME.as_secs() as i64),
        );
        Ok(m)
    }

    fn live_refresh(&self, token: &str) -> Result<RefreshGrant, Fail> {
        match self.refresh.get(token) {
            Some(g) if self.now() < g.expires_at => Ok(g.clone()),
            _ => Err(fail(10010, "refresh_token expired or invalid")),
        }
    }

    pub(crate) fn refresh_token(
        &mut self,
        form: &HashMap<String, String>,
    ) -> Result<Map<String, Value>, Fail> {
        self.check_client_key(form.get("client_key").map(String::as_str))?;
        if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
            return Err(fail(OAUTH_PARAM_ERROR, "grant_type must be refresh_token"));
        }
        let old = form.get("refresh_token").cloned().unwrap_or_default();
        let grant = self.live_refresh(&old)?;
        let (access, expires_in) = self.new_access(&grant.open_id, &grant.scopes);
        let now = self.now();
        let mut m = self.token_data(access, expires_in, &grant.open_id, &grant.scopes);
        let returned = match self.opts.refresh_rotation {
            RefreshRotation::Same => Some(old),
            RefreshRotation::Omit => None,
            RefreshRotation::New => {
                self.refresh.remove(&old);
                Some(self.new_refresh(
                    &grant.open_id,
                    &grant.scopes,
                    grant.expires_at,
                    grant.renewals,
                ))
            }
        };
        if let Some(rt) = returned {
            m.insert("refresh_token".into(), Value::from(rt));
        }
        m.insert(
            "refresh_expires_in".into(),
            self.num(remaining(grant.expires_at, now) as i64),
        );
        Ok(m)
    }

    pub(crate) fn renew_refresh_token(
        &mut self,
        form: &HashMap<String, String>,
    ) -> Result<Map<String, Value>, Fail> {
        self.check_client_key(form.get("client_key").map(String::as_str))?;
        if !self.opts.renew_permission {
            return Err(fail(
                10004,
                "the app lacks the renew_refresh_token permission",
            ));
        }
        let old = form.get("refresh_token").cloned().unwrap_or_default();
        let grant = self.live_refresh(&old)?;
        if grant.renewals >= MAX_RENEWALS {
            return Err(fail(10020, "refresh_token renewal limit reached"));
        }
        // The old refresh token dies at once.
        self.refresh.remove(&old);
        let exp = self.now() + REFRESH_LIFETIME;
        let fresh = self.new_refresh(&grant.open_id, &grant.scopes, exp, grant.renewals + 1);
        let log_id = self.log_id();
        let mut m = Map::new();
        m.insert("refresh_token".into(), Value::from(fresh));
        m.insert(
            "expires_in".into(),
            self.num(REFRESH_LIFETIME.as_secs() as i64),
        );
        m.insert("log_id".into(), Value::from(log_id));
        Ok(m)
    }

    pub(crate) fn client_token(&mut self, body: &Value) -> Result<Map<String, Value>, Fail> {
        let s = |k: &str| body.get(k).and_then(Value::as_str);
        self.check_client_key(s("client_key"))?;
        self.check_client_secret(s("client_secret"))?;
        if s("grant_type") != Some("client_credential") {
            return Err(fail(
                OAUTH_PARAM_ERROR,
                "grant_type must be client_credential",
            ));
        }
        let now = self.now();
        // A new client token leaves the previous ones about 5 minutes.
        for exp in self.client_tokens.values_mut() {
            *exp = (*exp).min(now + CLIENT_OVERLAP);
        }
        let token = format!("clt.{}", random_hex(16));
        self.client_tokens
            .insert(token.clone(), now + CLIENT_LIFETIME);
        let log_id = self.log_id();
        let mut m = Map::new();
        m.insert("access_token".into(), Value::from(token));
        m.insert(
            "expires_in".into(),
            self.num(CLIENT_LIFETIME.as_secs() as i64),
        );
        m.insert("log_id".into(), Value::from(log_id));
        Ok(m)
    }

    // ---- resource APIs ----------------------------------------------------------------------

    /// Checks the access token, the open_id and the operation's scope; returns the open_id.
    pub(crate) fn authenticate(
        &self,
        op: Op,
        token: Option<&str>,
        open_id: Option<&str>,
    ) -> Result<String, Fail> {
        let grant = match token.and_then(|t| self.access.get(t)) {
            Some(g) => g,
            None => return Err(fail(2190002, "access_token invalid")),
        };
        if self.now() >= grant.expires_at {
            return Err(fail(2190008, "access_token expired"));
        }
        match open_id {
            Some(o) if o == grant.open_id => {}
            _ => return Err(fail(2190015, "access_token and open_id do not match")),
        }
        if let Some(scope) = crate::envelope::scope_for_operation(op_name(op)) {
            if !grant.scopes.iter().any(|s| s == scope) {
                return Err(fail(2190004, format!("scope {scope} not authorized")));
            }
        }
        Ok(grant.open_id.clone())
    }

    fn video_data(&mut self, open_id: &str) -> Map<String, Value> {
        let n = self.next();
        let video_id = format!("v0200fake{n:08}");
        self.videos.insert(
            video_id.clone(),
            VideoRec {
                open_id: open_id.to_owned(),
                used: false,
            },
        );
        let mut video = Map::new();
        video.insert("video_id".into(), Value::from(video_id));
        video.insert("width".into(), self.num(1080));
        video.insert("height".into(), self.num(1920));
        let mut m = Map::new();
        m.insert("video".into(), Value::Object(video));
        m
    }

    pub(crate) fn upload_video(
        &mut self,
        open_id: &str,
        parts: &[PartSummary],
    ) -> Result<Map<String, Value>, Fail> {
        let size = field_size(parts, "video")?;
        if size > 128 * MIB {
            return Err(fail(
                2190005,
                "file too big for a single upload (over 128 MB: use chunked upload)",
            ));
        }
        if size == 0 {
            return Err(fail(API_PARAM_ERROR, "empty video"));
        }
        Ok(self.video_data(open_id))
    }

    pub(crate) fn init_part_upload(&mut self, open_id: &str) -> Map<String, Value> {
        let n = self.next();
        let upload_id = format!("upload-fake-{n:08}");
        self.uploads.push(ChunkedUpload {
            upload_id: upload_id.clone(),
            open_id: open_id.to_owned(),
            parts: Vec::new(),
            video_id: None,
        });
        let mut m = Map::new();
        m.insert("upload_id".into(), Value::from(upload_id));
        m
    }

    fn upload_mut(
        &mut self,
        open_id: &str,
        upload_id: Option<&str>,
    ) -> Result<&mut ChunkedUpload, Fail> {
        let id = upload_id.unwrap_or_default();
        match self.uploads.iter_mut().find(|u| u.upload_id == id) {
            Some(u) if u.open_id == open_id && u.video_id.is_none() => Ok(u),
            _ => Err(fail(API_PARAM_ERROR, "upload_id invalid")),
        }
    }

    pub(crate) fn upload_part(
        &mut self,
        open_id: &str,
        upload_id: Option<&str>,
        part_number: Option<&str>,
        parts: &[PartSummary],
    ) -> Result<Map<String, Value>, Fail> {
        let number: u32 = part_number
            .and_then(|p| p.parse().ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| fail(API_PARAM_ERROR, "part_number must be a whole number from 1"))?;
        let size = field_size(parts, "video")?;
        let upload = self.upload_mut(open_id, upload_id)?;
        upload.parts.push((number, size));
        Ok(Map::new())
    }

    pub(crate) fn complete_part_upload(
        &mut self,
        open_id: &str,
        upload_id: Option<&str>,
    ) -> Result<Map<String, Value>, Fail> {
        let upload = self.upload_mut(open_id, upload_id)?;
        // A retried part replaces the earlier copy of the same number.
        let mut by_number: BTreeMap<u32, u64> = BTreeMap::new();
        for (n, s) in &upload.parts {
            by_number.insert(*n, *s);
        }
        if by_number.is_empty() {
            return Err(fail(API_PARAM_ERROR, "no part uploaded"));
        }
        let count = by_number.len();
        for (i, (n, size)) in by_number.iter().enumerate() {
            if *n as usize != i + 1 {
                return Err(fail(API_PARAM_ERROR, format!("part {} missing", i + 1)));
            }
            if i + 1 < count && *size < 5 * MIB {
                return Err(fail(
                    API_PARAM_ERROR,
                    format!("part {n} is under 5 MB and not the last"),
                ));
            }
        }
        let total: u64 = by_number.values().sum();
        if total > 4 * 1024 * MIB {
            return Err(fail(2190005, "file too big (over 4 GB)"));
        }
        let data = self.video_data(open_id);
        let video_id = data
            .get("video")
            .and_then(|v| v.get("video_id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Ok(u) = self.upload_mut(open_id, upload_id) {
            u.video_id = video_id;
        }
        Ok(data)
    }

    pub(crate) fn upload_image(
        &mut self,
        open_id: &str,
        parts: &[PartSummary],
    ) -> Result<Map<String, Value>, Fail> {
        let size = field_size(parts, "image")?;
        if size == 0 {
            return Err(fail(API_PARAM_ERROR, "empty image"));
        }
        let n = self.next();
        let image_id = format!("img-fake-{n:08}");
        self.images.insert(image_id.clone(), open_id.to_owned());
        let mut image = Map::new();
        image.insert("image_id".into(), Value::from(image_id));
        image.insert("width".into(), self.num(800));
        image.insert("height".into(), self.num(600));
        let mut m = Map::new();
        m.insert("image".into(), Value::Object(image));
        Ok(m)
    }

    fn check_daily_limit(&self, open_id: &str) -> Result<(), Fail> {
        if let Some(limit) = self.opts.daily_publish_limit {
            let today = unix(self.now()) / 86_400;
            let n = self
                .items
                .iter()
                .filter(|i| i.open_id == open_id && i.create_time / 86_400 == today)
                .count();
            if n >= limit {
                return Err(fail(2114007, "daily publish limit reached"));
            }
        }
        Ok(())
    }

    fn new_item(&mut self, open_id: &str, body: &Value, media_type: i64) -> String {
        let n = self.next();
        let item_id = format!("@fake+item/{n:04}=");
        let stats = Statistics {
            comment_count: (n % 7) as i64,
            digg_count: (n * 10) as i64,
            download_count: 0,
            forward_count: (n % 3) as i64,
            play_count: (n * 100) as i64,
            share_count: (n % 5) as i64,
        };
        self.items.push(FakeItem {
            item_id: item_id.clone(),
            open_id: open_id.to_owned(),
            text: body
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            media_type,
            private_status: body
                .get("private_status")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            create_time: unix(self.now()),
            video_id: body
                .get("video_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            image_ids: body
                .get("image_list")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            statistics: stats,
        });
        item_id
    }

    fn item_result(item_id: String) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("item_id".into(), Value::from(item_id));
        m
    }

    pub(crate) fn create_video(
        &mut self,
        open_id: &str,
        body: &Value,
    ) -> Result<Map<String, Value>, Fail> {
        let video_id = body
            .get("video_id")
            .and_then(Value::as_str)
            .ok_or_else(|| fail(2190007, "video_id missing"))?;
        match self.videos.get(video_id) {
            Some(v) if v.open_id == open_id && !v.used => {}
            Some(v) if v.used => return Err(fail(2190007, "video_id already used")),
            _ => return Err(fail(2190007, "video_id invalid")),
        }
        self.check_daily_limit(open_id)?;
        if let Some(v) = self.videos.get_mut(video_id) {
            v.used = true;
        }
        let id = self.new_item(open_id, body, 4);
        Ok(Self::item_result(id))
    }

    pub(crate) fn create_image_text(
        &mut self,
        open_id: &str,
        body: &Value,
    ) -> Result<Map<String, Value>, Fail> {
        let list = body
            .get("image_list")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| fail(API_PARAM_ERROR, "image_list missing"))?;
        for v in list {
            let ok = v
                .as_str()
                .and_then(|id| self.images.get(id))
                .is_some_and(|owner| owner == open_id);
            if !ok {
                return Err(fail(API_PARAM_ERROR, format!("image {v} invalid")));
            }
        }
        self.check_daily_limit(open_id)?;
        let id = self.new_item(open_id, body, 2);
        Ok(Self::item_result(id))
    }

    fn item_json(&self, i: &FakeItem) -> Value {
        let s = &i.statistics;
        json!({
            "item_id": i.item_id,
            "title": i.text,
            "cover": format!("https://p3-fake.douyinpic.com/cover/{}.jpeg", i.create_time),
            "create_time": self.num(i.create_time),
            "is_top": false,
            "is_reviewed": true,
            "video_status": self.num(1),
            "share_url": format!("https://www.iesdouyin.com/share/video/{}/", 7_000_000_000_000_000_000i64 + i.create_time),
            "media_type": self.num(i.media_type),
            "statistics": {
                "comment_count": self.num(s.comment_count),
                "digg_count": self.num(s.digg_count),
                "download_count": self.num(s.download_count),
                "forward_count": self.num(s.forward_count),
                "play_count": self.num(s.play_count),
                "share_count": self.num(s.share_count),
            }
        })
    }

    pub(crate) fn video_list(
        &self,
        open_id: &str,
        cursor: Option<&str>,
        count: Option<&str>,
    ) -> Result<Map<String, Value>, Fail> {
        let cursor: usize = match cursor {
            None | Some("") => 0,
            Some(c) => c
                .parse()
                .map_err(|_| fail(API_PARAM_ERROR, "cursor invalid"))?,
        };
        let count: usize = count
            .and_then(|c| c.parse().ok())
            .filter(|c| (1..=20).contains(c))
            .ok_or_else(|| fail(API_PARAM_ERROR, "count must be 1 to 20"))?;
        // Newest first.
        let mine: Vec<&FakeItem> = self
            .items
            .iter()
            .rev()
            .filter(|i| i.open_id == open_id)
            .collect();
        let page: Vec<Value> = mine
            .iter()
            .skip(cursor)
            .take(count)
            .map(|i| self.item_json(i))
            .collect();
        let next = cursor + page.len();
        let mut m = Map::new();
        m.insert("cursor".into(), self.num(next as i64));
        m.insert("has_more".into(), Value::from(next < mine.len()));
        m.insert("list".into(), Value::Array(page));
        Ok(m)
    }

    pub(crate) fn video_data_of(
        &self,
        open_id: &str,
        body: &Value,
    ) -> Result<Map<String, Value>, Fail> {
        let ids = body
            .get("item_ids")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| fail(API_PARAM_ERROR, "item_ids missing"))?;
        if ids.len() > 20 {
            return Err(fail(API_PARAM_ERROR, "at most 20 item_ids"));
        }
        let list: Vec<Value> = ids
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|id| {
                self.items
                    .iter()
                    .find(|i| i.item_id == id && i.open_id == open_id)
            })
            .map(|i| self.item_json(i))
            .collect();
        let mut m = Map::new();
        m.insert("list".into(), Value::Array(list));
        Ok(m)
    }

    // ---- inspection ---------------------------------------------------------------------------

    pub(crate) fn items_of(&self, open_id: Option<&str>) -> Vec<FakeItem> {
        self.items
            .iter()
            .filter(|i| open_id.is_none_or(|o| i.open_id == o))
            .cloned()
            .collect()
    }

    pub(crate) fn set_statistics(&mut self, item_id: &str, stats: Statistics) -> bool {
        match self.items.iter_mut().find(|i| i.item_id == item_id) {
            Some(i) => {
                i.statistics = stats;
                true
            }
            None => false,
        }
    }

    pub(crate) fn chunked_uploads(&self) -> Vec<ChunkedUpload> {
        self.uploads.clone()
    }
}

fn field_size(parts: &[PartSummary], name: &str) -> Result<u64, Fail> {
    parts
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.size)
        .ok_or_else(|| fail(API_PARAM_ERROR, format!("multipart field `{name}` missing")))
}

/// The client's operation name of a fake operation (for the scope table).
pub(crate) fn op_name(op: Op) -> &'static str {
    match op {
        Op::Authorize => "authorize",
        Op::AccessToken => "access_token",
        Op::RefreshToken => "refresh_token",
        Op::RenewRefreshToken => "renew_refresh_token",
        Op::ClientToken => "client_token",
        Op::UploadVideo => "upload_video",
        Op::InitVideoPartUpload => "init_video_part_upload",
        Op::UploadVideoPart => "upload_video_part",
        Op::CompleteVideoPartUpload => "complete_video_part_upload",
        Op::CreateVideo => "create_video",
        Op::UploadImage => "upload_image",
        Op::CreateImageText => "create_image_text",
        Op::VideoList => "video_list",
        Op::VideoData => "video_data",
        Op::Unknown => "unknown",
    }
}
