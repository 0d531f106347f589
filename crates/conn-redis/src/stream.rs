//! An event stream: verified webhook events appended to a Redis Stream and consumed through a
//! consumer group with acknowledgement.
//!
//! An event is acknowledged (`XACK`) only after its handler succeeded. One that a consumer
//! read but never acknowledged (the consumer crashed, or its handler failed) stays pending in
//! the group and, once it has been idle for [`EventStream::with_claim_idle`], is claimed by the
//! next consumer that asks (`XAUTOCLAIM`), so it is never lost; an acknowledged event is never
//! delivered again to that group. Handlers should still be idempotent: a consumer that dies
//! after its side effect but before the acknowledgement makes the event run twice.

use std::fmt;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::Value;
use tokio::sync::Mutex;

use crate::conn::Redis;
use crate::error::{RedisError, Result};

/// One event handed to a consumer.
#[derive(Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The stream entry id (`1700000000000-0`), what [`EventStream::ack`] takes.
    pub entry_id: String,
    /// The webhook message id, when the event had one.
    pub msg_id: Option<String>,
    /// The raw event body.
    pub body: Vec<u8>,
    /// True when this event was claimed from a consumer that did not acknowledge it.
    pub redelivered: bool,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies may hold personal data: sizes only.
        f.debug_struct("Delivery")
            .field("entry_id", &self.entry_id)
            .field("msg_id", &self.msg_id)
            .field("body_len", &self.body.len())
            .field("redelivered", &self.redelivered)
            .finish()
    }
}

/// A Redis Stream of events with one consumer group.
///
/// ```no_run
/// use conn_redis::{EventStream, Redis, RedisConfig};
/// # async fn demo() -> conn_core::Result<()> {
/// let redis = Redis::new(RedisConfig::new("redis://127.0.0.1:6379")?)?;
/// let events = EventStream::new(redis, "douyin-events", "workers");
/// events.ensure_group().await?;
/// events.publish(Some("msg-1"), br#"{"event":"create_video"}"#).await?;
/// if let Some(d) = events.next("worker-1").await? {
///     // ... handle d.body ...
///     events.ack(&d).await?; // only after the handler succeeded
/// }
/// # Ok(()) }
/// ```
pub struct EventStream {
    redis: Redis,
    key: String,
    group: String,
    max_len: usize,
    claim_idle: Duration,
    block: Duration,
    reader: Mutex<Option<MultiplexedConnection>>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("key", &self.key)
            .field("group", &self.group)
            .field("max_len", &self.max_len)
            .field("claim_idle", &self.claim_idle)
            .field("block", &self.block)
            .finish_non_exhaustive()
    }
}

/// Default idle time after which an unacknowledged event is redelivered.
pub const DEFAULT_CLAIM_IDLE: Duration = Duration::from_secs(60);
/// Default approximate cap on the stream's length.
pub const DEFAULT_MAX_LEN: usize = 100_000;

impl EventStream {
    /// The stream `prefix:stream:name`, consumed by `group`; events unacknowledged for a
    /// minute are redelivered, reads block up to a second, the stream keeps about 100 000
    /// entries.
    pub fn new(redis: Redis, name: &str, group: impl Into<String>) -> Self {
        let key = redis.key(&["stream", name]);
        Self {
            redis,
            key,
            group: group.into(),
            max_len: DEFAULT_MAX_LEN,
            claim_idle: DEFAULT_CLAIM_IDLE,
            block: Duration::from_secs(1),
            reader: Mutex::new(None),
        }
    }

    /// Sets how long an event stays with a consumer that does not acknowledge it.
    pub fn with_claim_idle(mut self, idle: Duration) -> Self {
        self.claim_idle = idle;
        self
    }

    /// Sets how long [`next`](Self::next) waits for a new event (at least 1 ms).
    pub fn with_block(mut self, block: Duration) -> Self {
        self.block = block.max(Duration::from_millis(1));
        self
    }

