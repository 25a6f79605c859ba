//! What the RESP benchmark tools (vector_resp, text_resp) share around their own options: the
//! command-line walk, number and list values, control commands and the empty-server check.

use std::str::FromStr;

use crate::resp::{Conn, Reply};

/// The command line: `--flushall` and the `--flag value` pairs in order.
pub struct CommandLine {
    pub flushall: bool,
    pub values: Vec<(String, String)>,
}

/// Reads the command line, skipping the `--bench` that `cargo bench` passes to every bench
/// binary; `None` when `--help` asked for `help`, which is then printed.
pub fn parse(help: &str) -> Result<Option<CommandLine>, String> {
    let mut line = CommandLine {
        flushall: false,
        values: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--bench" => {}
            "--help" | "-h" => {
                println!("{help}");
                return Ok(None);
            }
            "--flushall" => line.flushall = true,
            _ => {
                let value = args
                    .next()
                    .ok_or_else(|| format!("{flag} needs a value (see --help)"))?;
                line.values.push((flag, value));
            }
        }
    }
    Ok(Some(line))
}

pub fn num<T: FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{flag}: bad value {value:?}"))
}

pub fn list<T: FromStr>(flag: &str, value: &str) -> Result<Vec<T>, String> {
    value.split(',').map(|v| num(flag, v)).collect()
}

/// Sends a control command; an error reply becomes an `Err` naming the command.
pub fn command(conn: &mut Conn, args: &[&str]) -> Result<Reply, String> {
    conn.call_str(args)
        .map_err(|e| format!("{}: {e}", args[0]))?
        .ok()
        .map_err(|e| format!("{}: {e}", args[0]))
}

/// Connects the control connection, refusing a server holding keys unless `flushall` allows
/// flushing it (the tools FLUSHALL between phases).
pub fn control(addr: &str, flushall: bool) -> Result<Conn, String> {
    let mut ctl = Conn::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let keys = command(&mut ctl, &["DBSIZE"])?;
    if keys != Reply::Int(0) && !flushall {
        return Err(format!(
            "{addr} holds keys ({keys:?}); the benchmark flushes the server, pass --flushall"
        ));
    }
    Ok(ctl)
}
