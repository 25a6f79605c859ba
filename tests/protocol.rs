//! Raw-byte protocol tests against the real binary: pipelining, inline commands, RESP3, and
//! malformed input that must get Redis's protocol errors without harming other clients.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Server, V};

#[test]
fn pipelined_and_inline_requests() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\nPING\r\n");
    assert_eq!(c.read(), V::ok());
    assert_eq!(c.read(), V::bulk("1"));
    assert_eq!(c.read(), V::Simple("PONG".into()));
    c.send_raw(b"SET b \"x y\"\r\nGET b\n");
    assert_eq!(c.read(), V::ok());
    assert_eq!(c.read(), V::bulk("x y"));
}

#[test]
fn malformed_frames_close_only_that_connection() {
    let server = Server::start(&[]);
    let mut bystander = server.client();
    assert_eq!(bystander.q("SET k v"), V::ok());
    for (input, error) in [
        (
            &b"*1\r\n$99999999999\r\n"[..],
            "ERR Protocol error: invalid bulk length",
        ),
        (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
        // Header integers are parsed strictly, as Redis's string2ll does.
        (
            b"*01\r\n$4\r\nPING\r\n",
            "ERR Protocol error: invalid multibulk length",
        ),
        (
            b"*+1\r\n$4\r\nPING\r\n",
            "ERR Protocol error: invalid multibulk length",
        ),
        (
            b"*1\r\n$04\r\nPING\r\n",
            "ERR Protocol error: invalid bulk length",
        ),
        (
            b"*1\r\n$+4\r\nPING\r\n",
            "ERR Protocol error: invalid bulk length",
        ),
        (
            b"*1\r\n*1\r\n$1\r\na\r\n",
            "ERR Protocol error: expected '$', got '*'",
        ),
        (
            b"SET a \"unbalanced\r\n",
            "ERR Protocol error: unbalanced quotes in request",
        ),
    ] {
        let mut c = server.client();
        c.send_raw(input);
        assert_eq!(c.read(), V::err(error));
        assert_eq!(
            c.try_read(),
            None,
            "connection must close after a protocol error"
        );
    }
    // `*-5` is an empty request: nothing happens, the connection stays usable.
    let mut c = server.client();
    c.send_raw(b"*-5\r\nPING\r\n");
    assert_eq!(c.read(), V::Simple("PONG".into()));
    // Deep nesting never reaches a recursive parser.
    let mut c = server.client();
    c.send_raw(&b"*1\r\n".repeat(100_000));
    assert_eq!(
        c.read(),
        V::err("ERR Protocol error: expected '$', got '*'")
    );
    assert_eq!(bystander.q("GET k"), V::bulk("v"));
}

#[test]
fn unknown_commands_keep_the_connection() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("DPING a b"),
        V::err("ERR unknown command 'DPING', with args beginning with: 'a' 'b' ")
    );
    assert_eq!(
        c.q("GET"),
        V::err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(c.q("PING"), V::Simple("PONG".into()));
    // CLIENT LIST's `cmd`: a command rejected for its arity still counts as the last one,
    // an unknown command or subcommand leaves NULL (as in Redis).
    let id = c.q("CLIENT ID").text();
    let mut other = server.client();
    let mut last_cmd = |c: &mut common::Client, cmd: &str| {
        c.q(cmd);
        let list = other.q("CLIENT LIST").text();
        let line = list
            .lines()
            .find(|l| l.starts_with(&format!("id={id} ")))
            .unwrap_or_else(|| panic!("{list}"))
            .to_string();
        line.split(' ')
            .find_map(|kv| kv.strip_prefix("cmd="))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(last_cmd(&mut c, "GET"), "get");
    assert_eq!(last_cmd(&mut c, "DPING"), "NULL");
    assert_eq!(last_cmd(&mut c, "CONFIG"), "config");
    assert_eq!(last_cmd(&mut c, "CONFIG GET"), "config|get");
    assert_eq!(last_cmd(&mut c, "CONFIG NOSUCH"), "NULL");
}

/// Errors that echo arguments send them the way Redis's C formatting does: raw bytes (no
/// UTF-8 replacement), each cut at its first NUL, CR and LF turned into spaces. Expected
/// lines were taken from redis-server 7.0.15.
#[test]
fn errors_echo_arguments_as_raw_bytes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let bin: &[u8] = b"ab\x00cd\xff\xfe";
    let long = vec![b'y'; 100];
    let cases: Vec<(Vec<&[u8]>, &[u8])> = vec![
        (
            vec![b"FOO", bin, b"\xff\xfe", b"c\r\nd"],
            b"-ERR unknown command 'FOO', with args beginning with: 'ab' '\xff\xfe' 'c  d' \r\n",
        ),
        (
            vec![b"FOO\x00zz", b"a"],
            b"-ERR unknown command 'FOO', with args beginning with: 'a' \r\n",
        ),
        (
            vec![b"FOO", &long, &long, b"w"],
            b"-ERR unknown command 'FOO', with args beginning with: \
              'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy' \
              'yyyyyyyyyyyyyyyyyyyyyyyyy' \r\n",
        ),
        (
            vec![b"OBJECT", b"\xffx\x00y", b"k"],
            b"-ERR unknown subcommand '\xffx'. Try OBJECT HELP.\r\n",
        ),
        (
            vec![b"CONFIG", b"SET", bin, b"1"],
            b"-ERR Unknown option or number of arguments for CONFIG SET - 'ab'\r\n",
        ),
        (
            vec![b"CONFIG", b"SET", b"hz", b"1", b"HZ\x00\xff", b"2"],
            b"-ERR Unknown option or number of arguments for CONFIG SET - 'HZ'\r\n",
        ),
        (
            vec![b"EXPIRE", b"k", b"10", bin],
            b"-ERR Unsupported option ab\r\n",
        ),
        (
            vec![b"HELLO", b"3", b"\xe9t\xe9\x00x"],
            b"-ERR Syntax error in HELLO option '\xe9t\xe9'\r\n",
        ),
        (
            vec![b"CLIENT", b"KILL", b"TYPE", bin],
            b"-ERR Unknown client type 'ab'\r\n",
        ),
        (
            vec![b"CLIENT", b"KILL", b"USER", bin],
            b"-ERR No such user 'ab'\r\n",
        ),
    ];
    for (argv, expected) in &cases {
        c.send(argv);
        let (_, raw) = c.read_raw().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&raw),
            String::from_utf8_lossy(expected),
            "{argv:?}"
        );
        assert_eq!(&raw, expected, "{argv:?}");
    }
    // INFO errorstats counts them under their code.
    let info = c.q("INFO errorstats").text();
    assert!(
        info.contains(&format!("errorstat_ERR:count={}", cases.len())),
        "{info}"
    );
}

