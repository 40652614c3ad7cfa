//! Who is calling: a bearer token checked against the token store, or
//! trusted headers set by a gateway ([`Identity`]).

use std::sync::Arc;

use axum::http::HeaderMap;
use domain::actor::Role;
use domain::ids::{ContractorId, OwnerId, ProjectId, UserId};

use application::auth::{AuthError, Principal, TokenStore};

/// How the server learns who is calling.
#[derive(Clone)]
pub enum Identity {
    /// `Authorization: Bearer <token>` checked against the token store;
    /// no token or an unknown one is `UNAUTHENTICATED`. The default.
    Tokens(Arc<TokenStore>),
    /// The caller's identity in headers (`x-user-id`, `x-user-role`,
    /// `x-contractor-id`, `x-owner-id`, `x-projects`), trusted as given:
    /// only behind a gateway that authenticates every request and sets
    /// them itself, and in tests.
    TrustedHeaders,
}

/// The caller named by trusted headers (see [`Identity::TrustedHeaders`]);
/// without headers, the agent `anonymous`. A malformed or incomplete
/// identity is refused.
pub fn header_principal(headers: &HeaderMap) -> Result<Principal, String> {
    let text = |name: &str| -> Result<Option<&str>, String> {
        headers
            .get(name)
            .map(|v| v.to_str().map_err(|_| format!("{name} is not text")))
            .transpose()
    };
    let user = UserId::new(text("x-user-id")?.unwrap_or("anonymous")).map_err(|e| e.to_string())?;
    let role = match text("x-user-role")? {
        None => Role::Agent,
        Some(r) => r.parse::<Role>().map_err(|e| e.to_string())?,
    };
    if role == Role::System {
        return Err("x-user-role: system is the server's own role; no request may carry it".into());
    }
    let projects = match text("x-projects")? {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|p| ProjectId::new(p.trim()).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?,
    };
    let mut principal = Principal {
        user,
        role,
        projects,
        contractor: None,
        owner: None,
    };
    match role {
        Role::Contractor => {
            let company = text("x-contractor-id")?.ok_or("a contractor must name its company in x-contractor-id")?;
            principal.contractor = Some(ContractorId::new(company).map_err(|e| e.to_string())?);
        }
        Role::Owner => {
            let owner = text("x-owner-id")?.ok_or("an owner must name their record in x-owner-id")?;
            principal.owner = Some(OwnerId::new(owner).map_err(|e| e.to_string())?);
        }
        _ => {}
    }
    Ok(principal)
}

/// The bearer token of an `Authorization` value.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Who is calling, by the server's [`Identity`] mode. `authorization` is
/// the `Authorization` header's value (or the WebSocket connection
/// payload's).
pub(super) fn principal(
    identity: &Identity,
    headers: &HeaderMap,
    authorization: Option<&str>,
) -> Result<Principal, String> {
    match identity {
        Identity::TrustedHeaders => header_principal(headers),
        Identity::Tokens(store) => {
            let token = authorization
                .and_then(bearer)
                .ok_or("send a token: Authorization: Bearer <token> (aftersales token create)")?;
            store.authenticate(token).map_err(|e| match e {
                AuthError::Unauthenticated => "the token is unknown, expired or revoked".to_string(),
                other => {
                    tracing::error!("authenticating: {other}");
                    "the token could not be checked".to_string()
                }
            })
        }
    }
}
