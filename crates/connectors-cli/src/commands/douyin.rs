//! `connectors douyin …`: OAuth (URL and a loopback login), refresh, publishing with a
//! progress bar, the video list and statistics.

use std::sync::Arc;
use std::time::Duration;

use connectors::core::Error;
use connectors::creds::CredentialStore;
use connectors::douyin::{
    AccountInfo, AuthorizeRequest, Client, ImagePost, ImageSource, Privacy, UploadProgress,
    VideoItem, VideoPost, VideoSource, CLIENT_TOKEN_ACCOUNT,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::parse_size;
use crate::cli::{AccountArg, DouyinCmd, LoginArgs, PublishImagesArgs, PublishVideoArgs};
use crate::ctx::{Ctx, DouyinTune};
use crate::exit::{self, CliError, CliResult};
use crate::httpd::{self, Reply};
use crate::output::{pairs, print_stdout, system_time, table, unix_time};

/// Runs a `douyin` subcommand.
pub async fn run(ctx: &Ctx, cmd: DouyinCmd) -> CliResult {
    match cmd {
        DouyinCmd::AuthUrl {
            scopes,
            state,
            redirect_uri,
        } => auth_url(ctx, &scopes, state, redirect_uri),
        DouyinCmd::Login(a) => login(ctx, a).await,
        DouyinCmd::Refresh(a) => refresh(ctx, a).await,
        DouyinCmd::PublishVideo(a) => publish_video(ctx, a).await,
        DouyinCmd::PublishImages(a) => publish_images(ctx, a).await,
        DouyinCmd::Videos {
            account,
            limit,
            page_size,
        } => videos(ctx, account, limit, page_size).await,
        DouyinCmd::Stats { account, item_ids } => stats(ctx, account, item_ids).await,
    }
}

/// The Douyin client over the store (tokens persist in it when it exists, or when `create`).
fn client(
    ctx: &Ctx,
    create_store: bool,
    tune: Option<DouyinTune>,
) -> CliResult<(Client, Option<CredentialStore>)> {
    let built = ctx.build(&["douyin"], create_store, tune)?;
    let client = built.reg.require_douyin()?.clone();
    Ok((client, built.store))
}

/// The account to act for: `--open-id`, else `DOUYIN_OPEN_ID`, else the one account with
/// stored tokens.
pub fn resolve_account(
    client: &Client,
    store: Option<&CredentialStore>,
    arg: &AccountArg,
) -> CliResult<String> {
    if let Some(o) = arg
        .open_id
        .as_deref()
        .or(client.config().default_open_id.as_deref())
    {
        return Ok(client.resolve_open_id(Some(o))?);
    }
    let mut accounts = Vec::new();
    if let Some(s) = store {
        accounts = s
            .token_keys()?
            .into_iter()
            .filter(|k| {
                k.platform == connectors::douyin::PLATFORM && k.account != CLIENT_TOKEN_ACCOUNT
            })
            .map(|k| k.account)
            .collect();
    }
    match accounts.len() {
        1 => Ok(accounts.remove(0)),
        0 => Err(Error::config_var(
            "DOUYIN_OPEN_ID",
            "no account: pass --open-id, set DOUYIN_OPEN_ID, or log in with `connectors douyin login`",
        )
        .into()),
        _ => Err(Error::config_var(
            "DOUYIN_OPEN_ID",
            format!(
                "several accounts are logged in ({}); pass --open-id or set DOUYIN_OPEN_ID",
                accounts.join(", ")
            ),
        )
        .into()),
    }
}

fn account_json(info: &AccountInfo) -> Value {
    json!({
        "open_id": info.open_id,
        "scopes": info.scopes,
        "expires_at": info.expires_at.map(system_time),
        "refresh_expires_at": info.refresh_expires_at.map(system_time),
        "renewals": info.renewals,
    })
}

fn account_text(info: &AccountInfo) -> String {
    let t = |o: Option<std::time::SystemTime>| o.map_or("unknown".to_owned(), system_time);
    pairs(&[
        ("account (open_id)", info.open_id.clone()),
        ("scopes", info.scopes.join(", ")),
        ("access token expires", t(info.expires_at)),
        ("refresh token expires", t(info.refresh_expires_at)),
        ("renewals", format!("{} of 5", info.renewals)),
    ])
}

fn auth_url(
    ctx: &Ctx,
    scopes: &[String],
    state: Option<String>,
    redirect_uri: Option<String>,
) -> CliResult {
    let (client, _) = client(ctx, false, None)?;
    let mut req = AuthorizeRequest::new(scopes.iter().cloned());
    if let Some(s) = state {
        req = req.state(s);
    }
    if let Some(r) = redirect_uri {
        req = req.redirect_uri(r);
    }
    let auth = client.authorize_url_with(&req)?;
    ctx.out.emit(
        &json!({"url": auth.url.as_str(), "state": auth.state}),
        || format!("{}\nstate: {}", auth.url, auth.state),
    );
    Ok(())
}

/// A bound listener for the OAuth redirect and the redirect URI that reaches it.
#[derive(Debug)]
pub struct LoginListener {
    listener: TcpListener,
    redirect_uri: String,
    path: String,
}

impl LoginListener {
    /// The redirect URI (with the actual port).
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }
}

