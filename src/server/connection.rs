//! One client connection: read, decode every complete request in the buffer, execute them in
//! order, encode all replies into one buffer and write it once (pipelining). While the
//! connection is in MONITOR mode it also writes the command feed as it arrives; it closes
//! when killed (CLIENT KILL, idle timeout), on shutdown, on a protocol error or when its query
//! buffer outgrows `client-query-buffer-limit`.
//!
//! While CLIENT PAUSE holds back the next command, the connection writes the replies it has,
//! keeps reading (so a client that hangs up is noticed) and waits for the pause to let the
//! command through; it shows as blocked (`b`) meanwhile, as in Redis.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::blocking::Wait;
use crate::clients::{ClientFlags, ClientHandle, ClientState, ReplyMode};
use crate::commands;
use crate::config::IntParam;
use crate::protocol::{self, Limits, Reply};
use crate::state::ServerState;

const READ_CHUNK: usize = 16 * 1024;

/// Read for every request.
static PROTO_MAX_BULK_LEN: IntParam = IntParam::new("proto-max-bulk-len");
/// Most bytes taken from the socket at once. Bounded, so that the query buffer only
/// outgrows `client-query-buffer-limit` because of one oversized request, never because a
/// pipeline of small ones arrived in a single read.
const MAX_READ: usize = 64 * 1024;

/// Registers an accepted connection, in accept order so client ids grow the way clients
/// connected, and starts serving it; over `maxclients` it is refused with Redis's error.
pub(super) fn accept(
    state: &Arc<ServerState>,
    stream: TcpStream,
    addr: SocketAddr,
    laddr: SocketAddr,
) {
    let max_clients = state.config.get_int("maxclients").max(1) as usize;
    let fd = i64::from(stream.as_raw_fd());
    match state.clients.register(addr, laddr, fd, max_clients) {
        Some(handle) => {
            tokio::spawn(serve(state.clone(), stream, handle));
        }
        None => {
            state
                .stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            tokio::spawn(refuse(stream));
        }
    }
}

async fn refuse(mut stream: TcpStream) {
    let _ = stream
        .write_all(b"-ERR max number of clients reached\r\n")
        .await;
}

async fn serve(state: Arc<ServerState>, mut stream: TcpStream, handle: Arc<ClientHandle>) {
    let needs_auth = !state.config.get("requirepass").is_empty();
    let mut client = ClientState::new(handle.clone(), !needs_auth);
    if let Err(e) = run(&state, &mut stream, &mut client).await {
        tracing::debug!("client {} closed: {e}", handle.addr);
    }
    crate::pubsub::leave_all(&state, &mut client);
    // A client that leaves while blocked stops waiting.
    state.blocking.cancel(handle.id);
    state.clients.unregister(handle.id);
}

/// What woke the connection up.
enum Wake {
    Read(usize),
    Monitor(Option<Bytes>),
    /// A pub/sub message for this connection.
    Message(Option<Reply>),
    /// The pause that held a command back let it through.
    Released,
    /// The blocking command this connection waits on has its reply (served, timed out, or
    /// CLIENT UNBLOCK).
    Unblocked(Reply),
}

/// A decoded command CLIENT PAUSE holds back.
struct Held {
    argv: Vec<Bytes>,
    /// Whether it writes or may replicate (a WRITE pause holds it too).
    writes: bool,
}

