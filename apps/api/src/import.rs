//! NDJSON mentor imports (docs/api.md, "NDJSON import"): the content
//! type, the streamed body spooled to a temporary file within its limit,
//! and [`NdjsonLines`], the line reader that `POST /api/v1/mentors/import`
//! and `mentor-scheduler import FILE` both hand to `MentorService::import`.
//!
//! The body is never held in memory: it goes to an anonymous temporary file
//! (deleted when closed) in blocks of [`SPOOL_BLOCK`] bytes, each written
//! off the async workers; the import then reads that file line by line,
//! twice (see `MentorService::import`), so its write transaction lasts as
//! long as reading a local file and writing, never as long as the upload.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};

use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use scenario_engine::service::{ImportSource, MentorImport, SourceLine};

use crate::dto::mentor::ImportLineBody;
use crate::error::ApiError;

/// The one content type the import takes (parameters such as
/// `; charset=utf-8` are allowed; the body must be UTF-8 either way).
pub const NDJSON: &str = "application/x-ndjson";

/// Bytes gathered from the network before one write to the spool file.
pub const SPOOL_BLOCK: usize = 1 << 20;

/// Refuses any content type other than [`NDJSON`] with a 415: a JSON array
/// or a form sent here by mistake gets a clear answer instead of one
/// `invalid_body` per line.
///
/// # Errors
/// [`ApiError::UnsupportedMediaType`].
pub fn require_ndjson(req: &HttpRequest) -> Result<(), ApiError> {
    let got = req
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = got.as_deref().and_then(|ct| ct.split(';').next());
    if essence.is_some_and(|t| t.trim().eq_ignore_ascii_case(NDJSON)) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType {
            expected: NDJSON,
            got,
        })
    }
}

/// Streams the request body into an anonymous temporary file and returns
/// it. A `Content-Length` over `limit` is refused before reading; a body
/// without one is refused as soon as it passes `limit`.
///
/// # Errors
/// [`ApiError::PayloadTooLarge`]; [`ApiError::InvalidPayload`] when the
/// body breaks off; [`ApiError::Io`] when the temporary file fails.
pub async fn spool(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<File, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut file = web::block(tempfile::tempfile)
        .await?
        .map_err(ApiError::Io)?;
    let mut block: Vec<u8> = Vec::new();
    let mut total = 0_usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::InvalidPayload(e.to_string()))?;
        total = total.saturating_add(chunk.len());
        if total > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        block.extend_from_slice(&chunk);
        if block.len() >= SPOOL_BLOCK {
            (file, block) = write_block(file, block).await?;
        }
    }
    if !block.is_empty() {
        (file, _) = write_block(file, block).await?;
    }
    Ok(file)
}

/// Appends `block` to the spool file on the blocking pool; hands both back
/// (the block emptied, for reuse).
async fn write_block(mut file: File, mut block: Vec<u8>) -> Result<(File, Vec<u8>), ApiError> {
    web::block(move || {
        file.write_all(&block)?;
        block.clear();
        Ok((file, block))
    })
    .await?
    .map_err(ApiError::Io)
}

/// The mentors of an NDJSON file, one JSON object per line, each parsed
/// and converted exactly as the single-mentor endpoints parse and convert
/// their bodies ([`ImportLineBody`]).
///
/// Line numbers count every line from 1. Blank lines (empty or only
/// whitespace, a final newline included) are skipped; a `\r\n` line end
/// and a UTF-8 byte-order mark before the first line are accepted. A line
/// longer than `max_line_bytes` is an error of that line
/// ([`ApiError::LineTooLong`]) and is never held whole in memory.
pub struct NdjsonLines<R> {
    reader: BufReader<R>,
    line: u64,
    buf: Vec<u8>,
    max_line_bytes: usize,
}

impl<R: Read + Seek> NdjsonLines<R> {
    /// Lines of `reader`, each at most `max_line_bytes` long.
    pub fn new(reader: R, max_line_bytes: usize) -> Self {
        Self {
            reader: BufReader::with_capacity(64 << 10, reader),
            line: 0,
            buf: Vec::new(),
            max_line_bytes,
        }
    }

    /// Consumes the rest of an overlong line, up to and including its newline.
    fn skip_rest_of_line(&mut self) -> std::io::Result<()> {
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok(());
            }
            match available.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.reader.consume(i + 1);
                    return Ok(());
                }
                None => {
                    let n = available.len();
                    self.reader.consume(n);
                }
            }
        }
    }
}

/// One line's mentor: the body parsed with the JSON extractor's own
/// classification (400 `invalid_body`, 422
/// `unknown_field`), then converted with the DTOs' checks.
fn parse_line(bytes: &[u8]) -> Result<MentorImport, ApiError> {
    crate::extract::parse::<ImportLineBody>(bytes)
        .map_err(|e| match e {
            // serde_json counts lines within the line: say only the column.
            ApiError::MalformedJson(m) => {
                ApiError::MalformedJson(m.replace(" at line 1 column ", " at column "))
            }
            other => other,
        })
        .and_then(MentorImport::try_from)
}