    /// Sets the approximate cap on the stream's length (`XADD MAXLEN ~`).
    pub fn with_max_len(mut self, n: usize) -> Self {
        self.max_len = n.max(1);
        self
    }

    /// Creates the group (reading from the stream's start) and the stream if missing; an
    /// existing group is kept as it is.
    ///
    /// # Errors
    /// [`RedisError::Unavailable`].
    pub async fn ensure_group(&self) -> conn_core::Result<()> {
        let mut conn = self.redis.connection().await?;
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.key)
            .arg(&self.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Err(e) if e.code() != Some("BUSYGROUP") => {
                Err(RedisError::unavailable("stream group create")(e).into())
            }
            _ => Ok(()),
        }
    }

    /// Appends an event; returns its entry id.
    ///
    /// # Errors
    /// [`RedisError::Unavailable`]: the event was not stored, so the webhook must not be
    /// acknowledged to its sender either.
    pub async fn publish(&self, msg_id: Option<&str>, body: &[u8]) -> conn_core::Result<String> {
        let mut conn = self.redis.connection().await?;
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&self.key)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.max_len)
            .arg("*")
            .arg("body")
            .arg(body);
        if let Some(id) = msg_id {
            cmd.arg("msg_id").arg(id);
        }
        let id: String = cmd
            .query_async(&mut conn)
            .await
            .map_err(RedisError::unavailable("stream publish"))?;
        Ok(id)
    }

    /// The next event for `consumer`: first one another consumer left unacknowledged past the
    /// idle time, else a new one (waiting up to the block time). `None` when there is none.
    ///
    /// # Errors
    /// [`RedisError::Unavailable`], or [`RedisError::Protocol`] for a reply of another shape.
    pub async fn next(&self, consumer: &str) -> conn_core::Result<Option<Delivery>> {
        let mut conn = self.redis.connection().await?;
        let claimed: Value = redis::cmd("XAUTOCLAIM")
            .arg(&self.key)
            .arg(&self.group)
            .arg(consumer)
            .arg(u64::try_from(self.claim_idle.as_millis()).unwrap_or(u64::MAX))
            .arg("0-0")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await
            .map_err(RedisError::unavailable("stream claim"))?;
        let entries = match &claimed {
            Value::Array(parts) if parts.len() >= 2 => parse_entries(&parts[1])?,
            other => return Err(protocol("stream claim", other).into()),
        };
        if let Some(d) = entries.into_iter().next() {
            return Ok(Some(Delivery {
                redelivered: true,
                ..d
            }));
        }
        let read = self.read_new(consumer).await?;
        let entries = match &read {
            Value::Nil => Vec::new(),
            Value::Array(streams) => match streams.first() {
                Some(Value::Array(kv)) if kv.len() == 2 => parse_entries(&kv[1])?,
                None => Vec::new(),
                Some(other) => return Err(protocol("stream read", other).into()),
            },
            Value::Map(streams) => match streams.first() {
                Some((_, entries)) => parse_entries(entries)?,
                None => Vec::new(),
            },
            other => return Err(protocol("stream read", other).into()),
        };
        Ok(entries.into_iter().next())
    }

    async fn read_new(&self, consumer: &str) -> conn_core::Result<Value> {
        let mut guard = self.reader.lock().await;
        let mut conn = match guard.take() {
            Some(c) => c,
            None => {
                self.redis
                    .dedicated(self.block + self.redis.config().response_timeout)
                    .await?
            }
        };
        let read: redis::RedisResult<Value> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.group)
            .arg(consumer)
            .arg("COUNT")
            .arg(1)
            .arg("BLOCK")
            .arg(u64::try_from(self.block.as_millis()).unwrap_or(1))
            .arg("STREAMS")
            .arg(&self.key)
            .arg(">")
            .query_async(&mut conn)
            .await;
        let value = read.map_err(RedisError::unavailable("stream read"))?;
        // Kept only after a good read: a broken connection is replaced on the next call.
        *guard = Some(conn);
        Ok(value)
    }

    /// Acknowledges a delivery: the group will not see it again.
    ///
    /// # Errors
    /// [`RedisError::Unavailable`]; the event then stays pending and is redelivered.
    pub async fn ack(&self, delivery: &Delivery) -> conn_core::Result<()> {
        let mut conn = self.redis.connection().await?;
        let _: i64 = redis::cmd("XACK")
            .arg(&self.key)
            .arg(&self.group)
            .arg(&delivery.entry_id)
            .query_async(&mut conn)
            .await
            .map_err(RedisError::unavailable("stream ack"))?;
        Ok(())
    }

    /// How many events of the group are delivered but not acknowledged.
    ///
    /// # Errors
    /// [`RedisError::Unavailable`].
    pub async fn pending(&self) -> conn_core::Result<u64> {
        let mut conn = self.redis.connection().await?;
        let summary: Value = redis::cmd("XPENDING")
            .arg(&self.key)
            .arg(&self.group)
            .query_async(&mut conn)
            .await
            .map_err(RedisError::unavailable("stream pending"))?;
        match &summary {
            Value::Array(parts) => match parts.first() {
                Some(Value::Int(n)) => Ok(u64::try_from(*n).unwrap_or(0)),
                _ => Err(protocol("stream pending", &summary).into()),
            },
            other => Err(protocol("stream pending", other).into()),
        }
    }
}

