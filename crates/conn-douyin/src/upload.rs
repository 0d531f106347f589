//! Uploads: videos (one request up to a threshold, chunked above it) and images.
//!
//! Chunked upload is `init_video_part_upload` → `upload_video_part` × N (from part 1) →
//! `complete_video_part_upload`. One part is in memory at a time, so publishing a 1 GiB file
//! keeps memory near the part size (20 MiB by default; see `benches/publish_rss.rs`). A source of
//! unknown length goes through chunked upload as soon as it is longer than one part.
//!
//! Uploads are idempotent for the retry logic: an upload creates nothing visible, and a
//! re-upload only yields another `video_id`.

use std::fmt;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use conn_core::error::{Error, Result};
use conn_core::retry::Idempotency;
use conn_core::transport::{Body, MultipartPart};
use http::Method;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::client::Client;
use crate::envelope::data_of;
use conn_core::lenient;

use crate::validate;

mod video;

/// Path of the single-request video upload.
pub const UPLOAD_VIDEO_PATH: &str = "/api/douyin/v1/video/upload_video/";
/// Path of the chunked-upload init.
pub const INIT_PART_UPLOAD_PATH: &str = "/api/douyin/v1/video/init_video_part_upload/";
/// Path of a chunked-upload part.
pub const UPLOAD_PART_PATH: &str = "/api/douyin/v1/video/upload_video_part/";
/// Path of the chunked-upload completion.
pub const COMPLETE_PART_UPLOAD_PATH: &str = "/api/douyin/v1/video/complete_video_part_upload/";
/// Path of the image upload.
pub const UPLOAD_IMAGE_PATH: &str = "/api/douyin/v1/video/upload_image/";

/// Where a video comes from.
pub enum VideoSource {
    /// A local file.
    Path(PathBuf),
    /// A byte stream; give its length when known so the size threshold applies exactly.
    Reader {
        /// The stream.
        reader: Box<dyn AsyncRead + Send + Unpin>,
        /// Its length, when known.
        len: Option<u64>,
        /// The file name sent to the platform.
        file_name: String,
    },
    /// Bytes already in memory.
    Bytes {
        /// The data.
        data: Bytes,
        /// The file name sent to the platform.
        file_name: String,
    },
    /// A video already uploaded (each post needs a fresh one).
    VideoId(String),
}

impl VideoSource {
    /// A local file.
    pub fn path(p: impl Into<PathBuf>) -> Self {
        Self::Path(p.into())
    }

    /// A byte stream of known or unknown length.
    pub fn reader(reader: impl AsyncRead + Send + Unpin + 'static, len: Option<u64>) -> Self {
        Self::Reader {
            reader: Box::new(reader),
            len,
            file_name: "video.mp4".to_owned(),
        }
    }

    /// Bytes in memory.
    pub fn bytes(data: impl Into<Bytes>) -> Self {
        Self::Bytes {
            data: data.into(),
            file_name: "video.mp4".to_owned(),
        }
    }

    /// An uploaded video's id.
    pub fn video_id(id: impl Into<String>) -> Self {
        Self::VideoId(id.into())
    }
}

impl fmt::Debug for VideoSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(p) => f.debug_tuple("Path").field(p).finish(),
            Self::Reader { len, file_name, .. } => f
                .debug_struct("Reader")
                .field("len", len)
                .field("file_name", file_name)
                .finish_non_exhaustive(),
            Self::Bytes { data, file_name } => f
                .debug_struct("Bytes")
                .field("len", &data.len())
                .field("file_name", file_name)
                .finish(),
            Self::VideoId(id) => f.debug_tuple("VideoId").field(id).finish(),
        }
    }
}

/// Where an image comes from.
#[derive(Clone)]
pub enum ImageSource {
    /// A local file.
    Path(PathBuf),
    /// Bytes in memory.
    Bytes {
        /// The data.
        data: Bytes,
        /// The file name sent to the platform.
        file_name: String,
    },
    /// An image already uploaded.
    ImageId(String),
}

