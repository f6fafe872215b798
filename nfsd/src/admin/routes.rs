//! The admin API's routes, its authentication, and the one place where
//! errors become HTTP statuses.
//!
//! [`ROUTES`] is the list of routes: the router is built from it and the
//! OpenAPI document is checked against it (a test), so neither can name a
//! route the other lacks. Every route needs the bearer token except those
//! marked public; unknown paths need it too, so an unauthenticated caller
//! learns nothing about which routes exist.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::{Json, Router};
use serde::Serialize;

use super::auth::Token;
use super::backend::{AdminBackend, AdminError, ClusterStatus, ExportInfo, NewNode, NodeChange};
use super::metrics::{self, ProcessInfo};

/// The OpenAPI 3.0 document of this API.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone who can connect.
    Public,
    /// Anyone, unless `[admin] metrics_require_token` is set.
    Metrics,
    /// Only with `Authorization: Bearer <token>`.
    Token,
}

/// One route of the API.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

/// Every route served.
pub const ROUTES: &[Route] = &[
    Route { method: "GET", path: "/healthz", access: Access::Public },
    Route { method: "GET", path: "/metrics", access: Access::Metrics },
    Route { method: "GET", path: "/v1/cluster", access: Access::Token },
    Route { method: "GET", path: "/v1/exports", access: Access::Token },
    Route { method: "GET", path: "/v1/openapi.json", access: Access::Token },
    Route { method: "POST", path: "/v1/nodes", access: Access::Token },
    Route { method: "DELETE", path: "/v1/nodes/{id}", access: Access::Token },
];

/// What the handlers share.
pub struct AppState<B> {
    pub backend: Arc<B>,
    pub nfs_metrics: Arc<nfs_server::Metrics>,
    pub token: Token,
    pub metrics_require_token: bool,
    pub info: ProcessInfo,
}

type Shared<B> = Arc<AppState<B>>;

/// The router of [`ROUTES`], with authentication and JSON errors.
pub fn router<B: AdminBackend>(state: Shared<B>) -> Router {
    let mut r = Router::new();
    for route in ROUTES {
        r = r.route(route.path, handler(route));
    }
    r.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), authenticate::<B>))
        .with_state(state)
}

/// The handler of one route of [`ROUTES`].
fn handler<B: AdminBackend>(route: &Route) -> MethodRouter<Shared<B>> {
    match (route.method, route.path) {
        ("GET", "/healthz") => get(healthz),
        ("GET", "/metrics") => get(prometheus::<B>),
        ("GET", "/v1/cluster") => get(cluster::<B>),
        ("GET", "/v1/exports") => get(exports::<B>),
        ("GET", "/v1/openapi.json") => get(openapi),
        ("POST", "/v1/nodes") => axum::routing::post(add_node::<B>),
        ("DELETE", "/v1/nodes/{id}") => axum::routing::delete(remove_node::<B>),
        (m, p) => panic!("route {m} {p} is listed in ROUTES but has no handler"),
    }
}

/// An error answer: `{"error": "...", "code": "..."}` with its status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    code: &'a str,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        let (status, code) = match &e {
            AdminError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AdminError::Invalid(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AdminError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AdminError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            AdminError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status.is_server_error() {
            tracing::warn!(error = %e, "admin request failed");
        }
        ApiError::new(status, code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: &self.message, code: self.code };
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = if self.code == "invalid_token" {
                "Bearer realm=\"cairn\", error=\"invalid_token\""
            } else {
                "Bearer realm=\"cairn\""
            };
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        r
    }
}

/// Let the request through when its route is public or it carries the
/// token (RFC 6750 §2.1); 401 otherwise.
async fn authenticate<B: AdminBackend>(
    State(s): State<Shared<B>>,
    req: Request,
    next: Next,
) -> Response {
    let access =
        ROUTES.iter().find(|r| r.path == req.uri().path()).map_or(Access::Token, |r| r.access);
    let public = match access {
        Access::Public => true,
        Access::Metrics => !s.metrics_require_token,
        Access::Token => false,
    };
    if !public {
        match bearer(req.headers()) {
            None => {
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "this route needs the header Authorization: Bearer <admin token>",
                )
                .into_response()
            }
            Some(t) if !s.token.matches(t) => {
                tracing::info!(path = req.uri().path(), "admin request with a wrong token");
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the admin token does not match",
                )
                .into_response();
            }
            Some(_) => {}
        }
    }
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let response = next.run(req).await;
    tracing::debug!(%method, path, status = response.status().as_u16(), "admin request");
    response
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(h: &HeaderMap) -> Option<&str> {
    let v = h.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn not_found(method: Method, req: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route {method} {}; GET /v1/openapi.json lists them", req.uri().path()),
    )
}

async fn method_not_allowed(method: Method, req: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept {method}", req.uri().path()),
    )
}

