//! The fake platform's state and its OAuth rules: codes, tokens with their real lifetimes and
//! rotation, faults, counters, the request log. The publishing rules are in `content.rs`.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use conn_core::clock::SharedClock;
use conn_core::fake::{Fault, Faults};
use rand::RngCore;
use serde_json::{Map, Value};

use super::model::{op_name, ChunkedUpload, FakeItem, Op, RecordedRequest, RefreshRotation};
use crate::videos::Statistics;

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
pub(super) struct VideoRec {
    pub(super) open_id: String,
    pub(super) used: bool,
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

/// A platform error: code and description.
pub(crate) type Fail = (i64, String);

pub(super) fn fail(code: i64, desc: impl Into<String>) -> Fail {
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
    pub(super) seq: u64,
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    client_tokens: HashMap<String, SystemTime>,
    pub(super) videos: HashMap<String, VideoRec>,
    pub(super) uploads: Vec<ChunkedUpload>,
    pub(super) images: HashMap<String, String>,
    pub(super) items: Vec<FakeItem>,
    faults: Faults<Op>,
    counts: HashMap<Op, usize>,
    recorded: Vec<RecordedRequest>,
    /// Set while answering a request whose success body must be cut ([`Fault::Cut`]).
    pub(super) cut_body: bool,
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

pub(super) fn unix(t: SystemTime) -> i64 {
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
            faults: Faults::default(),
            counts: HashMap::new(),
            recorded: Vec::new(),
            cut_body: false,
        }
    }

    pub(super) fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub(super) fn now(&self) -> SystemTime {
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

    pub(crate) fn add_fault(&mut self, op: Op, fault: Fault, n: usize) {
        self.faults.push(op, fault, n);
    }

    pub(crate) fn next_fault_is_drop(&self, op: Op) -> bool {
        self.faults.peek(&op) == Some(&Fault::Drop)
    }

    pub(crate) fn take_fault(&mut self, op: Op) -> Option<Fault> {
        self.faults.take(&op)
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
