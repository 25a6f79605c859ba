//! Networking only: the listeners, the accept loop, background timers (active expiry, idle
//! clients) and shutdown on SHUTDOWN, SIGINT or SIGTERM. Every request is handed to
//! `commands::execute`; this module owns no data.

mod connection;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::clients::ClientFlags;
use crate::state::ServerState;

/// Binds every address of the `bind` option and serves until shutdown.
pub async fn run(state: Arc<ServerState>) -> std::io::Result<()> {
    // Before the first client can connect, so a signal never meets the default handler
    // (which would kill the process instead of shutting it down).
    let signals = Signals::install();
    let port = state.config.get_int("port") as u16;
    let binds = state.config.get("bind");
    let mut listeners = Vec::new();
    for host in binds.split_whitespace() {
        // redis.conf's `-` prefix marks an optional address.
        let (optional, host) = match host.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, host),
        };
        let addr = listen_addr(host, port);
        match TcpListener::bind(&addr).await {
            Ok(l) => listeners.push(l),
            Err(e) if optional => tracing::warn!("Could not bind optional address {addr}: {e}"),
            Err(e) => {
                tracing::error!("Could not create server TCP listening socket {addr}: {e}");
                return Err(e);
            }
        }
    }
    spawn_timers(state.clone());
    let mut accepts = Vec::new();
    for listener in listeners {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!("Ready to accept connections tcp on {addr}");
        }
        accepts.push(tokio::spawn(accept_loop(state.clone(), listener)));
    }
    wait_for_shutdown(&state, signals).await;
    for a in accepts {
        a.abort();
    }
    for client in state.clients.all() {
        state.clients.kill(&client);
    }
    tracing::info!("ferrostack is now ready to exit, bye bye...");
    Ok(())
}

/// The socket address of one `bind` word, read as redis.conf reads it: `*` is every IPv4
/// interface, `::*` every IPv6 one, and an IPv6 address takes brackets before the port.
fn listen_addr(host: &str, port: u16) -> String {
    match host {
        "*" => format!("0.0.0.0:{port}"),
        "::*" => format!("[::]:{port}"),
        h if h.contains(':') => format!("[{h}]:{port}"),
        h => format!("{h}:{port}"),
    }
}

async fn accept_loop(state: Arc<ServerState>, listener: TcpListener) {
    let laddr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!("Accepting client connection: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        state
            .stats
            .total_connections_received
            .fetch_add(1, Ordering::Relaxed);
        connection::accept(&state, stream, addr, laddr);
    }
}

/// SIGINT and SIGTERM, caught from start-up on.
struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        Signals {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }
}

/// Resolves when `signal` arrives; never when it could not be caught.
async fn received(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Resolves on SIGINT, SIGTERM or SHUTDOWN.
async fn wait_for_shutdown(state: &ServerState, mut signals: Signals) {
    // Created before the flag is read, so a SHUTDOWN that runs in between still wakes it;
    // one that ran before (a client can connect as soon as the listener is bound) set the flag.
    let notified = state.shutdown.notified();
    if state.shutting_down.load(Ordering::SeqCst) {
        return;
    }
    tokio::select! {
        _ = received(&mut signals.interrupt) => tracing::warn!("Received SIGINT scheduling shutdown..."),
        _ = received(&mut signals.terminate) => tracing::warn!("Received SIGTERM scheduling shutdown..."),
        _ = notified => tracing::warn!("User requested shutdown..."),
    }
    state.request_shutdown();
}

/// Background work: active expiry (driven by `hz`) and, once a second, closing idle clients.
fn spawn_timers(state: Arc<ServerState>) {
    let expiry = state.clone();
    tokio::spawn(async move {
        loop {
            let hz = expiry.config.get_int("hz").clamp(1, 500) as u64;
            tokio::time::sleep(Duration::from_millis(1000 / hz)).await;
            if expiry.shutting_down.load(Ordering::Relaxed) {
                return;
            }
            expiry.keyspace.active_expire_cycle();
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if state.shutting_down.load(Ordering::Relaxed) {
                return;
            }
            close_idle_clients(&state);
        }
    });
}

/// The `timeout` option: closes normal clients idle for longer than that many seconds.
/// MONITOR, pub/sub and blocked clients are exempt, as in Redis.
fn close_idle_clients(state: &ServerState) {
    let timeout = state.config.get_int("timeout");
    if timeout <= 0 {
        return;
    }
    let limit = Duration::from_secs(timeout as u64);
    let exempt = ClientFlags::MONITOR
        .union(ClientFlags::PUBSUB)
        .union(ClientFlags::BLOCKED);
    for client in state.clients.all() {
        if !client.flags().intersects(exempt) && client.idle() > limit {
            tracing::debug!("Closing idle client {}", client.addr);
            state.clients.kill(&client);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::listen_addr;

    #[test]
    fn bind_words_become_socket_addresses() {
        assert_eq!(listen_addr("127.0.0.1", 6379), "127.0.0.1:6379");
        assert_eq!(listen_addr("localhost", 6379), "localhost:6379");
        assert_eq!(listen_addr("*", 6380), "0.0.0.0:6380");
        assert_eq!(listen_addr("::*", 6380), "[::]:6380");
        assert_eq!(listen_addr("::1", 6379), "[::1]:6379");
        assert_eq!(listen_addr("fe80::1%eth0", 7), "[fe80::1%eth0]:7");
    }
}
