FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p drydock

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/drydock /usr/local/bin/drydock
EXPOSE 8000
CMD ["drydock", "serve"]
