//! `agent-mesh mcp --http HOST:PORT`: the MCP server over Streamable HTTP (rmcp's tower service
//! under axum), safe by default:
//!
//! - it binds what it is told, and the CLI defaults to 127.0.0.1;
//! - `POST /mcp` (and every other MCP request) needs `Authorization: Bearer <token>`; without
//!   it, or with another token, the answer is `401` with `WWW-Authenticate: Bearer`;
//! - no CORS headers are sent, and a browser request carrying an `Origin` header is refused
//!   unless that origin was allowed (`--allowed-origin`);
//! - on a loopback address only `localhost`/`127.0.0.1`/`::1` `Host` headers are accepted
//!   (DNS-rebinding protection); other addresses accept the hosts given with `--allowed-host`,
//!   or any host (the token still guards every request);
//! - `GET /health` answers `{"status": "ok", ...}` without a token, for load balancers.
//!
//! Sessions are not kept: every request is served on its own (Streamable HTTP's stateless
//! mode) and answered with `application/json`.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};

use super::MeshMcpServer;
use crate::client::MeshClient;
use crate::error::{Error, ErrorKind, Result};

/// The environment variable holding the bearer token of the HTTP server.
pub const ENV_TOKEN: &str = "AGENT_MESH_MCP_TOKEN";

/// How long open connections may take to finish once the server is told to stop.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Options of [`serve_http`].
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct HttpOptions {
    /// `HOST:PORT` to listen on (port 0 picks a free one).
    pub addr: String,
    /// The bearer token clients must send; `None` generates one (see [`BoundHttp::token`]).
    pub token: Option<String>,
    /// `Host` header values accepted besides the loopback names (for a public address).
    pub allowed_hosts: Vec<String>,
    /// Browser origins allowed to call the server (`https://app.example.com:443`); none by
    /// default, so a request carrying any `Origin` header is refused.
    pub allowed_origins: Vec<String>,
}

impl HttpOptions {
    /// Options listening on `addr` (`HOST:PORT`), with a generated token and no extra hosts
    /// or origins.
    pub fn new(addr: impl Into<String>) -> Self {
        HttpOptions {
            addr: addr.into(),
            ..Self::default()
        }
    }

    /// The same options with the bearer token `token` (`None`: a generated one).
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token;
        self
    }

    /// The same options accepting these `Host` header values too.
    pub fn with_allowed_hosts(mut self, hosts: Vec<String>) -> Self {
        self.allowed_hosts = hosts;
        self
    }

    /// The same options allowing requests from these browser origins.
    pub fn with_allowed_origins(mut self, origins: Vec<String>) -> Self {
        self.allowed_origins = origins;
        self
    }
}

/// Never shows the token.
impl std::fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpOptions")
            .field("addr", &self.addr)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("allowed_hosts", &self.allowed_hosts)
            .field("allowed_origins", &self.allowed_origins)
            .finish()
    }
}

/// A server bound to its address, ready to [`serve`](BoundHttp::serve).
pub struct BoundHttp {
    listener: tokio::net::TcpListener,
    router: Router,
    token: String,
    generated: bool,
    cancel: tokio_util::sync::CancellationToken,
}

impl std::fmt::Debug for BoundHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundHttp")
            .field("addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

/// A random 256-bit token, hex-encoded.
fn generate_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares in time independent of where the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `401` unless the request carries `Authorization: Bearer <token>`.
async fn require_token(
    State(token): State<std::sync::Arc<String>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme name is case-insensitive (RFC 7235).
        .and_then(|v| {
            v.get(..7)
                .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
                .map(|_| &v[7..])
        })
        .map(str::trim);
    match presented {
        Some(t) if same_secret(t.as_bytes(), token.as_bytes()) => next.run(request).await,
        _ => {
            let why = if presented.is_some() {
                "the bearer token is wrong"
            } else {
                "no bearer token was sent"
            };
            let mut response = Response::new(Body::from(format!(
                "401 Unauthorized: {why}. Send the header \"Authorization: Bearer <token>\" with the token agent-mesh mcp printed at start (or the one given with --token / {ENV_TOKEN}).\n"
            )));
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"agent-mesh\""),
            );
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            response
        }
    }
}

async fn health(State(backend): State<&'static str>) -> Response {
    let body = serde_json::json!({
        "status": "ok",
        "service": "agent-mesh",
        "version": env!("CARGO_PKG_VERSION"),
        "backend": backend,
    });
    let mut response = Response::new(Body::from(body.to_string()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Binds `options.addr` and builds the routes; the server does not answer until
/// [`BoundHttp::serve`] runs.
pub async fn serve_http(mesh: MeshClient, options: HttpOptions) -> Result<BoundHttp> {
    let operation = "mcp --http";
    let listener = tokio::net::TcpListener::bind(&options.addr).await.map_err(|e| {
        Error::new(
            ErrorKind::Config,
            format!(
                "{operation} {:?}: cannot listen there ({e}); pass a free HOST:PORT such as 127.0.0.1:8080 (port 0 picks a free one)",
                options.addr
            ),
        )
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::internal(operation, e))?;
    let (token, generated) = match options.token.filter(|t| !t.is_empty()) {
        Some(token) => (token, false),
        None => (generate_token(), true),
    };
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None);
    config = if !options.allowed_hosts.is_empty() {
        let mut hosts = options.allowed_hosts.clone();
        hosts.extend(["localhost", "127.0.0.1", "::1"].map(String::from));
        config.with_allowed_hosts(hosts)
    } else if is_loopback(&local) {
        config
    } else {
        config.disable_allowed_hosts()
    };
    config = if options.allowed_origins.is_empty() {
        config.enforce_origin_validation()
    } else {
        config.with_allowed_origins(options.allowed_origins.clone())
    };
    let cancel = config.cancellation_token.clone();
    let server = MeshMcpServer::new(mesh.clone());
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        std::sync::Arc::new(NeverSessionManager::default()),
        config,
    );
    let backend = match mesh.config() {
        crate::MeshConfig::Local { .. } => "local",
        crate::MeshConfig::Memory { .. } => "memory",
        crate::MeshConfig::Aws(_) => "aws",
    };
    let protected =
        Router::new()
            .nest_service("/mcp", service)
            .layer(middleware::from_fn_with_state(
                std::sync::Arc::new(token.clone()),
                require_token,
            ));
    let router = Router::new()
        .route("/health", get(health).with_state(backend))
        .merge(protected);
    Ok(BoundHttp {
        listener,
        router,
        token,
        generated,
        cancel,
    })
}

impl BoundHttp {
    /// The address the server listens on (with the port picked when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has an address")
    }

    /// The bearer token clients must send.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether the token was generated (none was given).
    pub fn token_generated(&self) -> bool {
        self.generated
    }

    /// Answers requests until `shutdown` completes, then stops accepting and ends the sessions.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let BoundHttp {
            listener,
            router,
            cancel,
            ..
        } = self;
        // Once `shutdown` fires, open sessions are cancelled and connections get
        // `SHUTDOWN_GRACE` to finish; a client that never completes its request (the token is
        // only checked once the headers are in) cannot hold the process past that.
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let sessions = cancel.clone();
        let graceful = async move {
            shutdown.await;
            sessions.cancel();
            let _ = stopping.send(());
        };
        let server = axum::serve(listener, router)
            .with_graceful_shutdown(graceful)
            .into_future();
        let deadline = async move {
            match stopped.await {
                Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
                Err(_) => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            result = server => result,
            () = deadline => Ok(()),
        };
        cancel.cancel();
        result.map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("mcp --http: the server stopped: {e}"),
            )
        })
    }
}