#[test]
fn hello_switches_to_resp3() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let hello = c.q("HELLO 3");
    let V::Map(pairs) = hello else {
        panic!("HELLO 3 must answer a map")
    };
    assert!(pairs.contains(&(V::bulk("proto"), V::Int(3))));
    assert!(pairs.contains(&(V::bulk("server"), V::bulk("redis"))));
    assert_eq!(c.q("GET nosuch"), V::Nil);
    assert_eq!(
        c.q("HELLO 4"),
        V::err("NOPROTO unsupported protocol version")
    );
}

/// A small deterministic generator (xorshift64*), so every run throws the same garbage.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Well-formed requests the garbage is made from. All harmless: nothing that shuts the
/// server down, kills clients or touches the bystander's key.
fn seed_requests() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = [
        &["SET", "fuzz", "value"][..],
        &["GET", "fuzz"],
        &["PING"],
        &["ECHO", "hello world"],
        &["HELLO", "3"],
        &["CLIENT", "SETNAME", "fuzzer"],
        &["CLIENT", "INFO"],
        &["SELECT", "1"],
    ]
    .iter()
    .map(|args| common::encode_command(args))
    .collect();
    seeds.push(b"PING\r\n".to_vec());
    seeds.push(b"SET a \"b c\" 'd\\'e'\n".to_vec());
    seeds
}

/// One garbage input: random bytes, or one to three seed requests damaged in one of the ways
/// a broken client or network could damage them.
fn garbage(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    if rng.below(5) == 0 {
        let len = rng.below(300);
        return rng.bytes(len);
    }
    let mut input = Vec::new();
    for _ in 0..=rng.below(3) {
        input.extend_from_slice(&seeds[rng.below(seeds.len())]);
    }
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(7) {
            0 if at < input.len() => input[at] ^= 1 << rng.below(8),
            1 if at < input.len() => input[at] = rng.next() as u8,
            2 => {
                let n = rng.below(16);
                let noise = rng.bytes(n);
                input.splice(at..at, noise);
            }
            3 => input.truncate(at),
            4 => {
                let end = (at + rng.below(32)).min(input.len());
                input.drain(at..end);
            }
            5 => {
                // A length header announcing something absurd.
                let number = [
                    "-1",
                    "-2147483648",
                    "0",
                    "99999999999",
                    "2147483647",
                    "536870913",
                    "x",
                    "",
                    "1e3",
                ][rng.below(9)];
                let prefix = if rng.below(2) == 0 { "*" } else { "$" };
                let header = format!("{prefix}{number}\r\n").into_bytes();
                input.splice(at..at, header);
            }
            _ => {
                // Deep nesting.
                let depth = rng.below(2000);
                input.splice(at..at, b"*1\r\n".repeat(depth));
            }
        }
    }
    input
}

/// Sends `input`, half-closes, and reads until the server closes. The server must close
/// every such connection (it saw end of stream) within the timeout.
fn throw(port: u16, input: &[u8]) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    // The server may close before reading everything (protocol error): writes may fail.
    let _ = stream.write_all(input);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut sink = [0u8; 65536];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return,
            Err(e) => panic!("server kept a half-closed connection open: {e}; input {input:?}"),
        }
    }
}

