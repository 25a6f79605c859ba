//! Test support: start the real `ferrostack` binary on a free 127.0.0.1 port and talk RESP to
//! it over a plain socket. Every test file does `mod common;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::BytesMut;
use redis_protocol::resp3::decode::complete::decode_bytes_mut;
use redis_protocol::resp3::types::BytesFrame;

/// A running server process, killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
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
        let port = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .expect("read server log");
            if let Some(addr) = line.split("Ready to accept connections tcp on ").nth(1) {
                break addr.rsplit(':').next().unwrap().trim().parse().unwrap();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, port }
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

fn convert(frame: BytesFrame) -> V {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match frame {
        BytesFrame::SimpleString { data, .. } => V::Simple(text(&data)),
        BytesFrame::SimpleError { data, .. } => V::Error(data.to_string()),
        BytesFrame::BlobError { data, .. } => V::Error(text(&data)),
        BytesFrame::Number { data, .. } => V::Int(data),
        BytesFrame::BlobString { data, .. } => V::Bulk(data.to_vec()),
        BytesFrame::Null => V::Nil,
        BytesFrame::Array { data, .. } => V::Array(data.into_iter().map(convert).collect()),
        BytesFrame::Set { data, .. } => V::Set(data.into_iter().map(convert).collect()),
        BytesFrame::Push { data, .. } => V::Push(data.into_iter().map(convert).collect()),
        BytesFrame::Map { data, .. } => V::Map(
            data.into_iter()
                .map(|(k, v)| (convert(k), convert(v)))
                .collect(),
        ),
        BytesFrame::Double { data, .. } => V::Double(format_double(data)),
        BytesFrame::Boolean { data, .. } => V::Bool(data),
        BytesFrame::VerbatimString { data, .. } => V::Verbatim(text(&data)),
        BytesFrame::BigNumber { data, .. } => V::BigNumber(text(&data)),
        other => panic!("unexpected frame {other:?}"),
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
        loop {
            // The RESP3 decoder does not know RESP2's null bulk string and null array.
            if self.buf.starts_with(b"$-1\r\n") || self.buf.starts_with(b"*-1\r\n") {
                let _ = self.buf.split_to(5);
                return Some(V::Nil);
            }
            if let Some((frame, _, _)) =
                decode_bytes_mut(&mut self.buf).expect("bad RESP from server")
            {
                return Some(convert(frame));
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
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