#[derive(Serialize)]
struct Healthz {
    status: &'static str,
}

/// Liveness: the process answers. Says nothing about the cluster.
async fn healthz() -> Json<Healthz> {
    Json(Healthz { status: "ok" })
}

async fn prometheus<B: AdminBackend>(State(s): State<Shared<B>>) -> Response {
    let mut text = String::with_capacity(16 * 1024);
    metrics::render(&mut text, &s.info, s.backend.as_ref(), &s.nfs_metrics).await;
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}

async fn cluster<B: AdminBackend>(
    State(s): State<Shared<B>>,
) -> Result<Json<ClusterStatus>, ApiError> {
    Ok(Json(s.backend.status().await?))
}

#[derive(Serialize)]
struct Exports {
    exports: Vec<ExportInfo>,
}

async fn exports<B: AdminBackend>(State(s): State<Shared<B>>) -> Result<Json<Exports>, ApiError> {
    Ok(Json(Exports { exports: s.backend.exports().await? }))
}

/// Header a member sets when it forwards a membership request to the
/// leader: how many members forwarded it so far.
pub const FORWARD_HOPS_HEADER: &str = "cairn-forward-hops";

/// The forward count of a request (0 when not forwarded or unreadable).
fn hops(h: &HeaderMap) -> u8 {
    h.get(FORWARD_HOPS_HEADER).and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(0)
}

async fn add_node<B: AdminBackend>(
    State(s): State<Shared<B>>,
    headers: HeaderMap,
    body: Result<Json<NewNode>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NodeChange>, ApiError> {
    let Json(node) =
        body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    Ok(Json(s.backend.add_node(node, hops(&headers)).await?))
}

async fn remove_node<B: AdminBackend>(
    State(s): State<Shared<B>>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<u64>,
) -> Result<Json<NodeChange>, ApiError> {
    Ok(Json(s.backend.remove_node(id, hops(&headers)).await?))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn openapi() -> serde_json::Value {
        serde_json::from_str(OPENAPI_JSON).expect("openapi.json is JSON")
    }

    #[test]
    fn every_route_is_in_the_openapi_document_and_nothing_else() {
        let doc = openapi();
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.0")));
        let paths = doc["paths"].as_object().expect("paths");
        let mut documented = BTreeSet::new();
        for (path, item) in paths {
            for (method, op) in item.as_object().expect("path item") {
                documented.insert((method.to_uppercase(), path.clone()));
                let route = ROUTES
                    .iter()
                    .find(|r| r.path == path && r.method.eq_ignore_ascii_case(method))
                    .unwrap_or_else(|| panic!("{method} {path} is documented but not routed"));
                // Public routes say so (`security: []`); the others inherit
                // the document's bearer requirement.
                let open = op["security"].as_array().is_some_and(|s| s.is_empty());
                assert_eq!(open, route.access != Access::Token, "security of {method} {path}");
                assert!(op["responses"]["200"].is_object(), "200 of {method} {path}");
                if route.access != Access::Public {
                    assert!(op["responses"]["401"].is_object(), "401 of {method} {path}");
                }
            }
        }
        let routed: BTreeSet<_> =
            ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
        assert_eq!(routed.len(), ROUTES.len(), "a route is listed twice");
        assert_eq!(documented, routed);
        assert!(doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer");
        assert!(doc["security"][0]["bearer"].is_array());
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc = openapi();
        fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                        out.push(r.to_string());
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let ptr = r.strip_prefix('#').expect("local reference");
            assert!(doc.pointer(ptr).is_some(), "{r} does not resolve");
        }
    }

    #[test]
    fn the_documented_status_matches_what_is_served() {
        let s = crate::admin::backend::sample_status();
        let doc = openapi();
        let check = |value: serde_json::Value, schema: &str| {
            let props = doc["components"]["schemas"][schema]["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("schema {schema}"));
            let fields = value.as_object().expect("object");
            let a: BTreeSet<_> = props.keys().collect();
            let b: BTreeSet<_> = fields.keys().collect();
            assert_eq!(a, b, "fields of {schema}");
            let required =
                doc["components"]["schemas"][schema]["required"].as_array().expect("required");
            assert_eq!(required.len(), props.len(), "{schema}: every field is always present");
        };
        let v = serde_json::to_value(&s).expect("json");
        check(v["members"][0].clone(), "Member");
        check(v, "ClusterStatus");
        let rules = nfs_server::ExportRules {
            path: "/".into(),
            clients: vec!["*".parse().expect("cidr")],
            read_only: false,
            squash: nfs_server::Squash::Root,
            anon_uid: 1,
            anon_gid: 1,
            insecure: false,
            allow_devices: false,
        };
        let mut export = ExportInfo::from(&rules);
        check(serde_json::to_value(&export).expect("json"), "Export");
        export.replicas = Some(2);
        check(serde_json::to_value(&export).expect("json"), "Export");
    }
}
