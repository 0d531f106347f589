//! Receive Douyin webhooks with a real HTTP server (hyper): the handler verifies the
//! signature on the raw body bytes, rejects a replayed `Msg-Id`, answers the URL check and
//! routes each event. The sandbox's Douyin fake plays the platform and delivers a signed
//! event, then the same one again (a replay), then a forged one:
//!
//! ```sh
//! cargo run -p connectors-examples --example webhook_server
//! ```
//!
//! Any framework works the same way: give `handle_http` the request's `http::HeaderMap` and
//! its body bytes, answer with the returned status and body.

use std::convert::Infallible;
use std::process::ExitCode;
use std::sync::Arc;

use connectors::douyin::{EventPayload, WebhookHandler};
use connectors::sandbox::{Sandbox, Seed};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Webhook bodies are small; a larger one is refused before it is read whole.
const MAX_BODY: usize = 64 * 1024;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            connectors_examples::report(e.as_ref());
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let sandbox = Sandbox::start(&Seed::default()).await?;
    let registry = connectors_examples::registry(&sandbox)?;
    let douyin = registry.require_douyin()?;

    // Verifies with DOUYIN_CLIENT_SECRET (and DOUYIN_CLIENT_SECRET_PREVIOUS during a rotation).
    let mut handler = douyin.webhook_handler()?;
    handler.on("create_video", |event| async move {
        if let EventPayload::CreateVideo { item_id, .. } = &event.payload {
            println!("handler: video {item_id} was published");
        }
        Ok(())
    });
    handler.fallback(|event| async move {
        println!("handler: {} {}", event.name, event.content);
        Ok(())
    });
    let handler = Arc::new(handler);

    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let url = format!("http://{}/webhook", listener.local_addr()?);
    let server = tokio::spawn(serve(listener, handler));
    println!("listening on {url}");

    let body = sandbox
        .douyin
        .webhook_body("create_video", serde_json::json!({"item_id": "@demo-item"}));
    let msg_id = sandbox.douyin.next_msg_id();
    let first = sandbox
        .douyin
        .deliver_signed(&url, body.clone(), &msg_id)
        .await?;
    println!("signed delivery: HTTP {}", first.status);
    let again = sandbox.douyin.deliver_signed(&url, body, &msg_id).await?;
    println!(
        "the same Msg-Id again (a replay, answered 200 so the platform stops): HTTP {}",
        again.status
    );
    let forged = reqwest_forged(&url).await?;
    println!("a forged signature: HTTP {forged}");

    server.abort();
    if first.status != 200 || forged != 401 {
        return Err("the webhook checks did not behave as documented".into());
    }
    Ok(())
}

/// Accepts connections until aborted; each request goes to the handler.
async fn serve(listener: TcpListener, handler: Arc<WebhookHandler>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| answer(handler.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// One request: the raw headers and body bytes go to the handler unchanged (the signature
/// covers the exact bytes; parsing and re-serialising the JSON first would break it).
async fn answer(
    handler: Arc<WebhookHandler>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let reply = match Limited::new(body, MAX_BODY).collect().await {
        Ok(body) => {
            let body = body.to_bytes();
            // `parts.headers` is an `http::HeaderMap`, what the handler takes.
            let r = handler.handle_http(&parts.headers, &body).await;
            (r.status, r.body)
        }
        Err(_) => (413, String::new()),
    };
    let mut resp = Response::new(Full::new(Bytes::from(reply.1)));
    *resp.status_mut() =
        http::StatusCode::from_u16(reply.0).unwrap_or(http::StatusCode::BAD_REQUEST);
    Ok(resp)
}

/// What an attacker without the client secret can send.
async fn reqwest_forged(url: &str) -> Result<u16, Box<dyn std::error::Error + Send + Sync>> {
    let client = connectors::core::reexports::reqwest::Client::builder()
        .no_proxy()
        .build()?;
    let resp = client
        .post(url)
        .header("x-douyin-signature", "0".repeat(40))
        .header("msg-id", "forged-1")
        .body(r#"{"event":"create_video","content":{}}"#)
        .send()
        .await?;
    Ok(resp.status().as_u16())
}