#[test]
fn garbage_on_many_connections_never_hurts_others() {
    const THREADS: u64 = 4;
    const PER_THREAD: usize = 1000;
    let mut server = Server::start(&[]);
    let port = server.port;
    let mut bystander = server.client();
    assert_eq!(bystander.q("SET bystander safe"), V::ok());
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let seeds = seed_requests();
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (t + 1));
                for _ in 0..PER_THREAD {
                    let input = garbage(&mut rng, &seeds);
                    throw(port, &input);
                }
            })
        })
        .collect();
    // The bystander keeps working while the garbage flies.
    while workers.iter().any(|w| !w.is_finished()) {
        assert_eq!(bystander.q("GET bystander"), V::bulk("safe"));
        assert_eq!(bystander.q("PING"), V::Simple("PONG".into()));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for w in workers {
        w.join().expect("a worker failed");
    }
    assert_eq!(bystander.q("GET bystander"), V::bulk("safe"));
    let mut fresh = server.client();
    assert_eq!(fresh.q("PING"), V::Simple("PONG".into()));
    assert!(
        server
            .wait_exit(std::time::Duration::from_millis(50))
            .is_none(),
        "the server must still be running"
    );
}

#[test]
fn ten_megabyte_value_round_trip() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut rng = Rng(42);
    let value = rng.bytes(10 * 1024 * 1024);
    assert_eq!(c.cmd(&[&b"SET"[..], b"big", &value]), V::ok());
    assert_eq!(c.cmd(&["GET", "big"]), V::Bulk(value.clone()));
    c.resp3();
    assert_eq!(c.cmd(&["GET", "big"]), V::Bulk(value));
}

#[test]
fn oversized_query_buffer_closes_only_that_client() {
    let server = Server::start(&["--client-query-buffer-limit", "1mb"]);
    let mut bystander = server.client();
    assert_eq!(bystander.q("SET k v"), V::ok());
    // Just under the limit is fine.
    let mut ok = server.client();
    let value = vec![b'x'; 900 * 1024];
    assert_eq!(ok.cmd(&[&b"SET"[..], b"near", &value]), V::ok());
    // A request bigger than the limit: the client is closed without a reply.
    let mut big = server.client();
    big.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n");
    let _ = std::io::Write::write_all(&mut big.stream, &vec![b'y'; 1_500_000]);
    assert_eq!(big.try_read(), None);
    // Incomplete inline data that never ends is refused the same way.
    let mut inline = server.client();
    let _ = std::io::Write::write_all(&mut inline.stream, &vec![b'a'; 70_000]);
    assert_eq!(
        inline.read(),
        V::err("ERR Protocol error: too big inline request")
    );
    assert_eq!(inline.try_read(), None);
    assert_eq!(bystander.q("GET k"), V::bulk("v"));
    assert_eq!(ok.cmd(&["GET", "near"]), V::Bulk(value));
}

#[test]
fn proto_max_bulk_len_option() {
    let server = Server::start(&["--proto-max-bulk-len", "1mb"]);
    let mut c = server.client();
    let at_limit = vec![b'z'; 1024 * 1024];
    assert_eq!(c.cmd(&[&b"SET"[..], b"k", &at_limit]), V::ok());
    let mut over = server.client();
    over.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n");
    assert_eq!(
        over.read(),
        V::err("ERR Protocol error: invalid bulk length")
    );
    assert_eq!(over.try_read(), None);
    assert_eq!(c.cmd(&["GET", "k"]), V::Bulk(at_limit));
}

#[test]
fn truncated_frames_complete_later() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let pause = || std::thread::sleep(std::time::Duration::from_millis(30));
    for piece in [
        &b"*3\r\n$3\r\nSE"[..],
        b"T\r\n$1\r\nk",
        b"\r\n$5\r\nhel",
        b"lo\r",
        b"\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPI",
        b"NG\r",
        b"\n",
    ] {
        c.send_raw(piece);
        pause();
    }
    assert_eq!(c.read(), V::ok());
    assert_eq!(c.read(), V::bulk("hello"));
    assert_eq!(c.read(), V::Simple("PONG".into()));
    // One byte at a time, a pipeline of three requests.
    let pipeline = [
        common::encode_command(&["SET", "b", "x y"]),
        b"ECHO inline\r\n".to_vec(),
        common::encode_command(&["GET", "b"]),
    ]
    .concat();
    for byte in &pipeline {
        c.send_raw(std::slice::from_ref(byte));
    }
    assert_eq!(c.read(), V::ok());
    assert_eq!(c.read(), V::bulk("inline"));
    assert_eq!(c.read(), V::bulk("x y"));
    // A frame whose header announced more than arrives waits; nothing is answered early.
    c.send_raw(b"*2\r\n$4\r\nECHO\r\n$10\r\n12345");
    pause();
    c.send_raw(b"67890\r\n");
    assert_eq!(c.read(), V::bulk("1234567890"));
}