impl<R: Read + Seek> ImportSource for NdjsonLines<R> {
    type Error = ApiError;

    fn rewind(&mut self) -> Result<(), ApiError> {
        self.reader.seek(SeekFrom::Start(0)).map_err(ApiError::Io)?;
        self.line = 0;
        Ok(())
    }

    fn next_line(&mut self) -> Result<Option<SourceLine<ApiError>>, ApiError> {
        loop {
            self.buf.clear();
            // One byte more than the limit: a line that fills it without
            // reaching its newline is too long.
            let cap = self.max_line_bytes as u64 + 1;
            let n = (&mut self.reader)
                .take(cap)
                .read_until(b'\n', &mut self.buf)
                .map_err(ApiError::Io)?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            if self.buf.len() > self.max_line_bytes && self.buf.last() != Some(&b'\n') {
                self.skip_rest_of_line().map_err(ApiError::Io)?;
                let limit = self.max_line_bytes;
                return Ok(Some((self.line, Err(ApiError::LineTooLong { limit }))));
            }
            let mut text = self.buf.as_slice();
            text = text.strip_suffix(b"\n").unwrap_or(text);
            text = text.strip_suffix(b"\r").unwrap_or(text);
            if self.line == 1 {
                text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
            }
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some((self.line, parse_line(text))));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn read_all(text: &[u8], max: usize) -> Vec<(u64, Result<String, String>)> {
        let mut lines = NdjsonLines::new(Cursor::new(text.to_vec()), max);
        let mut out = Vec::new();
        while let Some((n, parsed)) = lines.next_line().unwrap() {
            out.push((
                n,
                parsed.map(|m| m.user_id).map_err(|e| match e {
                    ApiError::LineTooLong { .. } => "too long".to_owned(),
                    ApiError::MalformedJson(_) => "malformed".to_owned(),
                    other => format!("{other:?}"),
                }),
            ));
        }
        out
    }

    #[test]
    fn blank_lines_are_skipped_but_counted_and_crlf_and_a_bom_are_accepted() {
        let text = b"\xef\xbb\xbf{\"user_id\": \"usr_a\"}\r\n\n   \r\n{\"user_id\": \"usr_b\"}\n\n";
        assert_eq!(
            read_all(text, 1024),
            [(1, Ok("usr_a".to_owned())), (4, Ok("usr_b".to_owned()))]
        );
    }

    #[test]
    fn a_last_line_without_a_newline_is_read() {
        assert_eq!(
            read_all(b"{\"user_id\": \"usr_a\"}", 1024),
            [(1, Ok("usr_a".to_owned()))]
        );
    }

    #[test]
    fn a_line_over_the_limit_is_an_error_of_that_line_only() {
        let long = format!("{{\"user_id\": \"usr_{}\"}}", "x".repeat(100));
        let text = format!("{{\"user_id\": \"usr_a\"}}\n{long}\n{{\"user_id\": \"usr_c\"}}\n");
        assert_eq!(
            read_all(text.as_bytes(), 40),
            [
                (1, Ok("usr_a".to_owned())),
                (2, Err("too long".to_owned())),
                (3, Ok("usr_c".to_owned())),
            ]
        );
        // Exactly at the limit is fine, with or without the newline.
        let exact = "{\"user_id\": \"usr_abcdefghijklmnop\"}";
        assert_eq!(
            read_all(format!("{exact}\n").as_bytes(), exact.len())[0].1,
            Ok("usr_abcdefghijklmnop".to_owned())
        );
        assert_eq!(
            read_all(exact.as_bytes(), exact.len())[0].1,
            Ok("usr_abcdefghijklmnop".to_owned())
        );
        assert_eq!(
            read_all(exact.as_bytes(), exact.len() - 1)[0].1,
            Err("too long".to_owned())
        );
    }

    #[test]
    fn rewinding_starts_again_at_line_one() {
        let mut lines = NdjsonLines::new(Cursor::new(b"\n{\"user_id\": \"usr_a\"}\n".to_vec()), 64);
        assert_eq!(lines.next_line().unwrap().map(|l| l.0), Some(2));
        assert!(lines.next_line().unwrap().is_none());
        lines.rewind().unwrap();
        assert_eq!(lines.next_line().unwrap().map(|l| l.0), Some(2));
    }

    #[test]
    fn a_line_that_is_not_json_is_malformed_and_says_where_in_the_line() {
        assert_eq!(
            read_all(b"\n{\"user_id\": \"usr_a\"\n", 64),
            [(2, Err("malformed".to_owned()))]
        );
        let err = parse_line(b"{\"user_id\": ").unwrap_err();
        assert!(
            matches!(&err, ApiError::MalformedJson(m) if m.ends_with("at column 12")),
            "{err:?}"
        );
    }
}
