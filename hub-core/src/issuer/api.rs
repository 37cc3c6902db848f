//! The issuer's HTTP endpoints: discovery, JWKS, token (RFC 6749 form posts and JSON errors),
//! authorize with a minimal login form.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::service::{AuthorizeRequest, ClientAuth, TokenRequest};
use super::{IssuerError, LocalIssuer};

pub fn router(issuer: LocalIssuer) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/oauth-authorization-server", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", axum::routing::post(token))
        .route("/authorize", get(authorize_form).post(authorize_login))
        .with_state(issuer)
}

impl IssuerError {
    /// The RFC 6749 §5.2 error code and HTTP status.
    fn oauth(&self) -> (&'static str, StatusCode) {
        match self {
            Self::InvalidClient => ("invalid_client", StatusCode::UNAUTHORIZED),
            Self::InvalidGrant(_) => ("invalid_grant", StatusCode::BAD_REQUEST),
            Self::InvalidRequest(_) => ("invalid_request", StatusCode::BAD_REQUEST),
            Self::InvalidTarget(_) => ("invalid_target", StatusCode::BAD_REQUEST),
            Self::UnauthorizedClient(_) => ("unauthorized_client", StatusCode::BAD_REQUEST),
            Self::UnsupportedGrantType(_) => ("unsupported_grant_type", StatusCode::BAD_REQUEST),
            Self::AccessDenied => ("access_denied", StatusCode::UNAUTHORIZED),
            Self::Exists(_) => ("invalid_request", StatusCode::CONFLICT),
            Self::NotFound(_) => ("invalid_request", StatusCode::NOT_FOUND),
            Self::NotInitialized(_) | Self::File { .. } | Self::Io { .. } | Self::Internal(_) => {
                ("server_error", StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// The description safe to show: server-side causes stay in the log.
    fn description(&self) -> String {
        match self.oauth().1 {
            StatusCode::INTERNAL_SERVER_ERROR => {
                tracing::error!(error = %self, "issuer request failed");
                "internal error".into()
            }
            _ => self.to_string(),
        }
    }
}

impl IntoResponse for IssuerError {
    fn into_response(self) -> Response {
        let (code, status) = self.oauth();
        let body = json!({"error": code, "error_description": self.description()});
        let mut res = (status, axum::Json(body)).into_response();
        if matches!(self, Self::InvalidClient) {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"hubmesh\""),
            );
        }
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }
}

async fn discovery(State(issuer): State<LocalIssuer>) -> impl IntoResponse {
    let base = issuer.issuer_url();
    axum::Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

async fn jwks(State(issuer): State<LocalIssuer>) -> impl IntoResponse {
    axum::Json(issuer.jwks())
}

/// Form or query parameters, where some (`resource`) may repeat.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(text: &str) -> Result<Self, IssuerError> {
        serde_urlencoded::from_str(text)
            .map(Params)
            .map_err(|_| IssuerError::InvalidRequest("unreadable form".into()))
    }

    /// A parameter that may appear at most once (RFC 6749 §3.1).
    fn opt(&self, name: &str) -> Result<Option<String>, IssuerError> {
        let mut values = self.0.iter().filter(|(k, _)| k == name);
        match (values.next(), values.next()) {
            (_, Some(_)) => Err(IssuerError::InvalidRequest(format!("{name} given twice"))),
            (v, None) => Ok(v.map(|(_, v)| v.clone()).filter(|v| !v.is_empty())),
        }
    }

    fn one(&self, name: &str) -> Result<String, IssuerError> {
        self.opt(name)?
            .ok_or_else(|| IssuerError::InvalidRequest(format!("{name} is required")))
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// One form-urlencoded component decoded (`+` is a space, `%XX` a byte).
fn form_decode(part: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={part}")).ok()?;
    pairs.into_iter().next().map(|(_, v)| v)
}

/// Client authentication: `client_secret_basic`, `client_secret_post`, or a public client's id.
fn client_auth(headers: &HeaderMap, params: &Params) -> Result<ClientAuth, IssuerError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let basic = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| STANDARD.decode(b.trim()).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(IssuerError::InvalidClient)?;
        let (id, secret) = basic.split_once(':').ok_or(IssuerError::InvalidClient)?;
        return Ok(ClientAuth {
            client_id: form_decode(id).ok_or(IssuerError::InvalidClient)?,
            secret: Some(form_decode(secret).ok_or(IssuerError::InvalidClient)?),
        });
    }
    Ok(ClientAuth {
        client_id: params
            .one("client_id")
            .map_err(|_| IssuerError::InvalidClient)?,
        secret: params.opt("client_secret")?,
    })
}

async fn token(
    State(issuer): State<LocalIssuer>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, IssuerError> {
    let params = Params::parse(std::str::from_utf8(&body).unwrap_or(""))?;
    let auth = client_auth(&headers, &params)?;
    let resources = params.all("resource");
    let req = match params.one("grant_type")?.as_str() {
        "client_credentials" => TokenRequest::ClientCredentials { resources },
        "authorization_code" => TokenRequest::AuthorizationCode {
            code: params.one("code")?,
            redirect_uri: params.one("redirect_uri")?,
            code_verifier: params.one("code_verifier")?,
            resources,
        },
        "refresh_token" => TokenRequest::RefreshToken {
            refresh_token: params.one("refresh_token")?,
            resources,
        },
        other => return Err(IssuerError::UnsupportedGrantType(other.to_owned())),
    };
    let res = issuer.token(auth, req).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], axum::Json(res)).into_response())
}

