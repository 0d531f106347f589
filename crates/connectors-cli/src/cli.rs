//! The command line, as clap derive types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit;

const ABOUT: &str =
    "Connectors for Douyin, 同花顺 iFinD, ERPs and content platforms: credentials, \
OAuth login, publishing, raw calls, a webhook receiver and a built-in sandbox.";

const LONG_ABOUT: &str = "\
Connectors for Douyin, 同花顺 iFinD, ERPs and content platforms: credentials, OAuth login, \
publishing, raw calls, a webhook receiver and a built-in sandbox.

Platforms are configured by environment variables (see env.example); secrets may instead be \
stored encrypted with `connectors creds set PLATFORM NAME`, which stands for the variable \
PLATFORM_NAME (a variable that is set wins). The store is used when its directory exists.

Try it without any account: `connectors demo` runs a full tour against an in-process \
sandbox, and `connectors sandbox` starts the fakes and prints the variables that point this \
tool at them.";

/// The `connectors` command line.
#[derive(Debug, Parser)]
#[command(
    name = "connectors",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_long_help = exit::HELP,
    after_help = "Run `connectors --help` for the exit codes."
)]
pub struct Cli {
    /// Machine-readable JSON output (errors too, on stderr).
    #[arg(long, global = true)]
    pub json: bool,

    /// Directory of the encrypted credential store.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "API_CREDENTIALS_DIR",
        default_value = ".credentials",
        hide_env_values = true
    )]
    pub store_dir: PathBuf,

    /// More tracing on stderr: -v info, -vv debug, -vvv trace (RUST_LOG is used otherwise).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage the encrypted credential store.
    #[command(subcommand)]
    Creds(CredsCmd),
    /// Douyin Open Platform: OAuth, publishing, videos and their data.
    #[command(subcommand)]
    Douyin(DouyinCmd),
    /// 同花顺 iFinD: quotes and history.
    #[command(subcommand)]
    Ths(ThsCmd),
    /// ERP: orders and financial data.
    #[command(subcommand)]
    Erp(ErpCmd),
    /// Content platforms (xiaohongshu, zhihu, toutiao, custom profiles): publish and stats.
    #[command(subcommand)]
    Content(ContentCmd),
    /// Call any endpoint of a platform with its authentication (the original `call_api`).
    Call(CallArgs),
    /// Receive webhooks while developing against them.
    #[command(subcommand)]
    Webhook(WebhookCmd),
    /// Start every platform's fake on 127.0.0.1 and print the variables that point at them.
    Sandbox(SandboxArgs),
    /// A full tour against an in-process sandbox; needs no credentials and no network.
    Demo(DemoArgs),
    /// The exactly-once journal of keyed creates (`--key`): list, show, reconcile.
    #[command(subcommand)]
    Journal(JournalCmd),
    /// Print env.example (used by `cargo xtask env-example`).
    #[command(hide = true)]
    EnvExample,
}

/// `creds …`
#[derive(Debug, Subcommand)]
pub enum CredsCmd {
    /// Store a credential; the value is read from stdin or a hidden prompt, never from argv.
    Set {
        /// Platform (`douyin`, `ths`, `erp`, `xiaohongshu`, …).
        platform: String,
        /// Credential name (`client_secret`, `refresh_token`, …): the variable is PLATFORM_NAME.
        name: String,
        /// Store it even though no documented variable has this platform and name (a custom
        /// content profile, a name of your own); without it a typo is refused with the closest
        /// known name.
        #[arg(long)]
        force: bool,
    },
    /// Show a credential, masked unless --reveal, and where it came from.
    Get {
        /// Platform.
        platform: String,
        /// Credential name.
        name: String,
        /// Print the value itself.
        #[arg(long)]
        reveal: bool,
    },
    /// List stored credentials and token sets (names only, never values).
    List {
        /// Only this platform.
        platform: Option<String>,
    },
    /// Delete a stored credential (or, with --token, an account's stored tokens).
    Delete {
        /// Platform.
        platform: String,
        /// Credential name (with --token: the account, e.g. a Douyin open_id).
        name: String,
        /// Delete the token set of account NAME instead of a credential.
        #[arg(long)]
        token: bool,
    },
    /// Check that a platform's credentials are available (environment or store).
    Validate {
        /// Platform.
        platform: String,
        /// Names to require (default: what the platform needs).
        names: Vec<String>,
        /// Also check them against the platform (one authenticated call).
        #[arg(long)]
        online: bool,
    },
    /// Re-encrypt the store under a new key, read from CONNECTORS_NEW_ENCRYPTION_KEY or stdin
    /// (never argv), or generated.
    RotateKey {
        /// Generate the new key.
        #[arg(long)]
        generate: bool,
    },
}

