//! Re-creatable streaming request bodies: a body made from a factory that opens a fresh
//! stream for every attempt, so a retried upload re-reads its file instead of holding it in
//! memory, and reports progress as the bytes go out.
//!
//! A [`StreamBody`] is cheap to clone (the factory is shared); the transport calls
//! [`StreamBody::open`] once per attempt. [`StreamBody::file`] re-opens a file each time and
//! reads it in [`CHUNK`]-sized pieces, so memory stays bounded whatever the file's size. The
//! body checks that exactly the declared length comes out: a file that changes between
//! attempts fails the attempt rather than sending a different length than announced.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use conn_core::body::StreamBody;
//! use futures::TryStreamExt;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("clip.mp4");
//! std::fs::write(&path, vec![7u8; 200_000]).unwrap();
//!
//! let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
//! let seen = sent.clone();
//! let body = StreamBody::file(&path, 200_000)
//!     .with_progress(move |n| seen.store(n, std::sync::atomic::Ordering::Relaxed));
//! // Each attempt reads the file again from the start.
//! for _ in 0..2 {
//!     let chunks: Vec<_> = body.open().try_collect().await.unwrap();
//!     assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), 200_000);
//!     assert!(chunks.iter().all(|c| c.len() <= conn_core::body::CHUNK));
//! }
//! assert_eq!(sent.load(std::sync::atomic::Ordering::Relaxed), 200_000);
//! # });
//! ```

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use tokio::io::AsyncReadExt;

/// The size of the pieces [`StreamBody::file`] reads: what one attempt holds in memory.
pub const CHUNK: usize = 64 * 1024;

/// One attempt's stream of the body.
pub type ChunkStream = BoxStream<'static, io::Result<Bytes>>;

type OpenFn = dyn Fn() -> ChunkStream + Send + Sync;
type ProgressFn = dyn Fn(u64) + Send + Sync;

/// A request body opened afresh for every attempt; see the [module docs](self).
#[derive(Clone)]
pub struct StreamBody {
    len: u64,
    open: Arc<OpenFn>,
    progress: Option<Arc<ProgressFn>>,
}

impl fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamBody")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl StreamBody {
    /// A body of exactly `len` bytes that `open` produces anew for each attempt.
    pub fn new(len: u64, open: impl Fn() -> ChunkStream + Send + Sync + 'static) -> Self {
        Self {
            len,
            open: Arc::new(open),
            progress: None,
        }
    }

    /// The file at `path`, of `len` bytes (its size when the caller checked it), re-opened
    /// and read from the start in [`CHUNK`]-sized pieces by every attempt.
    pub fn file(path: impl Into<PathBuf>, len: u64) -> Self {
        let path: Arc<Path> = Arc::from(path.into());
        Self::new(len, move || read_file(path.clone()))
    }

    /// Calls `progress` with the bytes handed to the connection so far in the current
    /// attempt (from 0 again when an attempt is retried).
    pub fn with_progress(mut self, progress: impl Fn(u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// The declared length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for a body of no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A fresh stream of the body for one attempt: progress is reported as chunks are taken,
    /// and a source that yields more or fewer bytes than declared ends in an error.
    pub fn open(&self) -> ChunkStream {
        let len = self.len;
        let progress = self.progress.clone();
        let mut sent: u64 = 0;
        let counted = (self.open)().map(move |chunk| {
            let chunk = chunk?;
            sent = sent.saturating_add(chunk.len() as u64);
            if sent > len {
                return Err(length_error(len, "more"));
            }
            if let Some(p) = &progress {
                p(sent);
            }
            Ok(chunk)
        });
        // After the source ends, one check that it was not short.
        let tail = stream::once(async move { Ok::<_, io::Error>(None) });
        let mut total: u64 = 0;
        counted
            .map_ok(Some)
            .chain(tail)
            .try_filter_map(move |c| {
                let out = match c {
                    Some(chunk) => {
                        total += chunk.len() as u64;
                        Ok(Some(chunk))
                    }
                    None if total == len => Ok(None),
                    None => Err(length_error(len, "fewer")),
                };
                futures::future::ready(out)
            })
            .boxed()
    }

    /// The body as reqwest sends it, for one attempt.
    pub(crate) fn to_reqwest(&self) -> reqwest::Body {
        reqwest::Body::wrap_stream(self.open())
    }
}

fn length_error(len: u64, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "the body source yielded {what} than the {len} bytes declared (did the file change?)"
        ),
    )
}

