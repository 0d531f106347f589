//! The bench's HTTP/1.1 server, run as a process of its own so that none of its work counts
//! in the client's instructions or CPU time. Keep-alive, fixed answers by path
//! ([`conn_bench::bodies`]), any method; it prints `listening <addr>` and serves until killed
//! or until its stdin closes.

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

type Answer = Arc<[u8]>;

fn answer(body: &str) -> Answer {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nx-tt-logid: 2023111412345601020304050607080910\r\n\r\n",
        body.len()
    );
    Arc::from([head.as_bytes(), body.as_bytes()].concat())
}

struct Routes(Vec<(&'static str, Answer)>);

impl Routes {
    fn new() -> Self {
        use conn_bench::bodies as b;
        Self(vec![
            (
                "/api/douyin/v1/video/video_data/",
                answer(&b::douyin_video_data()),
            ),
            (
                "/api/douyin/v1/video/video_list/",
                answer(&b::douyin_video_list()),
            ),
            ("/get_access_token", answer(&b::ths_token())),
            ("/cmd_history_quotation", answer(&b::ths_history())),
            ("/api/orders", answer(&b::erp_orders())),
            ("/article/stats/", answer(&b::toutiao_stats())),
        ])
    }

    fn find(&self, path: &str) -> Option<&Answer> {
        let path = path.split('?').next().unwrap_or(path);
        self.0
            .iter()
            .find(|(p, _)| path.ends_with(p))
            .map(|(_, a)| a)
    }
}

const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";

async fn serve(sock: tokio::net::TcpStream, routes: Arc<Routes>) -> std::io::Result<()> {
    sock.set_nodelay(true)?;
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::with_capacity(64 * 1024, r);
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let mut length = 0usize;
        loop {
            line.clear();
            if r.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let h = line.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        body.resize(length, 0);
        r.read_exact(&mut body).await?;
        match routes.find(&path) {
            Some(a) => w.write_all(a).await?,
            None => w.write_all(NOT_FOUND).await?,
        }
    }
}

fn main() -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("listening {}", listener.local_addr()?);
        let routes = Arc::new(Routes::new());
        // The parent closes our stdin when it is done: stop then, even if it could not kill us.
        std::thread::spawn(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            std::process::exit(0);
        });
        loop {
            let (sock, _) = listener.accept().await?;
            let routes = routes.clone();
            tokio::spawn(async move {
                let _ = serve(sock, routes).await;
            });
        }
    })
}