/// `douyin …`
#[derive(Debug, Subcommand)]
pub enum DouyinCmd {
    /// Print an authorization URL and its state.
    AuthUrl {
        /// Scopes to request.
        #[arg(long = "scope", value_name = "SCOPE", default_values_t = default_scopes())]
        scopes: Vec<String>,
        /// Use this state instead of a random one.
        #[arg(long)]
        state: Option<String>,
        /// Redirect URI (default DOUYIN_REDIRECT_URI).
        #[arg(long)]
        redirect_uri: Option<String>,
    },
    /// Log in: listen on 127.0.0.1, print the authorization URL, wait for the redirect, check
    /// the state, exchange the code and store the tokens.
    Login(LoginArgs),
    /// Refresh an account's access token now.
    Refresh(AccountArg),
    /// Upload and publish a video, with a progress bar.
    PublishVideo(PublishVideoArgs),
    /// Upload and publish an image post.
    PublishImages(PublishImagesArgs),
    /// List an account's videos.
    Videos {
        #[command(flatten)]
        account: AccountArg,
        /// Most items to list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Items per page.
        #[arg(long, default_value_t = 10)]
        page_size: u32,
    },
    /// Statistics of published items.
    Stats {
        #[command(flatten)]
        account: AccountArg,
        /// Item ids.
        #[arg(required = true)]
        item_ids: Vec<String>,
    },
}

fn default_scopes() -> Vec<String> {
    [
        "user_info",
        "video.create.bind",
        "video.list.bind",
        "video.data.bind",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// The account a Douyin command acts for.
#[derive(Debug, Clone, Args)]
pub struct AccountArg {
    /// The account's open_id (default DOUYIN_OPEN_ID, or the one account logged in).
    #[arg(long)]
    pub open_id: Option<String>,
}

/// `douyin login`
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Port to listen on when DOUYIN_REDIRECT_URI is not a 127.0.0.1/localhost URL (0: any
    /// free port, for sandboxes).
    #[arg(long, default_value_t = 8910)]
    pub port: u16,
    /// Seconds to wait for the redirect.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Scopes to request.
    #[arg(long = "scope", value_name = "SCOPE", default_values_t = default_scopes())]
    pub scopes: Vec<String>,
}

/// `douyin publish-video`
#[derive(Debug, Args)]
pub struct PublishVideoArgs {
    /// The video file.
    pub file: PathBuf,
    /// Title (at most 55 characters).
    #[arg(long)]
    pub title: String,
    /// Description (at most 2000 characters).
    #[arg(long, default_value = "")]
    pub description: String,
    /// Only the author can see it.
    #[arg(long)]
    pub private: bool,
    /// Chunked-upload part size (e.g. 5MiB; at least 5 MiB).
    #[arg(long, value_name = "SIZE")]
    pub part_size: Option<String>,
    /// Files larger than this use chunked upload (e.g. 50MiB).
    #[arg(long, value_name = "SIZE")]
    pub chunk_above: Option<String>,
    /// Publish at most once under this key (e.g. campaign-42/video-1): the same command again
    /// returns the recorded item, or reconciles an interrupted publish first. Recorded in the
    /// journal beside the credential store (API_JOURNAL_DIR to move it).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    #[command(flatten)]
    pub account: AccountArg,
}

/// `douyin publish-images`
#[derive(Debug, Args)]
pub struct PublishImagesArgs {
    /// Image files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Title.
    #[arg(long)]
    pub title: String,
    /// Description.
    #[arg(long, default_value = "")]
    pub description: String,
    /// Only the author can see it.
    #[arg(long)]
    pub private: bool,
    /// Publish at most once under this key (e.g. campaign-42/video-1): the same command again
    /// returns the recorded item, or reconciles an interrupted publish first. Recorded in the
    /// journal beside the credential store (API_JOURNAL_DIR to move it).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    #[command(flatten)]
    pub account: AccountArg,
}

/// `journal …`
#[derive(Debug, Subcommand)]
pub enum JournalCmd {
    /// Every keyed create, oldest first.
    List,
    /// One entry in full.
    Show {
        /// The operation key.
        key: String,
    },
    /// Settles interrupted creates (state `sending`) from what the platform shows, without
    /// sending anything: found → done; conclusively absent → failed (the next keyed call
    /// sends it); otherwise it stays `sending` and says what was checked.
    Reconcile {
        /// Only this key (default: every `sending` entry).
        key: Option<String>,
    },
}

/// `ths …`
#[derive(Debug, Subcommand)]
pub enum ThsCmd {
    /// Real-time quotes.
    Quote {
        /// Security codes (600519.SH, 000001.SZ, 801010.SL, …).
        #[arg(required = true)]
        codes: Vec<String>,
        /// Indicators.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "latest,open,high,low,volume"
        )]
        indicators: Vec<String>,
    },
    /// Daily (or longer) history.
    History {
        /// Security codes.
        #[arg(required = true)]
        codes: Vec<String>,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// Indicators.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "open,high,low,close,volume"
        )]
        indicators: Vec<String>,
        /// Bar period.
        #[arg(long, value_enum, default_value_t = Period::Day)]
        interval: Period,
        /// Price adjustment (CPS 1-7: 1 none, 2 forward, 3 backward, ...).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=7))]
        adjust: Option<u8>,
    },
    /// Intraday bars (high_frequency), with technical indicators.
    Hf {
        /// Security codes.
        #[arg(required = true)]
        codes: Vec<String>,
        /// Start, "YYYY-MM-DD HH:MM:SS".
        #[arg(long)]
        from: String,
        /// End, "YYYY-MM-DD HH:MM:SS".
        #[arg(long)]
        to: String,
        /// Indicators (technical ones need --calculate).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "open,high,low,close,volume"
        )]
        indicators: Vec<String>,
        /// Bar length in minutes (1, 3, 5, 10, 15, 30, 60).
        #[arg(long, default_value = "1")]
        minutes: String,
        /// Technical-indicator parameters, `NAME=p1,p2,..` (repeat per indicator), e.g.
        /// `--calculate MACD=12,26,9,MACD`.
        #[arg(long)]
        calculate: Vec<String>,
    },
    /// Trading days between two dates, or N days from a date.
    TradeDates {
        /// Exchange code (212001 Shanghai, 212100 Shenzhen, 212200 Hong Kong, …).
        #[arg(long, default_value = "212001")]
        market: String,
        /// First day (or the base day with --offset), YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long, conflicts_with = "offset", required_unless_present = "offset")]
        to: Option<String>,
        /// Trading days from --from (negative: before it).
        #[arg(long, allow_hyphen_values = true)]
        offset: Option<i32>,
    },
    /// Economic database series.
    Edb {
        /// Series ids (M001620326, …).
        #[arg(required = true)]
        ids: Vec<String>,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
    },
    /// The account's data usage.
    DataVolume,
    /// Portfolio management.
    #[command(subcommand)]
    Portfolio(ThsPortfolioCmd),
}

