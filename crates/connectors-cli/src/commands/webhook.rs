//! `connectors webhook serve`: a local receiver that verifies Douyin webhooks (signature,
//! replay), answers the URL check and prints every delivery.

use std::sync::Arc;
use std::time::Duration;

use connectors::douyin::webhook::{parse_event, status_for};
use connectors::douyin::{WebhookHandler, WebhookReply};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::cli::{WebhookCmd, WebhookPlatform, WebhookServeArgs};
use crate::ctx::Ctx;
use crate::exit::{self, CliError, CliResult};
use crate::httpd::{self, Reply};
use crate::output::{print_stdout, stdout_closed, Output};

/// What happened to one delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The URL check (`verify_webhook`) was answered with its challenge.
    Challenge(Value),
    /// A verified event.
    Event {
        /// Event name.
        name: String,
        /// `Msg-Id`.
        msg_id: Option<String>,
        /// `from_user_id`.
        from: Option<String>,
        /// The event's content.
        content: Value,
    },
    /// Refused (bad signature, replay, malformed…), with the status answered.
    Rejected {
        /// HTTP status sent back.
        status: u16,
        /// Why.
        error: String,
    },
}

impl Delivery {
    /// One line for people.
    pub fn human(&self) -> String {
        match self {
            Delivery::Challenge(c) => {
                format!("✔ URL check (verify_webhook) answered with challenge {c}")
            }
            Delivery::Event {
                name,
                msg_id,
                from,
                content,
            } => format!(
                "✔ {name}  msg-id={}  from={}  content={content}",
                msg_id.as_deref().unwrap_or("-"),
                from.as_deref().unwrap_or("-"),
            ),
            Delivery::Rejected { status, error } => {
                format!("✘ rejected with HTTP {status}: {error}")
            }
        }
    }

    /// One JSON object.
    pub fn to_json(&self) -> Value {
        match self {
            Delivery::Challenge(c) => json!({"delivery": "challenge", "challenge": c}),
            Delivery::Event {
                name,
                msg_id,
                from,
                content,
            } => json!({"delivery": "event", "event": name, "msg_id": msg_id,
                        "from_user_id": from, "content": content}),
            Delivery::Rejected { status, error } => {
                json!({"delivery": "rejected", "status": status, "error": error})
            }
        }
    }
}

/// A running receiver.
#[derive(Debug)]
pub struct Receiver {
    /// Deliveries, in arrival order.
    pub deliveries: mpsc::Receiver<Delivery>,
    /// The URL events are posted to.
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
}

impl Receiver {
    /// Stops accepting and lets the last answers go out.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = self.server.await;
    }
}

/// Starts a receiver on `listener` for POSTs to `path`, verified by `handler`.
pub fn start(listener: TcpListener, path: &str, handler: WebhookHandler) -> CliResult<Receiver> {
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::new(exit::OTHER, format!("listener address: {e}")))?;
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let url = format!("http://{addr}{path}");
    let max_body = handler.verifier().max_body_bytes();
    let handler = Arc::new(handler);
    let (tx, rx) = mpsc::channel::<Delivery>(64);
    let serve_path = path.clone();
    let on_request = move |req: httpd::Req| {
        let handler = handler.clone();
        let tx = tx.clone();
        let path = serve_path.clone();
        async move {
            if req.uri.path() != path {
                return Reply::json(404, r#"{"error":"not found"}"#);
            }
            if req.method != http::Method::POST {
                return Reply::json(405, r#"{"error":"POST only"}"#);
            }
            let (delivery, reply) = match handler.handle(&req.headers, &req.body).await {
                Ok(WebhookReply::Challenge { challenge }) => {
                    let r = WebhookReply::Challenge {
                        challenge: challenge.clone(),
                    };
                    (
                        Delivery::Challenge(challenge),
                        Reply::json(r.status(), r.body()),
                    )
                }
                Ok(WebhookReply::Delivered { event, msg_id, .. }) => {
                    let (from, content) = match parse_event(&req.body, msg_id.clone()) {
                        Ok(e) => (e.from_user_id, e.content),
                        Err(_) => (None, Value::Null),
                    };
                    (
                        Delivery::Event {
                            name: event,
                            msg_id,
                            from,
                            content,
                        },
                        Reply::json(200, ""),
                    )
                }
                Err(e) => {
                    let status = status_for(&e);
                    let body = json!({"error": e.to_string()}).to_string();
                    (
                        Delivery::Rejected {
                            status,
                            error: e.to_string(),
                        },
                        Reply::json(status, body),
                    )
                }
            };
            let _ = tx.send(delivery).await;
            reply
        }
    };
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(httpd::serve(listener, max_body, on_request, async {
        let _ = stop_rx.await;
    }));
    Ok(Receiver {
        deliveries: rx,
        url,
        stop: Some(stop_tx),
        server,
    })
}

/// Runs a `webhook` subcommand.
pub async fn run(ctx: &Ctx, cmd: WebhookCmd) -> CliResult {
    match cmd {
        WebhookCmd::Serve(a) => serve(ctx, a).await,
    }
}

async fn serve(ctx: &Ctx, a: WebhookServeArgs) -> CliResult {
    let WebhookPlatform::Douyin = a.platform;
    let built = ctx.build(&["douyin"], false, None)?;
    let handler = built.reg.require_douyin()?.webhook_handler()?;
    let listener = TcpListener::bind(("127.0.0.1", a.port))
        .await
        .map_err(|e| {
            CliError::new(
                exit::OTHER,
                format!("could not listen on 127.0.0.1:{}: {e}", a.port),
            )
        })?;
    let mut rx = start(listener, &a.path, handler)?;
    announce(ctx.out, &rx.url);
    let deadline = a.for_secs.map(Duration::from_secs);
    let until = async {
        match deadline {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending::<()>().await,
        }
    };
    tokio::pin!(until);
    let mut seen: u64 = 0;
    loop {
        tokio::select! {
            () = &mut until => break,
            _ = tokio::signal::ctrl_c() => break,
            d = rx.deliveries.recv() => {
                let Some(d) = d else { break };
                print_delivery(ctx.out, &d);
                seen += 1;
                // Nobody reads what would be printed next (`… | head -1`): stop like a filter.
                if stdout_closed() || a.max_events.is_some_and(|m| seen >= m) {
                    break;
                }
            }
        }
    }
    rx.stop().await;
    if !ctx.out.json {
        eprintln!("stopped after {}", count(seen, "delivery", "deliveries"));
    }
    Ok(())
}

/// `1 delivery`, `2 deliveries`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn announce(out: Output, url: &str) {
    if out.json {
        print_stdout(&json!({"listening": url}).to_string());
    } else {
        print_stdout(&format!(
            "listening on {url} (Douyin webhooks: signature and Msg-Id replay checked)"
        ));
    }
}

fn print_delivery(out: Output, d: &Delivery) {
    if out.json {
        print_stdout(&d.to_json().to_string());
    } else {
        print_stdout(&d.human());
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count(0, "delivery", "deliveries"), "0 deliveries");
        assert_eq!(count(1, "delivery", "deliveries"), "1 delivery");
        assert_eq!(count(2, "delivery", "deliveries"), "2 deliveries");
    }
}
