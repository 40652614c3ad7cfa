//! Bearer tokens. `aftersales token create` prints a token once and stores
//! only its HMAC-SHA256 under a server secret, with the principal it stands
//! for (user, role, projects, contractor or owner) and its expiry.
//!
//! The store is two files in the data folder: `auth/secret.key` (32 random
//! bytes, created on first use, readable by the owner only) and
//! `auth/tokens.json` (the records, rewritten whole through a temporary
//! file and a rename, so a reader sees the old or the new file, never half
//! of one). The server and the CLI are separate processes: the server
//! looks at the file's modification time and length before each
//! authentication and reloads it when they change, so a revocation takes
//! effect on the next request.
//!
//! A token reads `ast_<id>_<secret>`: the id (public, shown by `token
//! list`, used by `token revoke`) finds the record; the secret (32 random
//! bytes, base64url) is checked against the stored HMAC in constant time.
//! Neither the secret nor the HMAC is ever logged.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use domain::actor::{Actor, Role};
use domain::ids::{ContractorId, OwnerId, ProjectId, UserId};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Why a token store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The request carries no token, or one this server never issued, or
    /// one that expired or was revoked. Deliberately one variant: the
    /// caller learns nothing about which.
    #[error("missing, unknown, expired or revoked token")]
    Unauthenticated,
    /// A token to create is inconsistent (e.g. a contractor without its
    /// company).
    #[error("{0}")]
    Invalid(String),
    /// No token has this id.
    #[error("no token has the id {0:?}")]
    UnknownId(String),
    /// The store's files could not be read or written.
    #[error("token store {path}: {reason}")]
    Storage {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Who a token stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The user recorded as the actor of every event.
    pub user: UserId,
    /// The role.
    pub role: Role,
    /// Projects a manager or engineer may work on (empty: every project,
    /// for the roles that are not scoped).
    #[serde(default)]
    pub projects: Vec<ProjectId>,
    /// The company of a contractor's worker.
    #[serde(default)]
    pub contractor: Option<ContractorId>,
    /// The archive record of an owner.
    #[serde(default)]
    pub owner: Option<OwnerId>,
}

impl Principal {
    /// The actor events record.
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.user.clone(),
            role: self.role,
            contractor: self.contractor.clone(),
            owner: self.owner.clone(),
        }
    }

    fn check(&self) -> Result<(), AuthError> {
        let invalid = |m: &str| Err(AuthError::Invalid(m.to_string()));
        match self.role {
            Role::System => invalid(
                "the system role is the server's own (`aftersales import` acts in it): \
                 no token or request identity may carry it",
            ),
            Role::Contractor if self.contractor.is_none() => invalid("a contractor token needs --contractor"),
            Role::Owner if self.owner.is_none() => invalid("an owner token needs --owner"),
            Role::Contractor | Role::Owner => Ok(()),
            _ if self.contractor.is_some() => invalid("--contractor is only for contractor tokens"),
            _ if self.owner.is_some() => invalid("--owner is only for owner tokens"),
            Role::Manager | Role::Engineer => Ok(()),
            _ if !self.projects.is_empty() => invalid("--project only scopes managers and engineers"),
            _ => Ok(()),
        }
    }
}

/// A stored token: everything but its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Public id.
    pub id: String,
    /// Who it stands for.
    pub principal: Principal,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// HMAC-SHA256 of the secret under the server secret, hex.
    hash: String,
}

