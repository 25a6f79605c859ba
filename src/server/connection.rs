//! One client connection: read, decode every complete request in the buffer, execute them in
//! order, encode all replies into one buffer and write it once (pipelining).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::clients::{ClientState, ReplyMode};
use crate::commands;
use crate::protocol::{self, Limits, Reply};
use crate::state::ServerState;

const READ_CHUNK: usize = 16 * 1024;

pub(super) async fn serve(
    state: Arc<ServerState>,
    mut stream: TcpStream,
    addr: SocketAddr,
    laddr: SocketAddr,
) {
    let max_clients = state.config.get_int("maxclients").max(1) as usize;
    if state.clients.len() >= max_clients {
        state
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    let handle = state.clients.register(addr, laddr);
    let needs_auth = !state.config.get("requirepass").is_empty();
    let mut client = ClientState::new(handle.clone(), !needs_auth);
    if let Err(e) = run(&state, &mut stream, &mut client).await {
        tracing::debug!("client {addr} closed: {e}");
    }
    state.clients.unregister(handle.id);
}

async fn run(
    state: &ServerState,
    stream: &mut TcpStream,
    client: &mut ClientState,
) -> std::io::Result<()> {
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut output = BytesMut::with_capacity(READ_CHUNK);
    let handle = client.handle.clone();
    loop {
        if handle.killed.load(Ordering::Relaxed) || state.shutting_down.load(Ordering::Relaxed) {
            return Ok(());
        }
        input.reserve(READ_CHUNK);
        let read = tokio::select! {
            read = stream.read_buf(&mut input) => read?,
            _ = handle.kill_signal.notified() => return Ok(()),
            _ = state.shutdown.notified() => return Ok(()),
        };
        if read == 0 {
            return Ok(());
        }
        state
            .stats
            .net_input_bytes
            .fetch_add(read as u64, Ordering::Relaxed);
        let closing = process_input(state, client, &mut input, &mut output);
        if !output.is_empty() {
            stream.write_all(&output).await?;
            state
                .stats
                .net_output_bytes
                .fetch_add(output.len() as u64, Ordering::Relaxed);
            output.clear();
        }
        if closing {
            return Ok(());
        }
        let limit = state.config.get_int("client-query-buffer-limit").max(1) as usize;
        if input.len() > limit {
            tracing::warn!(
                "Closing client that reached max query buffer length: {}",
                client.handle.addr
            );
            return Ok(());
        }
    }
}

/// Executes every complete request in `input`, appending replies to `output`. Returns true
/// when the connection must close after the replies are written.
fn process_input(
    state: &ServerState,
    client: &mut ClientState,
    input: &mut BytesMut,
    output: &mut BytesMut,
) -> bool {
    let mut last_cmd = None;
    loop {
        let limits = Limits {
            max_bulk_len: state.config.get_int("proto-max-bulk-len"),
            authenticated: client.authenticated,
        };
        let argv = match protocol::decode_request(input, limits) {
            Ok(Some(argv)) => argv,
            Ok(None) => break,
            Err(e) => {
                let reply = Reply::Error(format!("ERR Protocol error: {e}"));
                protocol::encode(&reply, client.protocol, output);
                tracing::debug!("Protocol error from client {}: {e}", client.handle.addr);
                return true;
            }
        };
        if argv.is_empty() {
            continue;
        }
        last_cmd = Some(argv[0].clone());
        let reply = commands::execute(state, client, argv);
        match client.reply_mode {
            ReplyMode::On => protocol::encode(&reply, client.protocol, output),
            ReplyMode::Off => {}
            ReplyMode::SkipNext => client.reply_mode = ReplyMode::Skipping,
            ReplyMode::Skipping => client.reply_mode = ReplyMode::On,
        }
        if client.close_after_reply {
            return true;
        }
    }
    if let Some(cmd) = last_cmd {
        let mut info = client.handle.info.lock();
        info.db = client.db;
        info.last_cmd = String::from_utf8_lossy(&cmd).to_ascii_lowercase();
        info.query_buf = input.len();
        drop(info);
        *client.handle.last_active.lock() = std::time::Instant::now();
    }
    false
}