/// Binds the redirect listener on 127.0.0.1: at DOUYIN_REDIRECT_URI's port and path when it is
/// a loopback URL, else at `port` and `/callback`. Port 0 takes any free port (sandboxes only:
/// the real platform redirects only to the URI registered for the app).
pub async fn bind_login(client: &Client, port: u16) -> CliResult<LoginListener> {
    let (host, port, path) = match &client.config().redirect_uri {
        Some(u) if matches!(u.host_str(), Some("127.0.0.1" | "localhost")) => (
            u.host_str().unwrap_or("127.0.0.1").to_owned(),
            u.port_or_known_default().unwrap_or(80),
            u.path().to_owned(),
        ),
        _ => ("127.0.0.1".to_owned(), port, "/callback".to_owned()),
    };
    let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        CliError::new(
            exit::OTHER,
            format!("could not listen on 127.0.0.1:{port} for the OAuth redirect: {e}"),
        )
    })?;
    let actual = listener
        .local_addr()
        .map_err(|e| CliError::new(exit::OTHER, format!("listener address: {e}")))?
        .port();
    Ok(LoginListener {
        listener,
        redirect_uri: format!("http://{host}:{actual}{path}"),
        path,
    })
}

/// What the redirect brought back.
#[derive(Debug)]
enum Callback {
    Code(String),
    StateMismatch,
    Denied(String),
    NoCode,
}

/// The login: prints (through `show`) the authorization URL, waits up to `timeout` for the
/// redirect, checks the state, exchanges the code (the client's token store keeps the tokens).
/// On a state mismatch, a denial or a timeout nothing is stored.
pub async fn login_with(
    client: &Client,
    listener: LoginListener,
    scopes: &[String],
    timeout: Duration,
    show: impl FnOnce(&str, &str),
) -> CliResult<AccountInfo> {
    let auth = client.authorize_url_with(
        &AuthorizeRequest::new(scopes.iter().cloned()).redirect_uri(listener.redirect_uri.clone()),
    )?;
    let expected = auth.state.clone();
    let path = listener.path.clone();
    let (tx, mut rx) = mpsc::channel::<Callback>(4);
    let handler = move |req: httpd::Req| {
        let tx = tx.clone();
        let expected = expected.clone();
        let path = path.clone();
        async move {
            if req.uri.path() != path {
                return Reply::html(404, "<p>Not found.</p>");
            }
            let q = httpd::query_pairs(&req.uri);
            let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let state_ok = get("state").is_some_and(|s| {
                // Compared as secrets: constant time.
                connectors::core::secret::Secret::new(s)
                    == connectors::core::secret::Secret::new(expected.as_str())
            });
            let (cb, reply) = if let Some(err) = get("error") {
                let why = get("error_description").unwrap_or_default();
                (
                    Callback::Denied(format!("{err} {why}").trim().to_owned()),
                    Reply::html(
                        400,
                        "<h1>Authorization denied</h1><p>Nothing was stored.</p>",
                    ),
                )
            } else if !state_ok {
                (
                    Callback::StateMismatch,
                    Reply::html(
                        400,
                        "<h1>State mismatch</h1><p>This redirect does not belong to the login \
                         started in the terminal. Nothing was stored.</p>",
                    ),
                )
            } else if let Some(code) = get("code") {
                (
                    Callback::Code(code),
                    Reply::html(
                        200,
                        "<h1>Authorized</h1><p>You can close this window and return to the terminal.</p>",
                    ),
                )
            } else {
                (
                    Callback::NoCode,
                    Reply::html(400, "<h1>No code</h1><p>The redirect carried no code.</p>"),
                )
            };
            let _ = tx.try_send(cb);
            reply
        }
    };
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(httpd::serve(listener.listener, 64 * 1024, handler, async {
        let _ = stop_rx.await;
    }));
    show(auth.url.as_str(), &listener.redirect_uri);
    let outcome = tokio::time::timeout(timeout, rx.recv()).await;
    let _ = stop_tx.send(());
    // Lets the browser's answer go out before the process may exit.
    let _ = server.await;
    let cb = match outcome {
        Ok(Some(cb)) => cb,
        Ok(None) => return Err(CliError::new(exit::OTHER, "the redirect listener stopped")),
        Err(_) => {
            return Err(CliError::new(
                exit::NETWORK,
                format!(
                    "no redirect arrived within {} s; nothing was stored (rerun with a longer --timeout)",
                    timeout.as_secs()
                ),
            ))
        }
    };
    let code = match cb {
        Callback::Code(c) => c,
        Callback::StateMismatch => {
            return Err(CliError::new(
                exit::AUTH,
                "OAuth state mismatch: the redirect does not belong to this login (possible CSRF); nothing was stored",
            ))
        }
        Callback::Denied(why) => {
            return Err(CliError::new(
                exit::AUTH,
                format!("authorization denied ({why}); nothing was stored"),
            ))
        }
        Callback::NoCode => {
            return Err(CliError::new(
                exit::AUTH,
                "the redirect carried no code; nothing was stored",
            ))
        }
    };
    Ok(client.exchange_code(&code).await?)
}

