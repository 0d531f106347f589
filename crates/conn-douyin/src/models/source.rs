//! What an upload is made of and what it returns: [`VideoSource`], [`ImageSource`], progress
//! reports, [`UploadedVideo`] and [`UploadedImage`].

use std::fmt;
use std::path::PathBuf;

use bytes::Bytes;
use tokio::io::AsyncRead;

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
