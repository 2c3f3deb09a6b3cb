//! `protocol: redis` and `protocol: postgres` calls (spec §11.1): one command or SQL query
//! (`query`, templated) against the server the templated `url` names, on a fresh connection
//! per call, within the call's timeout.
//!
//! Results, under `.external.<name>` as Orkestra sets them:
//! - redis: `result` (the reply as text; an array as `[a b c]`), `raw.value` (the reply as
//!   JSON), `error`, `called`.
//! - postgres: `result` (first column of the first row, as text), `rows` (every row as a map
//!   of column name to its text, `null` for SQL NULL), `rowCount` (text), `error`, `called`.
//! - A failed call has `result: ""`, the `error`, `called: "true"`.
//!
//! Decisions:
//! - The credential of `token` or `auth.secretRef` is the password (it overrides one in the
//!   URL); it is never logged.
//! - redis: `url` is `redis://[user:password@]host:port[/db]` (a bare `host:port` is read as
//!   `redis://host:port`); the query is split on spaces, a double-quoted part kept whole. A nil
//!   reply (`GET` of a missing key) is an error, `redis: nil`, as go-redis reports it.
//!   `rediss://` (TLS) is refused with an error saying so.
//! - postgres: `url` is a libpq URL or key=value string, without TLS (`sslmode=disable` or
//!   `prefer`); the query runs through the simple query protocol, so every value is text (a
//!   count is `"3"`), and several statements may be sent, the rows of each being listed.

use std::str::FromStr;
use std::time::Duration;

use serde_json::{Map, Value, json};

/// Which store a call talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// `protocol: redis`.
    Redis,
    /// `protocol: postgres`.
    Postgres,
}

impl Store {
    /// The store of a protocol name, if it is one.
    pub fn of(protocol: &str) -> Option<Self> {
        match protocol {
            "redis" => Some(Store::Redis),
            "postgres" => Some(Store::Postgres),
            _ => None,
        }
    }

    /// Sends `query` to the server at `url` with the password `credential`, all within
    /// `timeout`; the result map on success.
    ///
    /// # Errors
    /// Why the call failed (connection, authentication, the server's error, timeout).
    pub async fn fetch(
        self,
        url: &str,
        query: &str,
        credential: Option<&str>,
        timeout: Duration,
    ) -> Result<Value, String> {
        if query.trim().is_empty() {
            return Err(format!("{}: `query` is required", self.name()));
        }
        let exchange = async {
            match self {
                Store::Redis => redis(url, query, credential).await,
                Store::Postgres => postgres(url, query, credential).await,
            }
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| format!("{}: timed out after {timeout:?}", self.name()))?
    }

    fn name(self) -> &'static str {
        match self {
            Store::Redis => "redis",
            Store::Postgres => "postgres",
        }
    }
}

/// The result map of a failed store call.
pub fn failure(error: &str) -> Value {
    json!({"result": "", "error": error, "called": "true"})
}

async fn redis(url: &str, query: &str, credential: Option<&str>) -> Result<Value, String> {
    if url.starts_with("rediss://") {
        return Err("redis: rediss:// (TLS) is not supported by ork".into());
    }
    let url = if url.contains("://") {
        url.to_string()
    } else {
        format!("redis://{url}")
    };
    let mut info = redis::IntoConnectionInfo::into_connection_info(url.as_str())
        .map_err(|e| format!("redis: invalid url: {e}"))?;
    if let Some(password) = credential {
        let settings = info.redis_settings().clone().set_password(password);
        info = info.set_redis_settings(settings);
    }
    let client = redis::Client::open(info).map_err(|e| format!("redis: {e}"))?;
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| format!("redis: connect: {e}"))?;
    let parts = split_command(query);
    let (name, args) = parts.split_first().ok_or("redis: `query` is empty")?;
    let reply: redis::Value = redis::cmd(name)
        .arg(args)
        .query_async(&mut connection)
        .await
        .map_err(|e| format!("redis: {e}"))?;
    if reply == redis::Value::Nil {
        return Err("redis: nil".into());
    }
    Ok(json!({
        "result": redis_text(&reply),
        "raw": {"value": redis_json(&reply)},
        "error": "",
        "called": "true",
    }))
}

/// Splits a command on spaces; a double-quoted part is one argument (without its quotes).
fn split_command(query: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for ch in query.trim().chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    parts.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if any {
        parts.push(current);
    }
    parts
}

/// A reply as text: strings as they are, numbers in decimal, arrays as `[a b c]`.
fn redis_text(v: &redis::Value) -> String {
    use redis::Value as V;
    match v {
        V::Nil => String::new(),
        V::Int(i) => i.to_string(),
        V::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        V::SimpleString(s) => s.clone(),
        V::Okay => "OK".into(),
        V::Double(d) => d.to_string(),
        V::Boolean(b) => b.to_string(),
        V::VerbatimString { text, .. } => text.clone(),
        V::Array(items) | V::Set(items) => {
            let items: Vec<String> = items.iter().map(redis_text).collect();
            format!("[{}]", items.join(" "))
        }
        V::Map(pairs) => {
            let pairs: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}:{}", redis_text(k), redis_text(v)))
                .collect();
            format!("map[{}]", pairs.join(" "))
        }
        other => format!("{other:?}"),
    }
}

/// A reply as JSON: strings, numbers, booleans, arrays, maps (keys as text).
fn redis_json(v: &redis::Value) -> Value {
    use redis::Value as V;
    match v {
        V::Nil => Value::Null,
        V::Int(i) => json!(i),
        V::Double(d) => json!(d),
        V::Boolean(b) => json!(b),
        V::Array(items) | V::Set(items) => Value::Array(items.iter().map(redis_json).collect()),
        V::Map(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (redis_text(k), redis_json(v)))
                .collect(),
        ),
        other => Value::String(redis_text(other)),
    }
}

async fn postgres(url: &str, query: &str, credential: Option<&str>) -> Result<Value, String> {
    let mut config =
        tokio_postgres::Config::from_str(url).map_err(|e| format!("postgres: invalid url: {e}"))?;
    if let Some(password) = credential {
        config.password(password);
    }
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("postgres: connect: {}", crate::error_chain(&e)))?;
    // Drives the connection; ends when `client` is dropped.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let messages = client
        .simple_query(query)
        .await
        .map_err(|e| format!("postgres: query: {}", crate::error_chain(&e)))?;
    let mut rows = Vec::new();
    let mut first = None;
    for message in messages {
        let tokio_postgres::SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        let mut map = Map::new();
        for (i, column) in row.columns().iter().enumerate() {
            let value = row.get(i).map(str::to_string);
            if first.is_none() && i == 0 {
                first = Some(value.clone().unwrap_or_default());
            }
            map.insert(column.name().to_string(), json!(value));
        }
        rows.push(Value::Object(map));
    }
    Ok(json!({
        "result": first.unwrap_or_default(),
        "rowCount": rows.len().to_string(),
        "rows": rows,
        "error": "",
        "called": "true",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_splits_on_spaces_keeping_quoted_parts_whole() {
        assert_eq!(
            split_command(r#" HSET h  field "hello world" "" "#),
            ["HSET", "h", "field", "hello world", ""]
        );
    }

    #[test]
    fn replies_read_as_text_and_json() {
        use redis::Value as V;
        let array = V::Array(vec![V::BulkString(b"a".to_vec()), V::Int(2), V::Nil]);
        assert_eq!(redis_text(&array), "[a 2 ]");
        assert_eq!(redis_json(&array), json!(["a", 2, null]));
        assert_eq!(redis_text(&V::Okay), "OK");
    }
}