async fn login(ctx: &Ctx, a: LoginArgs) -> CliResult {
    let (client, store) = client(ctx, true, None)?;
    let listener = bind_login(&client, a.port).await?;
    if let Some(u) = &client.config().redirect_uri {
        if !matches!(u.host_str(), Some("127.0.0.1" | "localhost")) {
            ctx.out.note(&format!(
                "note: DOUYIN_REDIRECT_URI ({u}) is not a loopback URL; this login redirects to {} instead, which must be registered for the app too",
                listener.redirect_uri()
            ));
        }
    }
    let json = ctx.out.json;
    let timeout = Duration::from_secs(a.timeout);
    let info = login_with(&client, listener, &a.scopes, timeout, |url, redirect| {
        if json {
            print_stdout(&json!({"authorize_url": url, "redirect_uri": redirect}).to_string());
        } else {
            eprintln!(
                "Open this URL in a browser and approve access (waiting up to {} s for the redirect to {redirect}):",
                timeout.as_secs()
            );
            print_stdout(url);
        }
    })
    .await?;
    let dir = store.map(|s| s.dir().display().to_string());
    if json {
        print_stdout(&format!(
            "{}",
            json!({"logged_in": account_json(&info), "store": dir})
        ));
    } else {
        print_stdout(&format!(
            "✔ logged in; tokens stored encrypted in {}\n{}",
            dir.as_deref().unwrap_or("memory"),
            account_text(&info)
        ));
    }
    Ok(())
}

async fn refresh(ctx: &Ctx, a: AccountArg) -> CliResult {
    let (client, store) = client(ctx, false, None)?;
    let open_id = resolve_account(&client, store.as_ref(), &a)?;
    let info = client.refresh(&open_id).await?;
    ctx.out
        .emit(&json!({"refreshed": account_json(&info)}), || {
            format!("✔ access token refreshed\n{}", account_text(&info))
        });
    Ok(())
}

/// A progress bar on stderr, hidden with --json or when stderr is not a terminal.
pub fn progress_bar(json: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if json || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} uploading [{bar:32}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}

/// The upload progress callback that drives `pb`.
pub fn progress_fn(pb: indicatif::ProgressBar) -> impl Fn(UploadProgress) + Send + Sync {
    move |p: UploadProgress| {
        if let Some(t) = p.total {
            pb.set_length(t);
        }
        pb.set_position(p.uploaded);
        if let (Some(part), Some(parts)) = (p.part, p.parts) {
            pb.set_message(format!("part {part}/{parts}"));
        }
    }
}

async fn publish_video(ctx: &Ctx, a: PublishVideoArgs) -> CliResult {
    let part = a
        .part_size
        .as_deref()
        .map(|s| parse_size("--part-size", s))
        .transpose()?;
    let above = a
        .chunk_above
        .as_deref()
        .map(|s| parse_size("--chunk-above", s))
        .transpose()?;
    let tune: Option<DouyinTune> = (part.is_some() || above.is_some()).then(|| {
        Box::new(move |c: &mut connectors::douyin::Config| {
            if let Some(p) = part {
                c.upload.part_size = p;
            }
            if let Some(s) = above {
                c.upload.single_upload_max = s;
            }
        }) as DouyinTune
    });
    let (client, store) = client(ctx, false, tune)?;
    let open_id = resolve_account(&client, store.as_ref(), &a.account)?;
    let post = VideoPost::new(a.title)
        .description(a.description)
        .privacy(privacy(a.private));
    if let Some(key) = &a.key {
        let key = super::journal::key(key)?;
        let done = client
            .journaled(super::journal::open(ctx)?)
            .publish_video(&key, &open_id, VideoSource::path(&a.file), &post)
            .await?;
        super::journal::emit_completed(ctx, &done);
        return Ok(());
    }
    let pb = progress_bar(ctx.out.json);
    let parts = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let progress = {
        let draw = progress_fn(pb.clone());
        let parts = parts.clone();
        move |p: UploadProgress| {
            if let Some(n) = p.parts {
                parts.store(n, std::sync::atomic::Ordering::Relaxed);
            }
            draw(p);
        }
    };
    let result = client
        .publish_video_with_progress(&open_id, VideoSource::path(&a.file), &post, &progress)
        .await;
    pb.finish_and_clear();
    let published = result?;
    let parts = parts.load(std::sync::atomic::Ordering::Relaxed);
    ctx.out.emit(
        &json!({"item_id": published.item_id, "open_id": published.open_id,
                "video_id": published.video_id, "parts": parts}),
        || {
            format!(
                "✔ video published\n{}",
                pairs(&[
                    ("item_id", published.item_id.clone()),
                    ("video_id", published.video_id.clone().unwrap_or_default()),
                    ("account", published.open_id.clone()),
                    (
                        "upload",
                        if parts > 0 {
                            format!("{parts} parts")
                        } else {
                            "single request".to_owned()
                        }
                    ),
                ])
            )
        },
    );
    Ok(())
}

