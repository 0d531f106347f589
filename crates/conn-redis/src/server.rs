//! A private `redis-server` for tests, benches and `connectors sandbox --redis`.
//!
//! Each [`LocalRedis`] runs its own server on a free 127.0.0.1 port with its own temporary data
//! directory, and kills only that process when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary looked up on `PATH`.
pub const SERVER_BINARY: &str = "redis-server";

/// How long a start may take before it is reported as failed.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `redis-server` can be run.
pub fn server_available() -> bool {
    Command::new(SERVER_BINARY)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Persistence of a [`LocalRedis`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Nothing on disk (`--save '' --appendonly no`): fastest.
    None,
    /// An append-only file synced every write, so [`LocalRedis::restart`] keeps the data.
    AppendOnly,
}

/// A running `redis-server` owned by this process.
///
/// ```no_run
/// use conn_redis::server::{LocalRedis, Persistence};
/// let server = LocalRedis::start(Persistence::None)?;
/// println!("{}", server.url()); // redis://127.0.0.1:<port>
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct LocalRedis {
    child: Option<Child>,
    port: u16,
    persistence: Persistence,
    dir: tempfile::TempDir,
}

impl LocalRedis {
    /// Starts a server on a free port and waits (bounded) until it answers `PING`.
    ///
    /// # Errors
    /// The binary is missing, or the server did not answer in time.
    pub fn start(persistence: Persistence) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("conn-redis-").tempdir()?;
        let mut server = Self {
            child: None,
            port: 0,
            persistence,
            dir,
        };
        let mut last = None;
        // A free port can be taken by someone else between probing and binding: retry.
        for _ in 0..3 {
            server.port = free_port()?;
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(e) => {
                    server.kill();
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("redis-server did not start")))
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let mut cmd = Command::new(SERVER_BINARY);
        cmd.arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--save")
            .arg("")
            .arg("--daemonize")
            .arg("no")
            .arg("--logfile")
            .arg(self.dir.path().join("redis.log"));
        match self.persistence {
            Persistence::None => cmd.arg("--appendonly").arg("no"),
            Persistence::AppendOnly => cmd
                .arg("--appendonly")
                .arg("yes")
                .arg("--appendfsync")
                .arg("always"),
        };
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(cmd.spawn()?);
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    return Err(std::io::Error::other(format!(
                        "redis-server exited at start ({status}); see {}",
                        self.log_path().display()
                    )));
                }
            }
            if ping(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("redis-server did not answer PING within {START_TIMEOUT:?}"),
        ))
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory (and the server's log file, `redis.log`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    /// True while the server process runs.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Kills the server (SIGKILL: no shutdown save) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory (with
    /// [`Persistence::AppendOnly`], with the same data).
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.kill();
        self.spawn()
    }
}

impl Drop for LocalRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One `PING` over a plain socket, with short timeouts.
fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

/// For tests: a started server, or `None` (after a loud message) when `redis-server` is
/// missing and `CI` is unset. Under `CI` a missing server is a panic: the CI must install it.
///
/// # Panics
/// When the server cannot start, or is missing under `CI`.
pub fn for_tests(persistence: Persistence) -> Option<LocalRedis> {
    if !server_available() {
        if std::env::var_os("CI").is_some() {
            panic!("{SERVER_BINARY} is not installed but CI is set: install it (apt-get install -y redis-server)");
        }
        eprintln!(
            "\n!!!!! SKIPPED: {SERVER_BINARY} is not on PATH; these tests need a real Redis \
             (apt-get install -y redis-server). Set CI=1 to make this a failure. !!!!!\n"
        );
        return None;
    }
    match LocalRedis::start(persistence) {
        Ok(s) => Some(s),
        Err(e) => panic!("could not start {SERVER_BINARY}: {e}"),
    }
}