fn authorize_request(params: &Params) -> Result<AuthorizeRequest, IssuerError> {
    Ok(AuthorizeRequest {
        response_type: params.one("response_type")?,
        client_id: params.one("client_id")?,
        redirect_uri: params.one("redirect_uri")?,
        code_challenge: params.opt("code_challenge")?.unwrap_or_default(),
        code_challenge_method: params.opt("code_challenge_method")?.unwrap_or_default(),
        state: params.opt("state")?,
        scope: params.opt("scope")?,
        resources: params.all("resource"),
    })
}

/// Where an authorization request goes wrong: shown to the user, or sent back to the client.
enum AuthorizeFailure {
    Page(IssuerError),
    Redirect(String),
}

impl IntoResponse for AuthorizeFailure {
    fn into_response(self) -> Response {
        match self {
            Self::Page(e) => (
                e.oauth().1,
                page(format!("<p class=err>{}</p>", escape(&e.description()))),
            )
                .into_response(),
            Self::Redirect(url) => Redirect::to(&url).into_response(),
        }
    }
}

/// Parses and checks an authorization request; client and redirect problems are shown, the
/// rest is returned to the (by then trusted) redirect URI as RFC 6749 §4.1.2.1 says.
fn checked_request(
    issuer: &LocalIssuer,
    params: &Params,
) -> Result<AuthorizeRequest, AuthorizeFailure> {
    let req = authorize_request(params).map_err(AuthorizeFailure::Page)?;
    issuer
        .authorize_client(&req)
        .map_err(AuthorizeFailure::Page)?;
    issuer.authorize_params(&req).map_err(|e| {
        let mut url = reqwest::Url::parse(&req.redirect_uri).expect("checked by authorize_client");
        url.query_pairs_mut()
            .append_pair("error", e.oauth().0)
            .append_pair("error_description", &e.description());
        if let Some(state) = &req.state {
            url.query_pairs_mut().append_pair("state", state);
        }
        AuthorizeFailure::Redirect(url.into())
    })?;
    Ok(req)
}

async fn authorize_form(
    State(issuer): State<LocalIssuer>,
    RawQuery(query): RawQuery,
) -> Result<Response, AuthorizeFailure> {
    let params = Params::parse(query.as_deref().unwrap_or("")).map_err(AuthorizeFailure::Page)?;
    let req = checked_request(&issuer, &params)?;
    Ok(login_form(&req, None).into_response())
}

async fn authorize_login(
    State(issuer): State<LocalIssuer>,
    body: Bytes,
) -> Result<Response, AuthorizeFailure> {
    let params =
        Params::parse(std::str::from_utf8(&body).unwrap_or("")).map_err(AuthorizeFailure::Page)?;
    let req = checked_request(&issuer, &params)?;
    let user = params
        .opt("username")
        .map_err(AuthorizeFailure::Page)?
        .unwrap_or_default();
    let password = params
        .opt("password")
        .map_err(AuthorizeFailure::Page)?
        .unwrap_or_default();
    match issuer.login(&req, &user, &password).await {
        Ok(url) => Ok(Redirect::to(&url).into_response()),
        Err(IssuerError::AccessDenied) => Ok((
            StatusCode::UNAUTHORIZED,
            login_form(&req, Some("wrong user name or password")),
        )
            .into_response()),
        Err(e) => Err(AuthorizeFailure::Page(e)),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(body: String) -> impl IntoResponse {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ],
        Html(format!(
            "<!doctype html><html><head><meta charset=utf-8><title>Hubmesh sign-in</title>\
             <style>body{{font-family:sans-serif;max-width:22em;margin:4em auto}}\
             input{{display:block;width:100%;margin:.3em 0 1em}}.err{{color:#b00}}</style>\
             </head><body><h1>Hubmesh</h1>{body}</body></html>"
        )),
    )
}

/// The login form; the authorization request rides along in hidden fields.
fn login_form(req: &AuthorizeRequest, error: Option<&str>) -> impl IntoResponse {
    let mut hidden = vec![
        ("response_type", req.response_type.as_str()),
        ("client_id", &req.client_id),
        ("redirect_uri", &req.redirect_uri),
        ("code_challenge", &req.code_challenge),
        ("code_challenge_method", &req.code_challenge_method),
    ];
    if let Some(state) = &req.state {
        hidden.push(("state", state));
    }
    if let Some(scope) = &req.scope {
        hidden.push(("scope", scope));
    }
    hidden.extend(req.resources.iter().map(|r| ("resource", r.as_str())));
    let fields: String = hidden
        .into_iter()
        .map(|(k, v)| format!("<input type=hidden name=\"{k}\" value=\"{}\">", escape(v)))
        .collect();
    let error = error
        .map(|e| format!("<p class=err>{}</p>", escape(e)))
        .unwrap_or_default();
    page(format!(
        "<p>Sign in for <b>{}</b></p>{error}<form method=post action=\"authorize\">{fields}\
         <label>User name<input name=username autocomplete=username required autofocus></label>\
         <label>Password<input name=password type=password autocomplete=current-password required></label>\
         <button type=submit>Sign in</button></form>",
        escape(&req.client_id)
    ))
}
