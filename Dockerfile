# ferrostack in a container, a drop-in for redis/redis-stack-server:
#   docker build -t ferrostack .
#   docker run -p 6379:6379 ferrostack
# Like that image it listens on every interface with protected mode off, keeps its working
# directory in /data, and appends $REDIS_ARGS (and any arguments given to `docker run`) to
# the command line, so `-e REDIS_ARGS="--requirepass secret"` works the same.

# --- build ---
FROM rust:1-slim-bookworm AS builder
# gcc and make build the vendored C parts: jemalloc, Lua 5.1, simsimd.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Cargo.toml names the bench targets, so cargo wants their sources present to read it.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin ferrostack \
    && cp target/release/ferrostack /usr/local/bin/ferrostack

# --- run ---
FROM debian:bookworm-slim
RUN groupadd --system ferrostack \
    && useradd --system --gid ferrostack --home-dir /data ferrostack \
    && mkdir /data && chown ferrostack:ferrostack /data
COPY --from=builder /usr/local/bin/ferrostack /usr/local/bin/ferrostack
USER ferrostack
WORKDIR /data
VOLUME /data
EXPOSE 6379
ENV REDIS_ARGS=""
# sh -c so that $REDIS_ARGS splits into words as in redis-stack's entrypoint; "$@" are the
# arguments of `docker run IMAGE ...`. SIGTERM (docker stop) reaches ferrostack through exec.
ENTRYPOINT ["sh", "-c", "exec ferrostack --bind 0.0.0.0 --port 6379 --protected-mode no --dir /data $REDIS_ARGS \"$@\"", "ferrostack"]
