//! Video upload: every source becomes one [`VideoInput`] (a reader, its length when known,
//! the bytes already in memory), and the length chooses one request or chunked upload.

use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use conn_core::body::{StreamBody, StreamPart};
use conn_core::error::{Error, Result};
use conn_core::retry::Idempotency;
use conn_core::transport::{Body, MultipartPart};
use http::Method;
use tokio::io::AsyncRead;

use super::{
    check_video_size, file_name_of, mime_for, read_error, read_part, report, InitData, VideoData,
};
use crate::client::Client;
use crate::endpoint::{
    COMPLETE_PART_UPLOAD_PATH, INIT_PART_UPLOAD_PATH, UPLOAD_PART_PATH, UPLOAD_VIDEO_PATH,
};
use crate::envelope::data_of;
use crate::models::{ProgressFn, UploadProgress, UploadedVideo, VideoSource};
use crate::validate::{self, Valid};

/// A video source as one shape: bytes already in memory (`head`), then a reader, with the
/// total length when known and the file's path when one request can stream it.
pub(super) struct VideoInput {
    /// Bytes already in memory, sent before anything is read from `reader`: a `Bytes` source
    /// whole, or the first part read from a stream of unknown length.
    head: Bytes,
    reader: Box<dyn AsyncRead + Send + Unpin>,
    len: Option<u64>,
    file_name: String,
    path: Option<PathBuf>,
}

impl VideoInput {
    /// The source as an input; a file is checked (readable, regular) and opened.
    async fn open(source: VideoSource) -> Result<Self> {
        let empty = || -> Box<dyn AsyncRead + Send + Unpin> { Box::new(tokio::io::empty()) };
        Ok(match source {
            VideoSource::Bytes { data, file_name } => Self {
                len: Some(data.len() as u64),
                head: data,
                reader: empty(),
                file_name,
                path: None,
            },
            VideoSource::Reader {
                reader,
                len,
                file_name,
            } => Self {
                head: Bytes::new(),
                reader,
                len,
                file_name,
                path: None,
            },
            VideoSource::Path(path) => {
                let meta = tokio::fs::metadata(&path).await.map_err(|e| {
                    Error::validation(
                        "video",
                        format!("a readable file ({}: {e})", path.display()),
                    )
                })?;
                if !meta.is_file() {
                    return Err(Error::validation(
                        "video",
                        format!("a regular file ({} is not)", path.display()),
                    ));
                }
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(|e| read_error("video", Some(&path), e))?;
                Self {
                    head: Bytes::new(),
                    reader: Box::new(file),
                    len: Some(meta.len()),
                    file_name: file_name_of(&path, "video.mp4"),
                    path: Some(path),
                }
            }
            VideoSource::VideoId(_) => {
                return Err(Error::validation(
                    "video",
                    "bytes, a stream or a file (an uploaded video_id is not uploaded again)",
                ))
            }
        })
    }

    /// The next `want` bytes (fewer only at the end): from `head` without copying while it
    /// lasts, then from the reader.
    async fn next(&mut self, want: usize) -> Result<Bytes> {
        if self.head.len() >= want {
            return Ok(self.head.split_to(want));
        }
        let head = std::mem::take(&mut self.head);
        if head.is_empty() {
            return read_part(&mut self.reader, want).await;
        }
        let rest = read_part(&mut self.reader, want - head.len()).await?;
        if rest.is_empty() {
            return Ok(head);
        }
        let mut buf = BytesMut::with_capacity(head.len() + rest.len());
        buf.extend_from_slice(&head);
        buf.extend_from_slice(&rest);
        Ok(buf.freeze())
    }
}

impl Client {
    /// Uploads a video and returns its `video_id` (an existing id is returned as is).
    ///
    /// Sources up to `upload.single_upload_max` (50 MiB) go in one request, larger ones in parts
    /// of `upload.part_size` (20 MiB). `progress` is called once at the start and after each
    /// part; a single request from a file is streamed (a retry re-opens the file) and reports
    /// progress as its bytes go out, one from memory or a reader once at the end.
    ///
    /// Every source takes one path: it becomes a reader and, when known, its length (a stream
    /// of unknown length is measured by reading one part); the length then chooses one request
    /// or parts.
    pub async fn upload_video(
        &self,
        open_id: &str,
        source: VideoSource,
        progress: Option<&ProgressFn>,
    ) -> Result<UploadedVideo> {
        let open_id = validate::open_id(open_id)?;
        self.upload_video_checked(open_id, source, progress).await
    }