async fn run(
    state: &ServerState,
    stream: &mut TcpStream,
    client: &mut ClientState,
) -> std::io::Result<()> {
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut output = BytesMut::with_capacity(READ_CHUNK);
    let handle = client.handle.clone();
    let mut held: Option<Held> = None;
    let mut blocked: Option<Wait> = None;
    loop {
        if handle.is_killed() || state.shutting_down.load(Ordering::Relaxed) {
            return Ok(());
        }
        input.reserve(READ_CHUNK);
        let mut room = (&mut input).limit(MAX_READ);
        // `read_buf` is cancel safe: when another branch wins, no input is lost.
        let wake = tokio::select! {
            read = stream.read_buf(&mut room) => Wake::Read(read?),
            line = next_monitor_line(&mut client.monitor) => Wake::Monitor(line),
            frame = client.subscriptions.next() => Wake::Message(frame),
            _ = released(state, held.as_ref()) => Wake::Released,
            reply = unblocked(state, blocked.as_mut()) => Wake::Unblocked(reply),
            _ = handle.killed() => return Ok(()),
            _ = state.shutdown.notified() => return Ok(()),
        };
        let closing = match wake {
            Wake::Read(0) => return Ok(()),
            Wake::Read(read) => {
                handle.touch();
                state
                    .stats
                    .net_input_bytes
                    .fetch_add(read as u64, Ordering::Relaxed);
                if query_buffer_too_big(state, client, &input) {
                    return Ok(());
                }
                // Input behind a held or blocked command waits with it.
                held.is_none()
                    && blocked.is_none()
                    && process_input(
                        state,
                        client,
                        &mut input,
                        &mut output,
                        &mut held,
                        &mut blocked,
                    )
            }
            Wake::Released => process_input(
                state,
                client,
                &mut input,
                &mut output,
                &mut held,
                &mut blocked,
            ),
            Wake::Unblocked(reply) => {
                blocked = None;
                if client.reply_wanted() {
                    protocol::encode(&reply, client.protocol, &mut output);
                }
                process_input(
                    state,
                    client,
                    &mut input,
                    &mut output,
                    &mut held,
                    &mut blocked,
                )
            }
            Wake::Monitor(Some(line)) => {
                push_monitor_line(client, &mut output, &line);
                false
            }
            Wake::Message(frame) => {
                if let Some(frame) = frame {
                    push_frame(client, &mut output, &frame);
                }
                drain_messages(client, &mut output);
                false
            }
            Wake::Monitor(None) => {
                // Every sender is gone: nothing more can arrive.
                client.monitor = None;
                handle.set_flag(ClientFlags::MONITOR, false);
                false
            }
        };
        // Nothing follows the reply that closes the connection, not even feed lines.
        if !closing {
            drain_monitor_lines(client, &mut output);
        }
        // A client killed while its batch ran gets nothing more, as in Redis.
        if handle.is_killed() {
            return Ok(());
        }
        // Before the write, so a client that saw the replies also sees them in CLIENT LIST.
        publish_buffers(client, &input, &output);
        // What these replies acknowledge is in the AOF first (and on disk with
        // `appendfsync always`).
        if !output.is_empty() {
            if state.aof.syncs_before_reply() {
                synced_before_reply(state).await;
            } else {
                state.aof.before_reply();
            }
            // A slow reader that gets killed must not keep its task waiting on the socket.
            tokio::select! {
                written = stream.write_all(&output) => written?,
                _ = handle.killed() => return Ok(()),
            }
            handle.touch();
            state
                .stats
                .net_output_bytes
                .fetch_add(output.len() as u64, Ordering::Relaxed);
            output.clear();
        }
        if closing {
            return Ok(());
        }
    }
}

/// `client-query-buffer-limit`: like Redis, checked after each read and before parsing, and
/// the client is closed without a reply when the buffer is over the limit.
fn query_buffer_too_big(state: &ServerState, client: &ClientState, input: &BytesMut) -> bool {
    let limit = state.config.get_int("client-query-buffer-limit").max(1) as usize;
    if input.len() <= limit {
        return false;
    }
    tracing::warn!(
        "Closing client that reached max query buffer length: {} (qbuf initial bytes: \"{}\")",
        client.handle.describe(0),
        protocol::repr(&input[..input.len().min(64)])
    );
    true
}

/// Resolves when the pause holding a command back lets it through; never when none is held.
/// `appendfsync always`: waits until every record taken so far is on disk. One waiting
/// connection writes and fsyncs for all (off the async workers); the others wait for it
/// without holding a worker thread, so commands keep running meanwhile and the next fsync
/// covers all of them (group commit).
async fn synced_before_reply(state: &ServerState) {
    let mine = state.aof.taken();
    loop {
        let synced = state.aof.synced_event().notified();
        tokio::pin!(synced);
        synced.as_mut().enable();
        if state.aof.synced_through(mine) {
            return;
        }
        if crate::scripting::off_worker(|| state.aof.try_sync()).is_none() {
            // Whoever holds the file fsyncs next; the bound covers a holder that does not
            // (the once-a-second tick only writes).
            let _ = tokio::time::timeout(std::time::Duration::from_millis(2), synced).await;
            continue;
        }
        // Synced what was submitted; a record before ours may still belong to a command
        // in progress, whose connection fsyncs it when it ends: wait for that.
        let next = state.aof.synced_event().notified();
        tokio::pin!(next);
        next.as_mut().enable();
        if state.aof.synced_through(mine) {
            return;
        }
        let _ = tokio::time::timeout(std::time::Duration::from_millis(2), next).await;
    }
}

async fn released(state: &ServerState, held: Option<&Held>) {
    match held {
        Some(held) => state.clients.pause.released(held.writes).await,
        None => std::future::pending().await,
    }
}

/// The reply that ends this connection's wait on a blocking command: the one a write
/// served, or the timeout reply at the deadline. Never resolves while not blocked.
async fn unblocked(state: &ServerState, wait: Option<&mut Wait>) -> Reply {
    let Some(wait) = wait else {
        return std::future::pending().await;
    };
    let served = async {
        // The sender is dropped only when the wait was cancelled, which happens on exit.
        (&mut wait.reply).await.unwrap_or(Reply::NilArray)
    };
    let Some(deadline) = wait.deadline else {
        return served.await;
    };
    tokio::select! {
        reply = served => reply,
        _ = tokio::time::sleep_until(deadline.into()) => {
            match state.blocking.time_out(wait.client_id) {
                Some(reply) => {
                    commands::count_unblocked(state, &wait.command);
                    reply
                }
                // Served just before the deadline: that reply is on the channel.
                None => (&mut wait.reply).await.unwrap_or(Reply::NilArray),
            }
        }
    }
}