fn privacy(private: bool) -> Privacy {
    if private {
        Privacy::OnlyMe
    } else {
        Privacy::Public
    }
}

async fn publish_images(ctx: &Ctx, a: PublishImagesArgs) -> CliResult {
    let (client, store) = client(ctx, false, None)?;
    let open_id = resolve_account(&client, store.as_ref(), &a.account)?;
    let post = ImagePost::new(a.title)
        .description(a.description)
        .privacy(privacy(a.private));
    let images = a.files.iter().map(ImageSource::path).collect();
    if let Some(key) = &a.key {
        let key = super::journal::key(key)?;
        let done = client
            .journaled(super::journal::open(ctx)?)
            .publish_images(&key, &open_id, images, &post)
            .await?;
        super::journal::emit_completed(ctx, &done);
        return Ok(());
    }
    let published = client.publish_images(&open_id, images, &post).await?;
    ctx.out.emit(
        &json!({"item_id": published.item_id, "open_id": published.open_id,
                "image_ids": published.image_ids}),
        || {
            format!(
                "✔ image post published\n{}",
                pairs(&[
                    ("item_id", published.item_id.clone()),
                    ("images", published.image_ids.len().to_string()),
                    ("account", published.open_id.clone()),
                ])
            )
        },
    );
    Ok(())
}

/// A table row and a JSON object for a video item.
pub fn item_row(i: &VideoItem) -> Vec<String> {
    vec![
        i.item_id.clone(),
        i.title.clone(),
        unix_time(i.create_time),
        i.statistics.play_count.to_string(),
        i.statistics.digg_count.to_string(),
        i.statistics.comment_count.to_string(),
        i.statistics.share_count.to_string(),
    ]
}

/// Headers of [`item_row`].
pub const ITEM_HEADERS: [&str; 7] = [
    "ITEM ID", "TITLE", "CREATED", "PLAYS", "LIKES", "COMMENTS", "SHARES",
];

fn item_json(i: &VideoItem) -> Value {
    json!({
        "item_id": i.item_id, "title": i.title, "create_time": i.create_time,
        "share_url": i.share_url, "statistics": i.statistics,
    })
}

async fn videos(ctx: &Ctx, a: AccountArg, limit: usize, page_size: u32) -> CliResult {
    let (client, store) = client(ctx, false, None)?;
    let open_id = resolve_account(&client, store.as_ref(), &a)?;
    let items: Vec<VideoItem> = client
        .video_list(open_id, page_size)
        .take(limit)
        .try_collect()
        .await?;
    let rows: Vec<Vec<String>> = items.iter().map(item_row).collect();
    ctx.out.emit(
        &json!({"items": items.iter().map(item_json).collect::<Vec<_>>()}),
        || table(&ITEM_HEADERS, &rows),
    );
    Ok(())
}

async fn stats(ctx: &Ctx, a: AccountArg, ids: Vec<String>) -> CliResult {
    let (client, store) = client(ctx, false, None)?;
    let open_id = resolve_account(&client, store.as_ref(), &a)?;
    let items = client.video_data(&open_id, &ids).await?;
    // Douyin answers an unknown item id with success and no item: say so, as `ls` does for a
    // missing file, instead of an empty table and status 0.
    let missing: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|id| !items.iter().any(|i| i.item_id == *id))
        .collect();
    if !items.is_empty() {
        let rows: Vec<Vec<String>> = items.iter().map(item_row).collect();
        ctx.out.emit(
            &json!({"items": items.iter().map(item_json).collect::<Vec<_>>(), "not_found": missing}),
            || table(&ITEM_HEADERS, &rows),
        );
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(CliError::new(
        exit::OTHER,
        format!(
            "{} not found for account {open_id}: {} (list the account's items with `connectors douyin videos`)",
            if missing.len() == 1 { "item" } else { "items" },
            missing.join(", ")
        ),
    ))
}