    /// [`Client::upload_video`] for a checked account.
    #[tracing::instrument(
        skip(self, open_id, source, progress),
        fields(open_id = *open_id),
        name = "douyin.upload_video"
    )]
    pub(crate) async fn upload_video_checked(
        &self,
        open_id: Valid<&str>,
        source: VideoSource,
        progress: Option<&ProgressFn>,
    ) -> Result<UploadedVideo> {
        let open_id = open_id.into_inner();
        let mut input = match source {
            VideoSource::VideoId(id) => {
                if id.trim().is_empty() {
                    return Err(Error::validation("video_id", "required"));
                }
                return Ok(UploadedVideo {
                    video_id: id,
                    width: None,
                    height: None,
                    parts: 0,
                });
            }
            other => VideoInput::open(other).await?,
        };
        if input.len.is_none() {
            // A stream shorter than one part is known whole after reading it.
            let part = self.part_size_usize();
            input.head = read_part(&mut input.reader, part).await?;
            if input.head.len() < part {
                input.len = Some(input.head.len() as u64);
            }
        }
        let Some(size) = input.len else {
            return self
                .upload_chunked(open_id, &mut input, None, progress)
                .await;
        };
        check_video_size(self, size)?;
        if size > self.config().upload.single_upload_max {
            return self
                .upload_chunked(open_id, &mut input, Some(size), progress)
                .await;
        }
        if let Some(path) = input.path.take() {
            // Streamed, not read into memory: each attempt re-opens the file, and the progress
            // callback follows the bytes as they go out.
            return self
                .upload_single_file(open_id, &path, size, &input.file_name, progress)
                .await;
        }
        let data = input
            .next(usize::try_from(size).unwrap_or(usize::MAX))
            .await?;
        if data.len() as u64 != size {
            return Err(Error::validation(
                "video",
                format!(
                    "a stream of the declared length (ended after {} of {size} bytes)",
                    data.len()
                ),
            ));
        }
        self.upload_single(open_id, data, &input.file_name, progress)
            .await
    }

    fn part_size_usize(&self) -> usize {
        usize::try_from(self.config().upload.part_size).unwrap_or(usize::MAX)
    }

    fn video_part(&self, data: Bytes, file_name: &str) -> Body {
        Body::Multipart(vec![MultipartPart {
            name: "video".to_owned(),
            file_name: Some(file_name.to_owned()),
            content_type: Some(mime_for(file_name, true).to_owned()),
            data,
        }])
    }

    async fn upload_single(
        &self,
        open_id: &str,
        data: Bytes,
        file_name: &str,
        progress: Option<&ProgressFn>,
    ) -> Result<UploadedVideo> {
        let total = data.len() as u64;
        report(
            progress,
            UploadProgress {
                uploaded: 0,
                total: Some(total),
                part: None,
                parts: None,
            },
        );
        let req = self
            .api_request(
                "upload_video",
                Method::POST,
                UPLOAD_VIDEO_PATH,
                open_id,
                Idempotency::Idempotent,
            )
            .body(self.video_part(data, file_name))
            .attempt_timeout(self.config().upload.timeout);
        let resp = self.execute_for(open_id, req).await?;
        let v: VideoData = data_of(&resp)?;
        report(
            progress,
            UploadProgress {
                uploaded: total,
                total: Some(total),
                part: None,
                parts: None,
            },
        );
        Ok(UploadedVideo {
            video_id: v.video.video_id,
            width: v.video.width,
            height: v.video.height,
            parts: 0,
        })
    }

    /// One request streaming the file at `path` ([`StreamBody::file`]): memory holds one
    /// [`conn_core::body::CHUNK`] at a time, a retry re-opens the file, and `progress` hears
    /// of every chunk handed to the connection.
    async fn upload_single_file(
        &self,
        open_id: &str,
        path: &Path,
        size: u64,
        file_name: &str,
        progress: Option<&ProgressFn>,
    ) -> Result<UploadedVideo> {
        let at = |uploaded: u64| UploadProgress {
            uploaded,
            total: Some(size),
            part: None,
            parts: None,
        };
        report(progress, at(0));
        // The body's progress hook must be 'static; the caller's callback is borrowed. A
        // watch channel carries the count to this task, which calls the callback.
        let (tx, mut rx) = tokio::sync::watch::channel(0u64);
        let body = StreamBody::file(path, size).with_progress(move |n| {
            let _ = tx.send(n);
        });
        let req = self
            .api_request(
                "upload_video",
                Method::POST,
                UPLOAD_VIDEO_PATH,
                open_id,
                Idempotency::Idempotent,
            )
            .body(Body::StreamingMultipart(StreamPart {
                name: "video".to_owned(),
                file_name: Some(file_name.to_owned()),
                content_type: Some(mime_for(file_name, true).to_owned()),
                body,
            }))
            .attempt_timeout(self.config().upload.timeout);
        let exec = self.execute_for(open_id, req);
        tokio::pin!(exec);
        let resp = loop {
            tokio::select! {
                r = &mut exec => break r?,
                changed = rx.changed() => {
                    if changed.is_err() {
                        break (&mut exec).await?;
                    }
                    let n = *rx.borrow_and_update();
                    report(progress, at(n));
                }
            }
        };
        let v: VideoData = data_of(&resp)?;
        report(progress, at(size));
        Ok(UploadedVideo {
            video_id: v.video.video_id,
            width: v.video.width,
            height: v.video.height,
            parts: 0,
        })
    }

    /// `init` → one `upload_video_part` per part (one part in memory at a time) → `complete`.
    async fn upload_chunked(
        &self,
        open_id: &str,
        input: &mut VideoInput,
        total: Option<u64>,
        progress: Option<&ProgressFn>,
    ) -> Result<UploadedVideo> {
        let file_name = input.file_name.clone();
        let file_name = file_name.as_str();
        let part_size = self.config().upload.part_size;
        let max = self.config().limits.max_video_bytes;
        let parts_total = total.and_then(|t| u32::try_from(t.div_ceil(part_size)).ok());

        let req = self.api_request(
            "init_video_part_upload",
            Method::POST,
            INIT_PART_UPLOAD_PATH,
            open_id,
            Idempotency::Idempotent,
        );
        let init: InitData = data_of(&self.execute_for(open_id, req).await?)?;
        let upload_id = init.upload_id;
        tracing::debug!(upload_id = %upload_id, ?total, "chunked upload started");
        report(
            progress,
            UploadProgress {
                uploaded: 0,
                total,
                part: None,
                parts: parts_total,
            },
        );

        let mut sent = 0u64;
        let mut part_number = 0u32;
        loop {
            let want = match total {
                Some(t) => part_size.min(t - sent),
                None => part_size,
            };
            if want == 0 {
                break;
            }
            let buf = input
                .next(usize::try_from(want).unwrap_or(usize::MAX))
                .await?;
            if buf.is_empty() {
                break;
            }
            let n = buf.len() as u64;
            if sent + n > max {
                return Err(Error::validation(
                    "video",
                    format!("at most {max} bytes (the stream is longer)"),
                ));
            }
            part_number += 1;
            let req = self
                .api_request(
                    "upload_video_part",
                    Method::POST,
                    UPLOAD_PART_PATH,
                    open_id,
                    Idempotency::Idempotent,
                )
                .query("upload_id", upload_id.clone())
                .query("part_number", part_number.to_string())
                .body(self.video_part(buf, file_name))
                .attempt_timeout(self.config().upload.timeout);
            // The part's buffer lives in `req` only: it is freed before the next part is read.
            self.execute_for(open_id, req).await?;
            sent += n;
            report(
                progress,
                UploadProgress {
                    uploaded: sent,
                    total,
                    part: Some(part_number),
                    parts: parts_total,
                },
            );
            if n < want {
                break;
            }
        }
        if let Some(t) = total {
            if sent != t {
                return Err(Error::validation(
                    "video",
                    format!("a source of the declared length (ended after {sent} of {t} bytes)"),
                ));
            }
        }
        if part_number == 0 {
            return Err(Error::validation("video", "must not be empty"));
        }
        let req = self
            .api_request(
                "complete_video_part_upload",
                Method::POST,
                COMPLETE_PART_UPLOAD_PATH,
                open_id,
                Idempotency::Idempotent,
            )
            .query("upload_id", upload_id);
        let v: VideoData = data_of(&self.execute_for(open_id, req).await?)?;
        tracing::debug!(
            parts = part_number,
            bytes = sent,
            "chunked upload completed"
        );
        Ok(UploadedVideo {
            video_id: v.video.video_id,
            width: v.video.width,
            height: v.video.height,
            parts: part_number,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn read_part_fills_without_growing() {
        let data: Vec<u8> = (0..100u8).collect();
        let mut r = std::io::Cursor::new(data);
        let a = read_part(&mut r, 40).await.unwrap();
        let b = read_part(&mut r, 40).await.unwrap();
        let c = read_part(&mut r, 40).await.unwrap();
        let d = read_part(&mut r, 40).await.unwrap();
        assert_eq!((a.len(), b.len(), c.len(), d.len()), (40, 40, 20, 0));
        assert_eq!(b[0], 40);
    }

    #[tokio::test]
    async fn parts_come_from_the_head_then_the_reader() {
        let mut input = VideoInput {
            head: Bytes::from_static(b"abcdef"),
            reader: Box::new(std::io::Cursor::new(b"ghij".to_vec())),
            len: None,
            file_name: "v.mp4".into(),
            path: None,
        };
        assert_eq!(&input.next(4).await.unwrap()[..], b"abcd");
        // Two bytes of head are left: the rest of the part comes from the reader.
        assert_eq!(&input.next(4).await.unwrap()[..], b"efgh");
        assert_eq!(&input.next(4).await.unwrap()[..], b"ij");
        assert!(input.next(4).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_uploaded_id_is_not_an_input() {
        let e = VideoInput::open(VideoSource::video_id("v1"))
            .await
            .err()
            .unwrap();
        assert!(
            matches!(e, Error::Validation(ref v) if v.field == "video"),
            "{e}"
        );
    }
}