/// `ths portfolio …`
// Parsed once per process: the size of the deal variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ThsPortfolioCmd {
    /// Value and returns (query_overview).
    Overview {
        /// Portfolio id.
        portfid: String,
        /// Indicators.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "thscode,stockName,number,marketValue,weight"
        )]
        indicators: Vec<String>,
    },
    /// Holdings (query_positions).
    Positions {
        /// Portfolio id.
        portfid: String,
        /// Indicators.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "thsCode,securityName,amount,cost,marketPrice"
        )]
        indicators: Vec<String>,
        /// Look through funds.
        #[arg(long)]
        penetrate: bool,
    },
    /// Records a trade (deal). Never replayed: an unknown outcome exits with its code.
    Deal {
        /// Portfolio id.
        portfid: String,
        /// Security code, SYMBOL.MARKET (300033.SZ).
        code: String,
        /// buy or sell.
        #[arg(long, value_parser = ["buy", "sell"])]
        side: String,
        /// Short name (同花顺).
        #[arg(long)]
        name: String,
        /// Price.
        #[arg(long)]
        price: String,
        /// Volume.
        #[arg(long)]
        volume: String,
        /// Fee amount.
        #[arg(long, default_value = "0")]
        fee: String,
        /// Fee rate.
        #[arg(long, default_value = "0")]
        fee_rate: String,
        /// Security type code (001001: A shares).
        #[arg(long, default_value = "001001")]
        security_type: String,
        /// Currency (CNY, HKD, USD).
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// Exchange rate to the portfolio currency.
        #[arg(long, default_value = "1.00")]
        rate: String,
        /// Record at most once under this key: the same command again returns the recorded
        /// result, or reconciles an interrupted call first (journal beside the credential
        /// store; API_JOURNAL_DIR to move it).
        #[arg(long, value_name = "KEY")]
        key: Option<String>,
    },
}

/// History bar periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Period {
    /// Daily.
    Day,
    /// Weekly.
    Week,
    /// Monthly.
    Month,
    /// Quarterly.
    Quarter,
    /// Yearly.
    Year,
}

