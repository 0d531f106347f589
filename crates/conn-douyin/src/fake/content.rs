//! The fake platform's publishing rules: uploads (sizes and part numbers only), creates, the
//! item list with cursor pages, item data.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::model::{ChunkedUpload, FakeItem, PartSummary};
use super::state::{fail, unix, Fail, State, VideoRec, API_PARAM_ERROR};
use crate::videos::Statistics;

const MIB: u64 = 1024 * 1024;

impl State {
    fn video_data(&mut self, open_id: &str) -> Map<String, Value> {
        let n = self.next();
        let video_id = format!("v0200fake{n:08}");
        self.videos.insert(
            video_id.clone(),
            VideoRec {
                open_id: open_id.to_owned(),
                used: false,
            },
        );
        let mut video = Map::new();
        video.insert("video_id".into(), Value::from(video_id));
        video.insert("width".into(), self.num(1080));
        video.insert("height".into(), self.num(1920));
        let mut m = Map::new();
        m.insert("video".into(), Value::Object(video));
        m
    }

    pub(crate) fn upload_video(
        &mut self,
        open_id: &str,
        parts: &[PartSummary],
    ) -> Result<Map<String, Value>, Fail> {
        let size = field_size(parts, "video")?;
        if size > 128 * MIB {
            return Err(fail(
                2190005,
                "file too big for a single upload (over 128 MB: use chunked upload)",
            ));
        }
        if size == 0 {
            return Err(fail(API_PARAM_ERROR, "empty video"));
        }
        Ok(self.video_data(open_id))
    }

    pub(crate) fn init_part_upload(&mut self, open_id: &str) -> Map<String, Value> {
        let n = self.next();
        let upload_id = format!("upload-fake-{n:08}");
        self.uploads.push(ChunkedUpload {
            upload_id: upload_id.clone(),
            open_id: open_id.to_owned(),
            parts: Vec::new(),
            video_id: None,
        });
        let mut m = Map::new();
        m.insert("upload_id".into(), Value::from(upload_id));
        m
    }

    fn upload_mut(
        &mut self,
        open_id: &str,
        upload_id: Option<&str>,
    ) -> Result<&mut ChunkedUpload, Fail> {
        let id = upload_id.unwrap_or_default();
        match self.uploads.iter_mut().find(|u| u.upload_id == id) {
            Some(u) if u.open_id == open_id && u.video_id.is_none() => Ok(u),
            _ => Err(fail(API_PARAM_ERROR, "upload_id invalid")),
        }
    }

    pub(crate) fn upload_part(
        &mut self,
        open_id: &str,
        upload_id: Option<&str>,
        part_number: Option<&str>,
        parts: &[PartSummary],
    ) -> Result<Map<String, Value>, Fail> {
        let number: u32 = part_number
            .and_then(|p| p.parse().ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| fail(API_PARAM_ERROR, "part_number must be a whole number from 1"))?;
        let size = field_size(parts, "video")?;
        let upload = self.upload_mut(open_id, upload_id)?;
        upload.parts.push((number, size));
        Ok(Map::new())
    }

    pub(crate) fn complete_part_upload(
        &mut self,
        open_id: &str,
        upload_id: Option<&str>,
    ) -> Result<Map<String, Value>, Fail> {
        let upload = self.upload_mut(open_id, upload_id)?;
        // A retried part replaces the earlier copy of the same number.
        let mut by_number: BTreeMap<u32, u64> = BTreeMap::new();
        for (n, s) in &upload.parts {
            by_number.insert(*n, *s);
        }
        if by_number.is_empty() {
            return Err(fail(API_PARAM_ERROR, "no part uploaded"));
        }
        let count = by_number.len();
        for (i, (n, size)) in by_number.iter().enumerate() {
            if *n as usize != i + 1 {
                return Err(fail(API_PARAM_ERROR, format!("part {} missing", i + 1)));
            }
            if i + 1 < count && *size < 5 * MIB {
                return Err(fail(
                    API_PARAM_ERROR,
                    format!("part {n} is under 5 MB and not the last"),
                ));
            }
        }
        let total: u64 = by_number.values().sum();
        if total > 4 * 1024 * MIB {
            return Err(fail(2190005, "file too big (over 4 GB)"));
        }
        let data = self.video_data(open_id);
        let video_id = data
            .get("video")
            .and_then(|v| v.get("video_id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Ok(u) = self.upload_mut(open_id, upload_id) {
            u.video_id = video_id;
        }
        Ok(data)
    }

    pub(crate) fn upload_image(
        &mut self,
        open_id: &str,
        parts: &[PartSummary],
    ) -> Result<Map<String, Value>, Fail> {
        let size = field_size(parts, "image")?;
        if size == 0 {
            return Err(fail(API_PARAM_ERROR, "empty image"));
        }
        let n = self.next();
        let image_id = format!("img-fake-{n:08}");
        self.images.insert(image_id.clone(), open_id.to_owned());
        let mut image = Map::new();
        image.insert("image_id".into(), Value::from(image_id));
        image.insert("width".into(), self.num(800));
        image.insert("height".into(), self.num(600));
        let mut m = Map::new();
        m.insert("image".into(), Value::Object(image));
        Ok(m)
    }

    fn check_daily_limit(&self, open_id: &str) -> Result<(), Fail> {
        if let Some(limit) = self.opts.daily_publish_limit {
            let today = unix(self.now()) / 86_400;
            let n = self
                .items
                .iter()
                .filter(|i| i.open_id == open_id && i.create_time / 86_400 == today)
                .count();
            if n >= limit {
                return Err(fail(2114007, "daily publish limit reached"));
            }
        }
        Ok(())
    }

    fn new_item(&mut self, open_id: &str, body: &Value, media_type: i64) -> String {
        let n = self.next();
        let item_id = format!("@fake+item/{n:04}=");
        let stats = Statistics {
            comment_count: (n % 7) as i64,
            digg_count: (n * 10) as i64,
            download_count: 0,
            forward_count: (n % 3) as i64,
            play_count: (n * 100) as i64,
            share_count: (n % 5) as i64,
        };
        self.items.push(FakeItem {
            item_id: item_id.clone(),
            open_id: open_id.to_owned(),
            text: body
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            media_type,
            private_status: body
                .get("private_status")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            create_time: unix(self.now()),
            video_id: body
                .get("video_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            image_ids: body
                .get("image_list")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            statistics: stats,
        });
        item_id
    }

    fn item_result(item_id: String) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("item_id".into(), Value::from(item_id));
        m
    }

    pub(crate) fn create_video(
        &mut self,
        open_id: &str,
        body: &Value,
    ) -> Result<Map<String, Value>, Fail> {
        let video_id = body
            .get("video_id")
            .and_then(Value::as_str)
            .ok_or_else(|| fail(2190007, "video_id missing"))?;
        match self.videos.get(video_id) {
            Some(v) if v.open_id == open_id && !v.used => {}
            Some(v) if v.used => return Err(fail(2190007, "video_id already used")),
            _ => return Err(fail(2190007, "video_id invalid")),
        }
        self.check_daily_limit(open_id)?;
        if let Some(v) = self.videos.get_mut(video_id) {
            v.used = true;
        }
        let id = self.new_item(open_id, body, 4);
        Ok(Self::item_result(id))
    }

    pub(crate) fn create_image_text(
        &mut self,
        open_id: &str,
        body: &Value,
    ) -> Result<Map<String, Value>, Fail> {
        let list = body
            .get("image_list")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| fail(API_PARAM_ERROR, "image_list missing"))?;
        for v in list {
            let ok = v
                .as_str()
                .and_then(|id| self.images.get(id))
                .is_some_and(|owner| owner == open_id);
            if !ok {
                return Err(fail(API_PARAM_ERROR, format!("image {v} invalid")));
            }
        }
        self.check_daily_limit(open_id)?;
        let id = self.new_item(open_id, body, 2);
        Ok(Self::item_result(id))
    }

