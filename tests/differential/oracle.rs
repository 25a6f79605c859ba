//! The oracle: Debian's real `redis-server`, started on a free loopback port with persistence
//! off and killed when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "the differential test needs Debian's real `redis-server` (7.0.x) \
     on PATH. Install it with `apt-get install -y redis-server` (or run `tests/run_all.sh`, \
     which installs it).";

/// A running `redis-server` child process.
pub struct RealRedis {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl RealRedis {
    /// The `v=...` version of the `redis-server` on PATH; panics with install instructions
    /// when there is none.
    pub fn version() -> String {
        let out = Command::new("redis-server")
            .arg("--version")
            .output()
            .unwrap_or_else(|e| panic!("cannot run redis-server ({e}): {INSTALL_HINT}"));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.split_whitespace()
            .find_map(|w| w.strip_prefix("v="))
            .unwrap_or_else(|| panic!("unexpected `redis-server --version` output {text:?}"))
            .to_string()
    }

    /// Starts a server on a free port.
    pub fn start() -> RealRedis {
        Self::start_with(&[])
    }

    /// Starts a server on a free port with extra `redis-server` arguments
    /// (`--slowlog-log-slower-than 0`). Retries a few times because another process may grab
    /// the port between our probe and redis-server's bind.
    pub fn start_with(extra: &[&str]) -> RealRedis {
        Self::version();
        for _ in 0..5 {
            if let Some(server) = Self::try_start(extra) {
                return server;
            }
        }
        panic!("redis-server did not start after 5 attempts");
    }

    fn try_start(extra: &[&str]) -> Option<RealRedis> {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("ferro-oracle-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the oracle's working directory");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(extra)
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn redis-server ({e}): {INSTALL_HINT}"));
        let mut server = RealRedis { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            if let Ok(Some(_)) = server.child.try_wait() {
                return None; // Exited: most likely the port was taken meanwhile.
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a probe socket");
    listener.local_addr().expect("probe address").port()
}