/// `erp …`
#[derive(Debug, Subcommand)]
pub enum ErpCmd {
    /// List orders (every page).
    Orders {
        /// Only orders with this status.
        #[arg(long)]
        status: Option<String>,
        /// Extra filter NAME=VALUE (repeatable).
        #[arg(long = "filter", value_name = "NAME=VALUE")]
        filters: Vec<String>,
        /// Most orders to list.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Create an order (with an idempotency key, so a retried create is safe).
    CreateOrder {
        /// Customer.
        #[arg(long)]
        customer: String,
        /// A line SKU:QUANTITY:UNIT_PRICE (repeatable), e.g. SKU-1:2:9.90.
        #[arg(long = "item", value_name = "SKU:QTY:PRICE", required = true)]
        items: Vec<String>,
        /// Currency.
        #[arg(long)]
        currency: Option<String>,
        /// Your own reference for the order.
        #[arg(long)]
        external_id: Option<String>,
        /// Record at most once under this key: the same command again returns the recorded
        /// result, or reconciles an interrupted call first (journal beside the credential
        /// store; API_JOURNAL_DIR to move it).
        #[arg(long, value_name = "KEY")]
        key: Option<String>,
    },
    /// Financial figures for a period: a month (2024-01) or a range (2024-01-01..2024-03-31).
    Finance {
        /// The period.
        #[arg(long)]
        period: String,
    },
}

/// `content …`
#[derive(Debug, Subcommand)]
pub enum ContentCmd {
    /// Publish a post.
    Publish {
        /// Profile: xiaohongshu, zhihu, toutiao or a custom profile.
        #[arg(long)]
        platform: String,
        /// Title.
        #[arg(long)]
        title: String,
        /// Body text.
        #[arg(
            long,
            conflicts_with = "body_file",
            required_unless_present = "body_file"
        )]
        body: Option<String>,
        /// Read the body from a file.
        #[arg(long)]
        body_file: Option<PathBuf>,
        /// Image URL (repeatable).
        #[arg(long = "image", value_name = "URL")]
        images: Vec<String>,
        /// Tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Record at most once under this key: the same command again returns the recorded
        /// result, or reconciles an interrupted call first (journal beside the credential
        /// store; API_JOURNAL_DIR to move it).
        #[arg(long, value_name = "KEY")]
        key: Option<String>,
    },
    /// Counters of a published post.
    Stats {
        /// Profile.
        #[arg(long)]
        platform: String,
        /// Content id.
        id: String,
    },
}

/// `call PLATFORM METHOD PATH`
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Platform (douyin, ths, erp, or a content profile).
    pub platform: String,
    /// HTTP method.
    pub method: String,
    /// Path relative to the platform's base URL.
    pub path: String,
    /// JSON data: the query of a GET/DELETE, the body otherwise.
    #[arg(long)]
    pub data: Option<String>,
    /// The account to act for (Douyin open_id).
    #[arg(long)]
    pub account: Option<String>,
}

/// `webhook …`
#[derive(Debug, Subcommand)]
pub enum WebhookCmd {
    /// Listen on 127.0.0.1, verify incoming events and print them; answers the URL check.
    Serve(WebhookServeArgs),
}

/// Platforms whose webhooks can be received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WebhookPlatform {
    /// Douyin (X-Douyin-Signature, Msg-Id).
    Douyin,
}

/// `webhook serve`
#[derive(Debug, Args)]
pub struct WebhookServeArgs {
    /// Platform.
    #[arg(long, value_enum, default_value_t = WebhookPlatform::Douyin)]
    pub platform: WebhookPlatform,
    /// Port on 127.0.0.1 (0: any free port; the address is printed).
    #[arg(long, default_value_t = 8911)]
    pub port: u16,
    /// Path that receives events.
    #[arg(long, default_value = "/webhook")]
    pub path: String,
    /// Stop after this many seconds.
    #[arg(long = "for", value_name = "SECONDS")]
    pub for_secs: Option<u64>,
    /// Stop after this many deliveries (accepted or rejected).
    #[arg(long)]
    pub max_events: Option<u64>,
}

/// `sandbox`: one field per option, so another (a shared store, say) is one more field.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  connectors sandbox                        print the export lines; stop with Ctrl-C
  connectors sandbox --for 600              the same, stopping after ten minutes
  connectors sandbox --env-file sandbox.env write the variables to a file as well
                                            (then `. ./sandbox.env` in another shell)
  connectors sandbox -- cargo test          run a command with the variables set; the
                                            sandbox stops when it ends, with its exit status")]
pub struct SandboxArgs {
    /// Stop after this many seconds (default: until Ctrl-C). Not with a COMMAND, which
    /// decides itself when the sandbox stops.
    #[arg(long = "for", value_name = "SECONDS", conflicts_with = "command")]
    pub for_secs: Option<u64>,
    /// Also start a private redis-server (it must be installed) and print REDIS_URL, so that
    /// several `connectors` processes share tokens and webhook dedupe.
    #[arg(long)]
    pub redis: bool,
    /// Also write the variables to PATH as `export NAME=value` lines (mode 0600), which a
    /// shell sources with `. PATH` and dotenv readers accept.
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// A command to run with the sandbox's variables added to the environment, after `--`.
    /// The sandbox stops when it exits, and its exit status becomes this tool's.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Size of the generated video in MiB (uploaded in 5 MiB parts).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(6..=512))]
    pub video_mib: u64,
}