impl TokenRecord {
    /// Whether it authenticates at `now`.
    pub fn active_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

#[derive(Default)]
struct Loaded {
    stamp: Option<(SystemTime, u64)>,
    tokens: Vec<TokenRecord>,
}

/// The token store of a data folder.
pub struct TokenStore {
    dir: PathBuf,
    secret: [u8; 32],
    loaded: RwLock<Loaded>,
}

const TOKENS: &str = "tokens.json";
const SECRET: &str = "secret.key";

fn storage(path: &Path, e: impl std::fmt::Display) -> AuthError {
    AuthError::Storage {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn random<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Storage {
        path: PathBuf::from("the system's random source"),
        reason: e.to_string(),
    })?;
    Ok(bytes)
}

impl TokenStore {
    /// Opens (creating if needed) the store in `data/auth`.
    pub fn open(data: &Path) -> Result<Self, AuthError> {
        let dir = data.join("auth");
        std::fs::create_dir_all(&dir).map_err(|e| storage(&dir, e))?;
        let secret_path = dir.join(SECRET);
        let secret = match std::fs::read(&secret_path) {
            Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| storage(&secret_path, "the server secret is not 32 bytes"))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = random::<32>()?;
                write_private(&secret_path, &secret)?;
                secret
            }
            Err(e) => return Err(storage(&secret_path, e)),
        };
        let store = Self {
            dir,
            secret,
            loaded: RwLock::new(Loaded::default()),
        };
        store.refresh()?;
        Ok(store)
    }

    fn path(&self) -> PathBuf {
        self.dir.join(TOKENS)
    }

    fn mac(&self, secret: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).unwrap_or_else(|_| {
            // HMAC takes keys of any length; this cannot happen.
            unreachable!("HMAC rejected a 32-byte key")
        });
        mac.update(secret);
        mac
    }

    /// Reloads the records if the file changed since the last look.
    fn refresh(&self) -> Result<(), AuthError> {
        let path = self.path();
        let stamp = match std::fs::metadata(&path) {
            Ok(m) => Some((m.modified().map_err(|e| storage(&path, e))?, m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(storage(&path, e)),
        };
        let current = self.loaded.read().map(|l| l.stamp).unwrap_or(None);
        if current == stamp && stamp.is_some() {
            return Ok(());
        }
        let tokens = match stamp {
            None => Vec::new(),
            Some(_) => {
                let text = std::fs::read_to_string(&path).map_err(|e| storage(&path, e))?;
                serde_json::from_str(&text).map_err(|e| storage(&path, e))?
            }
        };
        if let Ok(mut l) = self.loaded.write() {
            *l = Loaded { stamp, tokens };
        }
        Ok(())
    }

    fn save(&self, tokens: &[TokenRecord]) -> Result<(), AuthError> {
        let path = self.path();
        let text = serde_json::to_vec_pretty(tokens).map_err(|e| storage(&path, e))?;
        let temp = self.dir.join(format!("{TOKENS}.{}.tmp", std::process::id()));
        write_private(&temp, &text)?;
        std::fs::rename(&temp, &path).map_err(|e| storage(&path, e))?;
        if let Ok(dir) = std::fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        self.refresh()
    }

    /// Every record, oldest first.
    pub fn list(&self) -> Result<Vec<TokenRecord>, AuthError> {
        self.refresh()?;
        Ok(self.loaded.read().map(|l| l.tokens.clone()).unwrap_or_default())
    }

    /// Creates a token for `principal`, valid for `expires_in` (or until
    /// revoked). Returns the token (shown once, stored nowhere) and its
    /// record.
    pub fn create(
        &self,
        principal: Principal,
        expires_in: Option<TimeDelta>,
    ) -> Result<(String, TokenRecord), AuthError> {
        principal.check()?;
        if expires_in.is_some_and(|d| d <= TimeDelta::zero()) {
            return Err(AuthError::Invalid("the expiry must be in the future".into()));
        }
        let id: String = random::<5>()?.iter().map(|b| format!("{b:02x}")).collect();
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<32>()?);
        let hash: String = self
            .mac(secret.as_bytes())
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let now = Utc::now();
        let record = TokenRecord {
            id: id.clone(),
            principal,
            created_at: now,
            expires_at: expires_in.map(|d| now + d),
            revoked_at: None,
            hash,
        };
        let mut tokens = self.list()?;
        tokens.push(record.clone());
        self.save(&tokens)?;
        Ok((format!("ast_{id}_{secret}"), record))
    }

    /// Revokes the token `id`; it stops working on the next request.
    pub fn revoke(&self, id: &str) -> Result<TokenRecord, AuthError> {
        let mut tokens = self.list()?;
        let record = tokens
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or_else(|| AuthError::UnknownId(id.to_string()))?;
        if record.revoked_at.is_none() {
            record.revoked_at = Some(Utc::now());
        }
        let revoked = record.clone();
        self.save(&tokens)?;
        Ok(revoked)
    }

    /// The principal of a bearer token, if it is active now.
    pub fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        self.refresh()?;
        let (id, secret) = token
            .strip_prefix("ast_")
            .and_then(|rest| rest.split_once('_'))
            .ok_or(AuthError::Unauthenticated)?;
        let loaded = self.loaded.read().map_err(|_| AuthError::Unauthenticated)?;
        let record = loaded
            .tokens
            .iter()
            .find(|t| t.id == id)
            .ok_or(AuthError::Unauthenticated)?;
        let stored: Vec<u8> = (0..record.hash.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(record.hash.get(i..i + 2)?, 16).ok())
            .collect();
        self.mac(secret.as_bytes())
            .verify_slice(&stored)
            .map_err(|_| AuthError::Unauthenticated)?;
        if !record.active_at(Utc::now()) || record.principal.check().is_err() {
            return Err(AuthError::Unauthenticated);
        }
        Ok(record.principal.clone())
    }
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AuthError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| storage(path, e))?;
    file.write_all(bytes).map_err(|e| storage(path, e))?;
    file.sync_all().map_err(|e| storage(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            user: UserId::new("u-1").unwrap_or_else(|e| panic!("{e}")),
            role,
            projects: Vec::new(),
            contractor: None,
            owner: None,
        }
    }

    #[test]
    fn a_token_authenticates_until_revoked_and_only_its_hash_is_stored() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = TokenStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let (token, record) = store
            .create(principal(Role::Analyst), None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.authenticate(&token).ok(), Some(principal(Role::Analyst)));
        // The secret is everything after `ast_<id>_` (it may itself hold
        // `_`, so it is not the text after the last one).
        let secret = token
            .strip_prefix(&format!("ast_{}_", record.id))
            .unwrap_or_else(|| panic!("{token}"));
        assert!(secret.len() >= 20, "{token}");
        let file = std::fs::read_to_string(dir.path().join("auth/tokens.json")).unwrap_or_default();
        assert!(file.contains(&record.id));
        assert!(!file.contains(secret), "the secret must not be stored");
        // A second handle (another process) sees the revocation at once.
        let other = TokenStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        other.revoke(&record.id).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(store.authenticate(&token), Err(AuthError::Unauthenticated)));
        assert!(matches!(other.revoke("nope"), Err(AuthError::UnknownId(_))));
    }

    #[test]
    fn forged_tampered_and_expired_tokens_are_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = TokenStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let (token, record) = store
            .create(principal(Role::Agent), Some(TimeDelta::days(1)))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(store.authenticate(&token).is_ok());
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        for bad in [
            "",
            "Bearer",
            "ast_",
            &tampered,
            &format!("ast_{}_", record.id),
            &token.replace("ast_", "xyz_"),
        ] {
            assert!(store.authenticate(bad).is_err(), "{bad:?} was accepted");
        }
        // Another data folder has another secret: the same token fails.
        let elsewhere = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(elsewhere.path().join("auth")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::copy(
            dir.path().join("auth/tokens.json"),
            elsewhere.path().join("auth/tokens.json"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let other = TokenStore::open(elsewhere.path()).unwrap_or_else(|e| panic!("{e}"));
        assert!(other.authenticate(&token).is_err());
        // Expiry.
        let mut expired = record.clone();
        expired.expires_at = Some(Utc::now() - TimeDelta::seconds(1));
        assert!(!expired.active_at(Utc::now()));
        assert!(record.active_at(Utc::now()));
        assert!(store.create(principal(Role::Agent), Some(TimeDelta::zero())).is_err());
    }

    #[test]
    fn an_expired_token_stops_working() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = TokenStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let (token, record) = store
            .create(principal(Role::Agent), Some(TimeDelta::days(1)))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(store.authenticate(&token).is_ok());
        // A day passes: move the stored expiry into the past, as another
        // process would see the file.
        let path = dir.path().join("auth/tokens.json");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let expiry = record
            .expires_at
            .map(|e| serde_json::to_string(&e).unwrap_or_default())
            .unwrap_or_default();
        let past = serde_json::to_string(&(Utc::now() - TimeDelta::seconds(1))).unwrap_or_default();
        assert!(text.contains(&expiry), "{text}");
        std::fs::write(&path, text.replace(&expiry, &past)).unwrap_or_else(|e| panic!("{e}"));
        let other = TokenStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(other.authenticate(&token), Err(AuthError::Unauthenticated)));
    }

    #[test]
    fn principals_must_be_complete() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = TokenStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert!(store.create(principal(Role::Contractor), None).is_err());
        assert!(store.create(principal(Role::Owner), None).is_err());
        let mut analyst = principal(Role::Analyst);
        analyst.projects = vec![ProjectId::new("P01").unwrap_or_else(|e| panic!("{e}"))];
        assert!(store.create(analyst, None).is_err());
        let mut contractor = principal(Role::Contractor);
        contractor.contractor = Some(ContractorId::new("C-001").unwrap_or_else(|e| panic!("{e}")));
        let (token, _) = store.create(contractor.clone(), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            store.authenticate(&token).ok().map(|p| p.actor()),
            Some(contractor.actor())
        );
    }
}
