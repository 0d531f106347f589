//! The data of Douyin's posts and the limits they are checked against: plain types that
//! import nothing else of this crate, so the modules that validate, configure and publish
//! depend on them and not on each other. Every item is re-exported at the crate root.

mod limits;
mod post;
mod source;

pub(crate) use limits::MIB;
pub use limits::{Limits, PLATFORM_MAX_IMAGES};
pub use post::{wire_text, Anchor, Cover, ImagePost, Privacy, Published, VideoPost};
pub use source::{
    ImageSource, ProgressFn, UploadProgress, UploadedImage, UploadedVideo, VideoSource,
};
