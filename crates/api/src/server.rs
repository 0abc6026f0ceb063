//! Serving the routes over TCP with hyper's own connection limits.
//!
//! `poem::Server` has no way to set hyper's header-read timeout, so a client
//! that trickles a request head one byte at a time would hold a connection
//! (and its task) forever. This accept loop is poem's, minus that gap: each
//! connection runs hyper-util's HTTP/1 + HTTP/2 builder with a timer, so a
//! head that does not arrive in full within `header_timeout` closes the
//! connection, idle keep-alive connections included. Bodies have their own
//! deadline in [`crate::middleware`].

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt};
use tokio::net::TcpListener;

/// How long in-flight requests may take to finish once shutdown begins.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves `routes` on `listener` until `shutdown` resolves, then lets
/// in-flight requests finish (for up to 30 s) before returning.
pub async fn serve(
    listener: TcpListener,
    routes: impl Endpoint + 'static,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let ep = Arc::new(routes.map_to_response());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let local = stream
            .local_addr()
            .map_or_else(|_| Addr::default(), Addr::from);
        let ep = ep.clone();
        let service = service_fn(move |req| {
            let ep = ep.clone();
            let request = (
                req,
                LocalAddr(local.clone()),
                RemoteAddr(Addr::from(peer)),
                Scheme::HTTP,
            )
                .into();
            async move {
                Ok::<poem::http::Response<_>, Infallible>(ep.get_response(request).await.into())
            }
        });
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, remote = %peer, "connection ended with an error");
            }
        });
    }
    tracing::info!("draining in-flight requests");
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the drain period were cut off");
    }
}
