//! The fake's front door: a small HTTP/1.1 server in front of the wiremock server.
//!
//! wiremock keeps a copy of every request a mock matched, bodies included; a 1 GiB upload would
//! stay in memory. The front door streams multipart bodies through a [`Scanner`] (sizes only),
//! and forwards the request to wiremock with an empty body and the field summary in a header,
//! so the responders see every request but never an upload's bytes. Other bodies are forwarded
//! as they are (capped). Responses come back unchanged; a connection wiremock drops is dropped
//! here too.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING};
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::multipart::{boundary_of, Scanner};

/// Carries the multipart summary (JSON) to the responders.
pub(crate) const MULTIPART_HEADER: &str = "x-fake-multipart";
/// Carries the original body length.
pub(crate) const ORIGINAL_LENGTH_HEADER: &str = "x-fake-original-length";
/// Non-multipart bodies larger than this are cut (the fake's endpoints take small JSON/forms).
const MAX_FORWARDED_BODY: usize = 8 * 1024 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The running front door; stops accepting when dropped.
#[derive(Debug)]
pub(crate) struct FrontDoor {
    pub(crate) addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for FrontDoor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) async fn start(target: String) -> std::io::Result<FrontDoor> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(std::io::Error::other)?;
    let target: Arc<str> = Arc::from(target.trim_end_matches('/'));
    let task = tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of descriptors, say: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let client = client.clone();
            let target = target.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| forward(req, target.clone(), client.clone()));
                // A client that goes away mid-request is not an error worth reporting.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(FrontDoor { addr, task })
}

async fn forward(
    req: Request<Incoming>,
    target: Arc<str>,
    client: reqwest::Client,
) -> Result<Response<Full<Bytes>>, BoxError> {
    let (parts, mut body) = req.into_parts();
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut extra: Vec<(&'static str, String)> = Vec::new();
    let forwarded: Bytes = match boundary_of(&content_type) {
        Some(boundary) => {
            let mut scanner = Scanner::new(&boundary);
            while let Some(frame) = body.frame().await {
                if let Some(data) = frame?.data_ref() {
                    scanner.feed(data);
                }
            }
            extra.push((ORIGINAL_LENGTH_HEADER, scanner.total().to_string()));
            extra.push((MULTIPART_HEADER, serde_json::to_string(&scanner.finish())?));
            Bytes::new()
        }
        None => {
            let mut buf = Vec::new();
            let mut total = 0u64;
            while let Some(frame) = body.frame().await {
                if let Some(data) = frame?.data_ref() {
                    total += data.len() as u64;
                    if buf.len() + data.len() <= MAX_FORWARDED_BODY {
                        buf.extend_from_slice(data);
                    }
                }
            }
            if total as usize != buf.len() {
                extra.push((ORIGINAL_LENGTH_HEADER, total.to_string()));
            }
            Bytes::from(buf)
        }
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut out = client.request(parts.method.clone(), format!("{target}{path}"));
    for (name, value) in &parts.headers {
        if name == HOST || name == CONTENT_LENGTH || name == TRANSFER_ENCODING || name == CONNECTION
        {
            continue;
        }
        out = out.header(name, value);
    }
    for (name, value) in extra {
        out = out.header(name, HeaderValue::from_str(&value)?);
    }
    // An error here (wiremock closed the connection for a DropConnection fault) closes ours.
    let resp = out.body(forwarded).send().await?;
    let mut builder = Response::builder().status(resp.status());
    for (name, value) in resp.headers() {
        if name == TRANSFER_ENCODING || name == CONNECTION || name == CONTENT_LENGTH {
            continue;
        }
        builder = builder.header(name, value);
    }
    let bytes = resp.bytes().await?;
    Ok(builder.body(Full::new(bytes))?)
}
