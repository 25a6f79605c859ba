//! Test support: start the real `ferrostack` binary on a free 127.0.0.1 port and talk RESP to
//! it over a plain socket. Every test file does `mod common;`.
// Test support: a failed set-up step (spawn, connect) should abort the test, so unwrap is fine.
#![allow(dead_code, clippy::unwrap_used)]

pub mod ft;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;

/// A running server process, killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    /// Its log lines so far.
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the server with extra redis-server style arguments.
    pub fn start(extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ferrostack"))
            .args(["--port", "0", "--bind", "127.0.0.1", "--save", ""])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn ferrostack");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        // The start-up lines (the load of a snapshot ...) are kept too.
        let mut early = Vec::new();
        let port = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .expect("read server log");
            if let Some(addr) = line.split("Ready to accept connections tcp on ").nth(1) {
                break addr.rsplit(':').next().unwrap().trim().parse().unwrap();
            }
            early.push(line);
        };
        // Keep draining the log so the server never blocks on a full pipe.
        let log = Arc::new(Mutex::new(early));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        Server { child, port, log }
    }

    /// The first log line containing `text`, waiting up to `timeout` for it.
    pub fn log_line(&self, text: &str, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let found = self
                .log
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(text))
                .cloned();
            if found.is_some() || std::time::Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn client(&self) -> Client {
        Client::connect(self.port)
    }

    /// Waits for the process to exit by itself (after SHUTDOWN or a signal).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!("ferro-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    pub fn str(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A decoded reply, simplified for assertions. RESP2 and RESP3 both decode into it.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<V>),
    Map(Vec<(V, V)>),
    Set(Vec<V>),
    Double(String),
    Bool(bool),
    Verbatim(String),
    BigNumber(String),
    Push(Vec<V>),
}

impl V {
    pub fn bulk(s: &str) -> V {
        V::Bulk(s.as_bytes().to_vec())
    }

    pub fn ok() -> V {
        V::Simple("OK".into())
    }

    pub fn err(s: &str) -> V {
        V::Error(s.into())
    }

    /// The text of a bulk / simple / verbatim reply.
    pub fn text(&self) -> String {
        match self {
            V::Simple(s) | V::Error(s) | V::Verbatim(s) | V::Double(s) | V::BigNumber(s) => {
                s.clone()
            }
            V::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            V::Int(n) => n.to_string(),
            other => panic!("not a string reply: {other:?}"),
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, V::Error(_))
    }