impl ImageSource {
    /// A local file.
    pub fn path(p: impl Into<PathBuf>) -> Self {
        Self::Path(p.into())
    }

    /// Bytes in memory with a file name (its extension sets the content type).
    pub fn bytes(data: impl Into<Bytes>, file_name: impl Into<String>) -> Self {
        Self::Bytes {
            data: data.into(),
            file_name: file_name.into(),
        }
    }

    /// An uploaded image's id.
    pub fn image_id(id: impl Into<String>) -> Self {
        Self::ImageId(id.into())
    }
}

impl fmt::Debug for ImageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(p) => f.debug_tuple("Path").field(p).finish(),
            Self::Bytes { data, file_name } => f
                .debug_struct("Bytes")
                .field("len", &data.len())
                .field("file_name", file_name)
                .finish(),
            Self::ImageId(id) => f.debug_tuple("ImageId").field(id).finish(),
        }
    }
}

/// Upload progress, reported after each part (and once at the start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadProgress {
    /// Bytes uploaded so far.
    pub uploaded: u64,
    /// Total bytes, when known.
    pub total: Option<u64>,
    /// The part just uploaded (chunked upload), from 1.
    pub part: Option<u32>,
    /// Number of parts, when known.
    pub parts: Option<u32>,
}

/// A progress callback (a CLI draws its progress bar from it).
pub type ProgressFn = dyn Fn(UploadProgress) + Send + Sync;

/// An uploaded video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedVideo {
    /// The id to publish with (once).
    pub video_id: String,
    /// Width, when reported.
    pub width: Option<i64>,
    /// Height, when reported.
    pub height: Option<i64>,
    /// Parts sent (0 for a single-request upload or an existing id).
    pub parts: u32,
}

/// An uploaded image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedImage {
    /// The id to publish with.
    pub image_id: String,
    /// Width, when reported.
    pub width: Option<i64>,
    /// Height, when reported.
    pub height: Option<i64>,
}

#[derive(Deserialize)]
struct VideoData {
    video: VideoInfo,
}

#[derive(Deserialize)]
struct VideoInfo {
    #[serde(deserialize_with = "lenient::string")]
    video_id: String,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    width: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    height: Option<i64>,
}

#[derive(Deserialize)]
struct InitData {
    #[serde(deserialize_with = "lenient::string")]
    upload_id: String,
}

#[derive(Deserialize)]
struct ImageData {
    image: ImageInfo,
}

#[derive(Deserialize)]
struct ImageInfo {
    #[serde(deserialize_with = "lenient::string")]
    image_id: String,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    width: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    height: Option<i64>,
}

fn mime_for(file_name: &str, video: bool) -> &'static str {
    let ext = Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        _ if video => "video/mp4",
        _ => "application/octet-stream",
    }
}

fn read_error(field: &str, path: Option<&Path>, e: std::io::Error) -> Error {
    Error::io(format!("read the {field}"), path, e)
}

fn file_name_of(p: &Path, default: &str) -> String {
    p.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .unwrap_or_else(|| default.to_owned())
}

/// Reads up to `size` bytes (fewer only at the end of the stream) into one buffer.
async fn read_part<R: AsyncRead + Unpin + ?Sized>(reader: &mut R, size: usize) -> Result<Bytes> {
    let mut buf = BytesMut::with_capacity(size);
    let mut limited = reader.take(size as u64);
    // Stop at `size`: reading into a full BytesMut would make it grow (and copy the part).
    while buf.len() < size {
        let n = limited
            .read_buf(&mut buf)
            .await
            .map_err(|e| read_error("video", None, e))?;
        if n == 0 {
            break;
        }
    }
    Ok(buf.freeze())
}