/// The file, opened on the first poll and read in [`CHUNK`]s.
fn read_file(path: Arc<Path>) -> ChunkStream {
    let opened = async move {
        tokio::fs::File::open(&*path)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("open {}: {e}", path.display())))
    };
    stream::once(opened)
        .map_ok(|file| {
            stream::try_unfold(file, |mut file| async move {
                let mut buf = BytesMut::with_capacity(CHUNK);
                while buf.len() < CHUNK {
                    if file.read_buf(&mut buf).await? == 0 {
                        break;
                    }
                }
                if buf.is_empty() {
                    Ok::<_, io::Error>(None)
                } else {
                    Ok(Some((buf.freeze(), file)))
                }
            })
        })
        .try_flatten()
        .boxed()
}

/// A `multipart/form-data` body of one file field streamed from a [`StreamBody`] (the
/// transport's `Body::StreamingMultipart`).
#[derive(Debug, Clone)]
pub struct StreamPart {
    /// Field name.
    pub name: String,
    /// File name.
    pub file_name: Option<String>,
    /// Content type.
    pub content_type: Option<String>,
    /// The data, opened afresh for each attempt.
    pub body: StreamBody,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn each_open_re_reads_the_file_in_bounded_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.bin");
        let data: Vec<u8> = (0..(3 * CHUNK + 17)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let body = StreamBody::file(&path, data.len() as u64);
        let first: Vec<Bytes> = body.open().try_collect().await.unwrap();
        assert!(first.iter().all(|c| c.len() <= CHUNK));
        assert_eq!(first.concat(), data);
        // The file changed between attempts: the second attempt reads the new content.
        let changed: Vec<u8> = data.iter().map(|b| b ^ 0xff).collect();
        std::fs::write(&path, &changed).unwrap();
        let second: Vec<Bytes> = body.open().try_collect().await.unwrap();
        assert_eq!(second.concat(), changed);
    }

    #[tokio::test]
    async fn a_source_of_the_wrong_length_fails_the_attempt() {
        let short = StreamBody::new(10, || {
            stream::iter([Ok(Bytes::from_static(b"abc"))]).boxed()
        });
        let e = short.open().try_collect::<Vec<_>>().await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("fewer than the 10 bytes"), "{e}");
        let long = StreamBody::new(2, || stream::iter([Ok(Bytes::from_static(b"abc"))]).boxed());
        let e = long.open().try_collect::<Vec<_>>().await.unwrap_err();
        assert!(e.to_string().contains("more than the 2 bytes"), "{e}");
        let exact = StreamBody::new(3, || stream::iter([Ok(Bytes::from_static(b"abc"))]).boxed());
        assert_eq!(exact.open().try_collect::<Vec<_>>().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_missing_file_is_an_error_naming_it_and_progress_restarts_per_attempt() {
        let e = StreamBody::file("/nonexistent/dir/v.mp4", 5)
            .open()
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/dir/v.mp4"), "{e}");

        let calls = Arc::new(AtomicUsize::new(0));
        let last = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, l) = (calls.clone(), last.clone());
        let body = StreamBody::new(6, || {
            stream::iter([
                Ok(Bytes::from_static(b"abc")),
                Ok(Bytes::from_static(b"def")),
            ])
            .boxed()
        })
        .with_progress(move |n| {
            c.fetch_add(1, Ordering::Relaxed);
            l.lock().unwrap().push(n);
        });
        for _ in 0..2 {
            body.open().try_collect::<Vec<_>>().await.unwrap();
        }
        assert_eq!(calls.load(Ordering::Relaxed), 4);
        assert_eq!(*last.lock().unwrap(), [3, 6, 3, 6]);
    }
}