    fn item_json(&self, i: &FakeItem) -> Value {
        let s = &i.statistics;
        json!({
            "item_id": i.item_id,
            "video_id": i.video_id.clone().unwrap_or_default(),
            "title": i.text,
            "cover": format!("https://p3-fake.douyinpic.com/cover/{}.jpeg", i.create_time),
            "create_time": self.num(i.create_time),
            "is_top": false,
            "is_reviewed": true,
            "video_status": self.num(1),
            "share_url": format!("https://www.iesdouyin.com/share/video/{}/", 7_000_000_000_000_000_000i64 + i.create_time),
            "media_type": self.num(i.media_type),
            "statistics": {
                "comment_count": self.num(s.comment_count),
                "digg_count": self.num(s.digg_count),
                "download_count": self.num(s.download_count),
                "forward_count": self.num(s.forward_count),
                "play_count": self.num(s.play_count),
                "share_count": self.num(s.share_count),
            }
        })
    }

    pub(crate) fn video_list(
        &self,
        open_id: &str,
        cursor: Option<&str>,
        count: Option<&str>,
    ) -> Result<Map<String, Value>, Fail> {
        let cursor: usize = match cursor {
            None | Some("") => 0,
            Some(c) => c
                .parse()
                .map_err(|_| fail(API_PARAM_ERROR, "cursor invalid"))?,
        };
        let count: usize = count
            .and_then(|c| c.parse().ok())
            .filter(|c| (1..=20).contains(c))
            .ok_or_else(|| fail(API_PARAM_ERROR, "count must be 1 to 20"))?;
        // Newest first.
        let mine: Vec<&FakeItem> = self
            .items
            .iter()
            .rev()
            .filter(|i| i.open_id == open_id)
            .collect();
        let page: Vec<Value> = mine
            .iter()
            .skip(cursor)
            .take(count)
            .map(|i| self.item_json(i))
            .collect();
        let next = cursor + page.len();
        let mut m = Map::new();
        m.insert("cursor".into(), self.num(next as i64));
        m.insert("has_more".into(), Value::from(next < mine.len()));
        m.insert("list".into(), Value::Array(page));
        Ok(m)
    }

    pub(crate) fn video_data_of(
        &self,
        open_id: &str,
        body: &Value,
    ) -> Result<Map<String, Value>, Fail> {
        // The official SDK sends `item_ids` or `video_ids`; either selects items.
        let (field, ids) = ["item_ids", "video_ids"]
            .iter()
            .find_map(|f| {
                body.get(*f)
                    .and_then(Value::as_array)
                    .filter(|a| !a.is_empty())
                    .map(|a| (*f, a))
            })
            .ok_or_else(|| fail(API_PARAM_ERROR, "item_ids or video_ids missing"))?;
        if ids.len() > 20 {
            return Err(fail(API_PARAM_ERROR, format!("at most 20 {field}")));
        }
        let list: Vec<Value> = ids
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|id| {
                self.items.iter().find(|i| {
                    i.open_id == open_id
                        && if field == "item_ids" {
                            i.item_id == id
                        } else {
                            i.video_id.as_deref() == Some(id)
                        }
                })
            })
            .map(|i| self.item_json(i))
            .collect();
        let mut m = Map::new();
        m.insert("list".into(), Value::Array(list));
        Ok(m)
    }
}

fn field_size(parts: &[PartSummary], name: &str) -> Result<u64, Fail> {
    parts
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.size)
        .ok_or_else(|| fail(API_PARAM_ERROR, format!("multipart field `{name}` missing")))
}