    /// The value under `key` in a RESP3 map reply (panics if there is none).
    pub fn field(&self, key: &str) -> V {
        let V::Map(pairs) = self else {
            panic!("not a map: {self:?}")
        };
        pairs
            .iter()
            .find(|(k, _)| k.text() == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {key} in {self:?}"))
    }

    pub fn items(&self) -> Vec<V> {
        match self {
            V::Array(v) | V::Set(v) | V::Push(v) => v.clone(),
            V::Map(pairs) => pairs
                .iter()
                .flat_map(|(k, v)| [k.clone(), v.clone()])
                .collect(),
            other => panic!("not an aggregate: {other:?}"),
        }
    }
}

fn format_double(d: f64) -> String {
    if d.is_infinite() {
        if d > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        d.to_string()
    }
}

/// A blocking RESP client on a raw socket.
pub struct Client {
    pub stream: TcpStream,
    buf: BytesMut,
}

impl Client {
    pub fn connect(port: u16) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: BytesMut::new(),
        }
    }

    /// Sends one command (each argument as a bulk string) and reads its reply.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> V {
        self.send(args);
        self.read()
    }

    /// `cmd` with a whitespace-split string, for brevity: `c.q("SET a 1")`.
    pub fn q(&mut self, line: &str) -> V {
        let args: Vec<&str> = line.split_whitespace().collect();
        self.cmd(&args)
    }

    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        self.stream.write_all(&encode_command(args)).unwrap();
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Reads one reply (RESP2 or RESP3).
    pub fn read(&mut self) -> V {
        self.try_read().expect("connection closed before a reply")
    }

    /// Reads one reply, or `None` if the server closed the connection.
    pub fn try_read(&mut self) -> Option<V> {
        match self.read_raw() {
            Ok((reply, _)) => Some(reply),
            Err(e) if e.starts_with("bad RESP") => panic!("{e}"),
            Err(_) => None,
        }
    }

    /// Reads one reply together with the exact bytes it arrived as (for byte-for-byte
    /// comparisons). `Err` says why no reply came: closed connection, timeout or bad RESP.
    pub fn read_raw(&mut self) -> Result<(V, Vec<u8>), String> {
        loop {
            match parse_reply(&self.buf, 0) {
                Ok(Some((reply, len))) => return Ok((reply, self.buf.split_to(len).to_vec())),
                Ok(None) => {}
                Err(e) => return Err(format!("bad RESP from server: {e}")),
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err("connection closed".into()),
                Err(e) => return Err(format!("no reply: {e}")),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Switches to RESP3 with HELLO 3.
    pub fn resp3(&mut self) {
        let reply = self.q("HELLO 3");
        assert!(matches!(reply, V::Map(_)), "HELLO 3 failed: {reply:?}");
    }
}

/// Encodes a command as a RESP multibulk.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Parses one RESP2 or RESP3 reply starting at `at`: the reply and the index after it, or
/// `None` while incomplete. Handles RESP2's null bulk / null array (`$-1`, `*-1`), which
/// RESP3 decoders reject, and skips RESP3 attributes.
fn parse_reply(buf: &[u8], at: usize) -> Result<Option<(V, usize)>, String> {
    let Some(kind) = buf.get(at) else {
        return Ok(None);
    };
    let Some(eol) = buf[at..].windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let line = &buf[at + 1..at + eol];
    let next = at + eol + 2;
    let text = || String::from_utf8_lossy(line).into_owned();
    let number = || -> Result<i64, String> {
        text()
            .parse()
            .map_err(|_| format!("bad number {:?}", text()))
    };
    let reply = match kind {
        b'+' => V::Simple(text()),
        b'-' => V::Error(text()),
        b':' => V::Int(number()?),
        b'_' => V::Nil,
        b',' => V::Double(match text().parse::<f64>() {
            Ok(d) => format_double(d),
            Err(_) => text(),
        }),
        b'#' => V::Bool(line == b"t"),
        b'(' => V::BigNumber(text()),
        b'$' | b'!' | b'=' => {
            let len = number()?;
            if len < 0 {
                return Ok(Some((V::Nil, next)));
            }
            let end = next + len as usize;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            let data = buf[next..end].to_vec();
            let reply = match kind {
                b'$' => V::Bulk(data),
                b'!' => V::Error(String::from_utf8_lossy(&data).into_owned()),
                _ => V::Verbatim(
                    String::from_utf8_lossy(data.get(4..).unwrap_or_default()).into_owned(),
                ),
            };
            return Ok(Some((reply, end + 2)));
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = number()?;
            if n < 0 {
                return Ok(Some((V::Nil, next)));
            }
            let count = if matches!(kind, b'%' | b'|') {
                2 * n
            } else {
                n
            };
            let mut items = Vec::new();
            let mut pos = next;
            for _ in 0..count {
                let Some((item, after)) = parse_reply(buf, pos)? else {
                    return Ok(None);
                };
                items.push(item);
                pos = after;
            }
            let pairs = || {
                items
                    .chunks(2)
                    .map(|p| (p[0].clone(), p[1].clone()))
                    .collect()
            };
            let reply = match kind {
                b'*' => V::Array(items),
                b'~' => V::Set(items),
                b'>' => V::Push(items),
                b'%' => V::Map(pairs()),
                // An attribute annotates the reply that follows it.
                _ => return parse_reply(buf, pos),
            };
            return Ok(Some((reply, pos)));
        }
        other => return Err(format!("unknown reply type byte {:?}", *other as char)),
    };
    Ok(Some((reply, next)))
}
