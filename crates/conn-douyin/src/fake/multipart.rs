//! A streaming `multipart/form-data` scanner that measures each field without keeping it:
//! memory stays at one chunk plus a delimiter's length, whatever the upload size.

use super::model::PartSummary;

/// The `boundary` parameter of a multipart content type.
pub(crate) fn boundary_of(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    if !lower.starts_with("multipart/") {
        return None;
    }
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Preamble,
    AfterDelimiter,
    Headers,
    Content,
    Done,
}

/// Feeds on body chunks; reports each field's name, file name, content type and size.
#[derive(Debug)]
pub(crate) struct Scanner {
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    stage: Stage,
    current: Option<PartSummary>,
    parts: Vec<PartSummary>,
    total: u64,
}

/// Part headers larger than this are not a form upload.
const MAX_HEADER_BYTES: usize = 16 * 1024;

impl Scanner {
    pub(crate) fn new(boundary: &str) -> Self {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        Self {
            delimiter,
            // The first delimiter has no CRLF before it: pretend it had one.
            buf: b"\r\n".to_vec(),
            stage: Stage::Preamble,
            current: None,
            parts: Vec::new(),
            total: 0,
        }
    }

    /// Bytes fed so far.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        self.total += chunk.len() as u64;
        if self.stage == Stage::Done {
            return;
        }
        self.buf.extend_from_slice(chunk);
        self.process();
    }

    fn process(&mut self) {
        loop {
            match self.stage {
                Stage::Done => {
                    self.buf.clear();
                    return;
                }
                Stage::Preamble => match memchr::memmem::find(&self.buf, &self.delimiter) {
                    Some(i) => {
                        self.buf.drain(..i + self.delimiter.len());
                        self.stage = Stage::AfterDelimiter;
                    }
                    None => {
                        self.keep_tail();
                        return;
                    }
                },
                Stage::AfterDelimiter => {
                    if self.buf.len() < 2 {
                        return;
                    }
                    if self.buf.starts_with(b"--") {
                        self.stage = Stage::Done;
                    } else {
                        // Skip transport padding up to the CRLF that ends the delimiter line.
                        match memchr::memmem::find(&self.buf, b"\r\n") {
                            Some(i) => {
                                self.buf.drain(..i + 2);
                                self.stage = Stage::Headers;
                            }
                            None => return,
                        }
                    }
                }
                Stage::Headers => match memchr::memmem::find(&self.buf, b"\r\n\r\n") {
                    Some(i) => {
                        let head = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                        self.buf.drain(..i + 4);
                        self.current = Some(parse_headers(&head));
                        self.stage = Stage::Content;
                    }
                    None => {
                        if self.buf.len() > MAX_HEADER_BYTES {
                            self.stage = Stage::Done;
                        }
                        return;
                    }
                },
                Stage::Content => match memchr::memmem::find(&self.buf, &self.delimiter) {
                    Some(i) => {
                        if let Some(mut part) = self.current.take() {
                            part.size += i as u64;
                            self.parts.push(part);
                        }
                        self.buf.drain(..i + self.delimiter.len());
                        self.stage = Stage::AfterDelimiter;
                    }
                    None => {
                        let n = self.keep_tail();
                        if let Some(part) = self.current.as_mut() {
                            part.size += n as u64;
                        }
                        return;
                    }
                },
            }
        }
    }

    /// Drops all but the bytes that could start a delimiter; returns how many were dropped.
    fn keep_tail(&mut self) -> usize {
        let keep = self.delimiter.len().saturating_sub(1);
        let n = self.buf.len().saturating_sub(keep);
        self.buf.drain(..n);
        n
    }

    pub(crate) fn finish(self) -> Vec<PartSummary> {
        self.parts
    }
}

fn parse_headers(head: &str) -> PartSummary {
    let mut part = PartSummary {
        name: String::new(),
        file_name: None,
        content_type: None,
        size: 0,
    };
    for line in head.split("\r\n") {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("content-disposition") {
            for param in v.split(';').skip(1) {
                if let Some((pk, pv)) = param.trim().split_once('=') {
                    let pv = pv.trim().trim_matches('"').to_owned();
                    match pk.trim().to_ascii_lowercase().as_str() {
                        "name" => part.name = pv,
                        "filename" => part.file_name = Some(pv),
                        _ => {}
                    }
                }
            }
        } else if k.trim().eq_ignore_ascii_case("content-type") {
            part.content_type = Some(v.trim().to_owned());
        }
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(boundary: &str, fields: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        for (name, file, data) in fields {
            b.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => b.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: video/mp4\r\n\r\n").as_bytes(),
                ),
                None => b.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            b.extend_from_slice(data);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        b
    }

    #[test]
    fn sizes_survive_any_chunking() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let tricky = b"\r\n--abc not the boundary\r\n--ab".to_vec();
        let b = body(
            "abc123",
            &[("video", Some("v.mp4"), &data), ("note", None, &tricky)],
        );
        for chunk in [1usize, 2, 3, 7, 64, 1000, b.len()] {
            let mut s = Scanner::new("abc123");
            for c in b.chunks(chunk) {
                s.feed(c);
            }
            assert_eq!(s.total(), b.len() as u64);
            let parts = s.finish();
            assert_eq!(parts.len(), 2, "chunk {chunk}");
            assert_eq!(parts[0].name, "video");
            assert_eq!(parts[0].file_name.as_deref(), Some("v.mp4"));
            assert_eq!(parts[0].content_type.as_deref(), Some("video/mp4"));
            assert_eq!(parts[0].size, 5000);
            assert_eq!(parts[1].name, "note");
            assert_eq!(parts[1].size, tricky.len() as u64);
        }
    }

    #[test]
    fn boundary_parsing() {
        assert_eq!(
            boundary_of("multipart/form-data; boundary=xyz").as_deref(),
            Some("xyz")
        );
        assert_eq!(
            boundary_of("multipart/form-data; Boundary=\"q q\"").as_deref(),
            Some("q q")
        );
        assert_eq!(boundary_of("application/json"), None);
        assert_eq!(boundary_of("multipart/form-data"), None);
    }
}