fn check_video_size(client: &Client, size: u64) -> Result<()> {
    let max = client.config().limits.max_video_bytes;
    if size == 0 {
        return Err(Error::validation("video", "must not be empty"));
    }
    if size > max {
        return Err(Error::validation(
            "video",
            format!("at most {max} bytes (got {size})"),
        ));
    }
    Ok(())
}

fn report(progress: Option<&ProgressFn>, p: UploadProgress) {
    if let Some(cb) = progress {
        cb(p);
    }
}

impl Client {
    /// Checks an image source before any request; returns its size when known.
    pub(crate) async fn check_image(&self, source: &ImageSource) -> Result<()> {
        let max = self.config().limits.max_image_bytes;
        let size = match source {
            ImageSource::ImageId(id) => {
                if id.trim().is_empty() {
                    return Err(Error::validation("image_id", "required"));
                }
                return Ok(());
            }
            ImageSource::Bytes { data, .. } => data.len() as u64,
            ImageSource::Path(p) => {
                let meta = tokio::fs::metadata(p).await.map_err(|e| {
                    Error::validation("image", format!("a readable file ({}: {e})", p.display()))
                })?;
                if !meta.is_file() {
                    return Err(Error::validation(
                        "image",
                        format!("a regular file ({} is not)", p.display()),
                    ));
                }
                meta.len()
            }
        };
        if size == 0 {
            return Err(Error::validation("image", "must not be empty"));
        }
        if size > max {
            return Err(Error::validation(
                "image",
                format!("at most {max} bytes (got {size})"),
            ));
        }
        Ok(())
    }

    /// Uploads an image and returns its `image_id` (an existing id is returned as is).
    #[tracing::instrument(skip(self, source), name = "douyin.upload_image")]
    pub async fn upload_image(&self, open_id: &str, source: ImageSource) -> Result<UploadedImage> {
        validate::open_id(open_id)?;
        self.check_image(&source).await?;
        let (data, file_name) = match source {
            ImageSource::ImageId(id) => {
                return Ok(UploadedImage {
                    image_id: id,
                    width: None,
                    height: None,
                })
            }
            ImageSource::Bytes { data, file_name } => (data, file_name),
            ImageSource::Path(p) => {
                let max = self.config().limits.max_image_bytes;
                let mut f = tokio::fs::File::open(&p)
                    .await
                    .map_err(|e| read_error("image", Some(&p), e))?;
                let len = f
                    .metadata()
                    .await
                    .map_err(|e| read_error("image", Some(&p), e))?
                    .len();
                // One byte more than the file's size (capped by the limit): a file that grew past
                // the limit since it was checked is refused, not read whole.
                let want = len.min(max).saturating_add(1);
                let data = read_part(&mut f, usize::try_from(want).unwrap_or(usize::MAX))
                    .await
                    .map_err(|e| match e {
                        Error::Validation(v) => Error::validation("image", v.rule),
                        other => other,
                    })?;
                if data.len() as u64 > max {
                    return Err(Error::validation("image", format!("at most {max} bytes")));
                }
                (data, file_name_of(&p, "image.jpg"))
            }
        };
        let req = self
            .api_request(
                "upload_image",
                Method::POST,
                UPLOAD_IMAGE_PATH,
                open_id,
                Idempotency::Idempotent,
            )
            .body(Body::Multipart(vec![MultipartPart {
                name: "image".to_owned(),
                content_type: Some(mime_for(&file_name, false).to_owned()),
                file_name: Some(file_name),
                data,
            }]))
            .attempt_timeout(self.config().upload.timeout);
        let d: ImageData = data_of(&self.execute_for(open_id, req).await?)?;
        Ok(UploadedImage {
            image_id: d.image.image_id,
            width: d.image.width,
            height: d.image.height,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types() {
        assert_eq!(mime_for("a.MP4", true), "video/mp4");
        assert_eq!(mime_for("a", true), "video/mp4");
        assert_eq!(mime_for("a.png", false), "image/png");
        assert_eq!(mime_for("a.bin", false), "application/octet-stream");
    }
}
