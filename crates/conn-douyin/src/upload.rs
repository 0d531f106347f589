//! Uploads: videos (one request up to a threshold, chunked above it) and images.
//!
//! Chunked upload is `init_video_part_upload` → `upload_video_part` × N (from part 1) →
//! `complete_video_part_upload`. One part is in memory at a time, so publishing a 1 GiB file
//! keeps memory near the part size (20 MiB by default; see `benches/publish_rss.rs`). A source of
//! unknown length goes through chunked upload as soon as it is longer than one part.
//!
//! Uploads are idempotent for the retry logic: an upload creates nothing visible, and a
//! re-upload only yields another `video_id`.

use std::path::Path;

use bytes::{Bytes, BytesMut};
use conn_core::error::{Error, Result};
use conn_core::retry::Idempotency;
use conn_core::transport::{Body, MultipartPart};
use http::Method;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::client::Client;
use crate::endpoint::UPLOAD_IMAGE_PATH;
use crate::envelope::data_of;
use conn_core::lenient;

use crate::models::{ImageSource, ProgressFn, UploadProgress, UploadedImage};
use crate::validate::{self, Valid};

mod video;

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
    /// Uploads an image and returns its `image_id` (an existing id is returned as is).
    pub async fn upload_image(&self, open_id: &str, source: ImageSource) -> Result<UploadedImage> {
        let open_id = validate::open_id(open_id)?;
        let source = validate::image_source(&self.config().limits, source).await?;
        self.upload_image_checked(open_id, source).await
    }

    /// [`Client::upload_image`] with its input checked.
    #[tracing::instrument(
        skip(self, open_id, source),
        fields(open_id = *open_id),
        name = "douyin.upload_image"
    )]
    pub(crate) async fn upload_image_checked(
        &self,
        open_id: Valid<&str>,
        source: Valid<ImageSource>,
    ) -> Result<UploadedImage> {
        let open_id = open_id.into_inner();
        let (data, file_name) = match source.into_inner() {
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
