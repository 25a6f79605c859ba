//! A blocking RESP2 client over one TCP connection: buffered command encoding (so callers can
//! pipeline by sending many commands before reading) and a reply decoder.
//!
//! The benchmark never switches protocol, so RESP3-only reply types are reported as a protocol
//! error rather than decoded. Depends on nothing but std.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::TcpStream;

/// One decoded RESP2 reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Reply>),
}

impl Reply {
    /// The reply as text (simple or bulk string), for status and info replies.
    pub fn text(&self) -> Option<String> {
        match self {
            Reply::Simple(s) => Some(s.clone()),
            Reply::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }

    /// The reply as a number: an integer, or a string holding one (RESP2 sends doubles that way).
    pub fn number(&self) -> Option<f64> {
        match self {
            Reply::Int(n) => Some(*n as f64),
            _ => self.text()?.trim().parse().ok(),
        }
    }

    /// The value after `key` in a flat `[key, value, ...]` array (FT.INFO's RESP2 layout).
    pub fn field(&self, key: &str) -> Option<&Reply> {
        let Reply::Array(items) = self else {
            return None;
        };
        items
            .chunks_exact(2)
            .find(|pair| pair[0].text().as_deref() == Some(key))
            .map(|pair| &pair[1])
    }

    /// Turns an error reply into an `Err` carrying the server's text.
    pub fn ok(self) -> Result<Reply, String> {
        match self {
            Reply::Error(e) => Err(e),
            other => Ok(other),
        }
    }
}

pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: BufWriter<TcpStream>,
}

impl Conn {
    pub fn connect(addr: &str) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::with_capacity(64 * 1024, stream.try_clone()?),
            writer: BufWriter::with_capacity(256 * 1024, stream),
        })
    }

    /// Buffers one command; nothing reaches the server before `flush` (or `call`).
    pub fn send(&mut self, args: &[&[u8]]) -> io::Result<()> {
        write!(self.writer, "*{}\r\n", args.len())?;
        for arg in args {
            write!(self.writer, "${}\r\n", arg.len())?;
            self.writer.write_all(arg)?;
            self.writer.write_all(b"\r\n")?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }

    /// Sends one command and waits for its reply.
    pub fn call(&mut self, args: &[&[u8]]) -> io::Result<Reply> {
        self.send(args)?;
        self.flush()?;
        self.read()
    }

    /// `call` with string arguments, for the control commands.
    pub fn call_str(&mut self, args: &[&str]) -> io::Result<Reply> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.call(&args)
    }

    /// Reads the next reply.
    pub fn read(&mut self) -> io::Result<Reply> {
        let line = self.line()?;
        let (kind, rest) = line.split_at(1);
        let int = |s: &str| {
            s.parse::<i64>()
                .map_err(|_| bad(format!("bad integer {s:?} in reply")))
        };
        match kind {
            "+" => Ok(Reply::Simple(rest.to_owned())),
            "-" => Ok(Reply::Error(rest.to_owned())),
            ":" => Ok(Reply::Int(int(rest)?)),
            "$" => match int(rest)? {
                n if n < 0 => Ok(Reply::Nil),
                n => {
                    let mut data = vec![0; n as usize + 2];
                    self.reader.read_exact(&mut data)?;
                    data.truncate(n as usize);
                    Ok(Reply::Bulk(data))
                }
            },
            "*" => match int(rest)? {
                n if n < 0 => Ok(Reply::Nil),
                n => (0..n)
                    .map(|_| self.read())
                    .collect::<io::Result<_>>()
                    .map(Reply::Array),
            },
            _ => Err(bad(format!("unexpected reply type in {line:?}"))),
        }
    }

    fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        match line.strip_suffix("\r\n") {
            Some(body) if !body.is_empty() => Ok(body.to_owned()),
            _ => Err(bad(format!("malformed reply line {line:?}"))),
        }
    }
}

fn bad(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