/// Whether CLIENT PAUSE holds `argv` back now; if so, what it is.
fn held_back(
    state: &ServerState,
    client: &ClientState,
    argv: &[Bytes],
) -> Option<commands::Pausable> {
    let pause = &state.clients.pause;
    if !pause.armed() {
        return None;
    }
    commands::pausable(client, argv)
        .filter(|command| pause.holds(command.writes, crate::keyspace::unix_ms()))
}

/// The next MONITOR feed line; never resolves outside monitor mode.
async fn next_monitor_line(feed: &mut Option<mpsc::UnboundedReceiver<Bytes>>) -> Option<Bytes> {
    match feed {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Appends a feed line as a status reply. CLIENT REPLY OFF silences the feed too.
fn push_monitor_line(client: &ClientState, output: &mut BytesMut, line: &[u8]) {
    if client.reply_mode == ReplyMode::Off {
        return;
    }
    output.reserve(line.len() + 3);
    output.put_u8(b'+');
    output.put_slice(line);
    output.put_slice(b"\r\n");
}

/// Moves every feed line already queued into `output`, so one write carries them all.
fn drain_monitor_lines(client: &mut ClientState, output: &mut BytesMut) {
    let Some(rx) = client.monitor.as_mut() else {
        return;
    };
    let mut lines = Vec::new();
    while let Ok(line) = rx.try_recv() {
        lines.push(line);
    }
    for line in lines {
        push_monitor_line(client, output, &line);
    }
}

/// Appends a pub/sub frame in the connection's protocol. CLIENT REPLY OFF silences it.
fn push_frame(client: &ClientState, output: &mut BytesMut, frame: &Reply) {
    if client.reply_mode != ReplyMode::Off {
        protocol::encode(frame, client.protocol, output);
    }
}

/// Moves every queued pub/sub frame (confirmations, messages) into `output`.
fn drain_messages(client: &mut ClientState, output: &mut BytesMut) {
    for frame in client.subscriptions.take_frames() {
        push_frame(client, output, &frame);
    }
}

/// Shows this batch's buffer sizes and last command in CLIENT LIST.
fn publish_buffers(client: &ClientState, input: &BytesMut, output: &BytesMut) {
    client.publish();
    let mut info = client.handle.info.lock();
    info.qbuf = input.len();
    info.qbuf_free = input.capacity() - input.len();
    info.rbs = output.capacity();
    info.rbp = output.len();
}

/// Executes the held command, if any, then every complete request in `input`, appending
/// replies to `output`. Stops at a command CLIENT PAUSE holds back, leaving it in `held`, and
/// at a command that blocks, leaving its wait in `blocked`. Returns true when the connection
/// must close after the replies are written.
fn process_input(
    state: &ServerState,
    client: &mut ClientState,
    input: &mut BytesMut,
    output: &mut BytesMut,
    held: &mut Option<Held>,
    blocked: &mut Option<Wait>,
) -> bool {
    loop {
        let was_held = held.is_some();
        let argv = match held.take() {
            Some(Held { argv, .. }) => argv,
            None => {
                let limits = Limits {
                    max_bulk_len: PROTO_MAX_BULK_LEN.get(&state.config),
                    authenticated: client.authenticated,
                };
                match protocol::decode_request(input, limits) {
                    Ok(Some(argv)) => argv,
                    Ok(None) => return false,
                    Err(e) => {
                        let reply = Reply::Error(format!("ERR Protocol error: {e}").into());
                        protocol::encode(&reply, client.protocol, output);
                        tracing::debug!("Protocol error from client {}: {e}", client.handle.addr);
                        return true;
                    }
                }
            }
        };
        if argv.is_empty() {
            continue;
        }
        if let Some(command) = held_back(state, client, &argv) {
            // CLIENT LIST shows the waiting command, as Redis does.
            client.last_cmd = Some(command.name);
            client.handle.set_flag(ClientFlags::BLOCKED, true);
            *held = Some(Held {
                argv,
                writes: command.writes,
            });
            return false;
        }
        if was_held {
            client.handle.set_flag(ClientFlags::BLOCKED, false);
        }
        // Messages that arrived before the command, then those it produced (its own
        // confirmations, or its own keyspace events) come before its reply, as in Redis.
        drain_messages(client, output);
        let reply = commands::execute(state, client, argv);
        drain_messages(client, output);
        // Clients blocked on keys this command wrote are served before its reply goes out.
        state.blocking.serve_ready(state);
        if let Some(request) = client.blocked.take() {
            *blocked = Some(state.blocking.wait(client, request));
            // Serves it at once if a write slipped in before it was registered.
            state.blocking.serve_ready(state);
            return false;
        }
        if client.reply_wanted() {
            protocol::encode(&reply, client.protocol, output);
        }
        if client.close_after_reply {
            return true;
        }
    }
}
