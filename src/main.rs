//! The `ferrostack` binary: redis-server style arguments -> configuration -> tokio runtime.

use std::process::ExitCode;

use ferrostack::config::Config;
use ferrostack::state::ServerState;

/// jemalloc, as in Redis: it is faster than glibc malloc under this server's many-thread
/// allocation pattern, fragments less, and its statistics give INFO's `used_memory`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-v" | "--version") => {
            println!(
                "ferrostack v={} (Redis {} compatible)",
                env!("CARGO_PKG_VERSION"),
                ferrostack::REDIS_VERSION
            );
            return ExitCode::SUCCESS;
        }
        Some("-h" | "--help") => {
            println!(
                "Usage: ferrostack [/path/to/redis.conf] [options]\n\
                 Options use redis.conf names: --port 6380 --bind 127.0.0.1 --requirepass pw\n\
                 Examples:\n  ferrostack\n  ferrostack /etc/redis/redis.conf --port 7777"
            );
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let config = match Config::from_args(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "ferrostack {} starting (Redis {} compatible), pid={}",
        env!("CARGO_PKG_VERSION"),
        ferrostack::REDIS_VERSION,
        std::process::id()
    );
    let state = ServerState::new(config);
    clean_up_after_crashes(&state);
    // Before listening: clients never see a half-loaded dataset (search indexes then fill
    // in the background, and adopt their saved HNSW graphs).
    let loaded = ferrostack::commands::graphs::load_adopting(&state, || {
        ferrostack::commands::snapshot::load_at_startup(&state)?;
        // As Redis: with appendonly on, the AOF is what is loaded.
        if state.config.get_bool("appendonly") {
            ferrostack::commands::aof::start(&state).inspect_err(|e| eprintln!("{e}"))?;
        }
        Ok::<(), String>(())
    });
    if let Err(message) = loaded {
        tracing::error!("{message}");
        return ExitCode::FAILURE;
    }
    ferrostack::commands::aof::spawn_ticker(state.clone());
    ferrostack::commands::server::start_sampler(state.clone());
    let served = runtime.block_on(ferrostack::server::run(state.clone()));
    // Whatever was appended reaches the disk before the process ends.
    state.aof.close();
    // With the AOF, the next start loads the graphs of the last rewrite unless newer ones
    // are written now (a final snapshot, if any, wrote them already).
    if state.config.get_bool("appendonly") {
        ferrostack::commands::graphs::save(&state);
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// Temporary files of saves, rewrites and graph writes that a killed server left in `dir`
/// go before anything is loaded (they are never read, but would fill the disk over time).
fn clean_up_after_crashes(state: &ServerState) {
    let dir = std::path::PathBuf::from(state.config.get("dir"));
    let removed: usize = [
        dir.clone(),
        dir.join(state.config.get("appenddirname")),
        ferrostack::persistence::graph_file::directory(&state.config.get("dir")),
    ]
    .iter()
    .map(|d| ferrostack::persistence::remove_stale_temp_files(d))
    .sum();
    if removed > 0 {
        tracing::info!("Removed {removed} temporary files left by interrupted saves");
    }
}

fn init_logging(config: &Config) {
    let level = match config.get("loglevel").as_str() {
        "debug" => tracing::Level::DEBUG,
        "verbose" | "notice" => tracing::Level::INFO,
        _ => tracing::Level::WARN,
    };
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal());
    let logfile = config.get("logfile");
    if logfile.is_empty() {
        builder.with_writer(std::io::stdout).init();
    } else {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&logfile)
        {
            Ok(file) => builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init(),
            Err(e) => {
                eprintln!("Can't open the log file {logfile}: {e}");
                builder.init();
            }
        }
    }
}