fn protocol(op: &'static str, v: &Value) -> RedisError {
    let kind = match v {
        Value::Nil => "nil",
        Value::Int(_) => "integer",
        Value::BulkString(_) => "string",
        Value::Array(_) => "array",
        Value::Map(_) => "map",
        _ => "other",
    };
    RedisError::Protocol {
        op,
        detail: format!("a {kind} where stream entries were expected"),
    }
}

fn bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b.clone()),
        Value::SimpleString(s) => Some(s.clone().into_bytes()),
        _ => None,
    }
}

/// `[[id, [field, value, ...]], ...]`; entries deleted from the stream meanwhile come as
/// `[id, nil]` and are skipped (there is nothing left to process).
fn parse_entries(v: &Value) -> Result<Vec<Delivery>> {
    let Value::Array(items) = v else {
        return Err(protocol("stream entries", v));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::Array(pair) = item else {
            return Err(protocol("stream entry", item));
        };
        let (Some(id), Some(fields)) = (pair.first().and_then(bytes), pair.get(1)) else {
            return Err(protocol("stream entry", item));
        };
        let Value::Array(fields) = fields else {
            continue;
        };
        let mut body = None;
        let mut msg_id = None;
        for kv in fields.chunks(2) {
            if let [k, val] = kv {
                match bytes(k).as_deref() {
                    Some(b"body") => body = bytes(val),
                    Some(b"msg_id") => {
                        msg_id = bytes(val).map(|b| String::from_utf8_lossy(&b).into_owned())
                    }
                    _ => {}
                }
            }
        }
        out.push(Delivery {
            entry_id: String::from_utf8_lossy(&id).into_owned(),
            msg_id,
            body: body.unwrap_or_default(),
            redelivered: false,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn parses_entries_and_skips_deleted_ones() {
        let v = Value::Array(vec![
            Value::Array(vec![
                bulk("1-0"),
                Value::Array(vec![bulk("body"), bulk("{}"), bulk("msg_id"), bulk("m1")]),
            ]),
            Value::Array(vec![bulk("2-0"), Value::Nil]),
        ]);
        let e = parse_entries(&v).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].entry_id, "1-0");
        assert_eq!(e[0].msg_id.as_deref(), Some("m1"));
        assert_eq!(e[0].body, b"{}");
        assert!(format!("{:?}", e[0]).contains("body_len: 2"));
    }

    #[test]
    fn hostile_shapes_are_protocol_errors() {
        for v in [
            Value::Int(1),
            Value::Array(vec![Value::Int(1)]),
            Value::Array(vec![Value::Array(vec![])]),
        ] {
            assert!(matches!(
                parse_entries(&v),
                Err(RedisError::Protocol { .. })
            ));
        }
    }
}
