//! Reference data that operators own (基础数据): business calendars,
//! service policies and warranty rules, published as versions into the
//! log like everything else, so that every deadline can be explained and
//! replayed from the log alone.
//!
//! All publications live in one record, the stream `reference-data`: a
//! publication is rare, and one stream lets the service load every
//! version with a single read when it opens. Each event holds the file's
//! text exactly as published (comments included: the notice a calendar
//! was written from), where it came from, and its SHA-256.
//!
//! A version is published once and never edited: publishing a different
//! file under a published version is refused, and a new version must come
//! after every published one of the same calendar, policy or rules (see
//! [`compare_versions`]). Every problem of a file is listed at once
//! ([`DomainError::RefusedReferenceData`]); nothing is appended unless
//! there is none. The files shipped with the build are the first versions
//! of every new data folder.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::actor::{Actor, Role};
use crate::calendar::{self, compare_versions, BusinessCalendar, CalendarRegistry, CN_MAINLAND_TOML};
use crate::decider::{Context, Decider, Stamped};
use crate::error::DomainError;
use crate::ids::ProjectId;
use crate::policy::{self, PolicyRef, ServicePolicy, DEFAULT_POLICY_TOML};
use crate::warranty::{self, WarrantyRules, DEFAULT_WARRANTY_TOML};

/// The name of the one reference record (its stream is `reference-data`).
pub const RECORD: &str = "data";

/// Largest file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// Who may publish: the archive's roles.
const PUBLISHER_ROLES: &[Role] = &[Role::Admin, Role::System];

/// Which kind of reference data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ReferenceKind {
    /// A business calendar (holidays and adjusted working days).
    Calendar,
    /// A service policy (response targets).
    Policy,
    /// Warranty rules (warranty periods).
    Warranty,
}

impl ReferenceKind {
    /// Every kind.
    pub const ALL: [ReferenceKind; 3] = [ReferenceKind::Calendar, ReferenceKind::Policy, ReferenceKind::Warranty];

    /// The kind in staff words.
    pub fn label(self) -> &'static str {
        match self {
            ReferenceKind::Calendar => "business calendar",
            ReferenceKind::Policy => "service policy",
            ReferenceKind::Warranty => "warranty rules",
        }
    }

    /// Name as the command line and the API spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReferenceKind::Calendar => "calendar",
            ReferenceKind::Policy => "policy",
            ReferenceKind::Warranty => "warranty",
        }
    }
}

impl fmt::Display for ReferenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One published version, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    /// The calendar's, policy's or rules' name (`cn-mainland`, `default`).
    pub id: String,
    /// Its version (`2027.1`).
    pub version: String,
    /// The file's text, exactly as published.
    pub text: String,
    /// Where it came from: the file name the operator gave, or
    /// `bundled:<path>` for the files shipped with the build.
    pub source: String,
    /// SHA-256 of `text`, lower-case hex.
    pub sha256: String,
}

/// Events of the reference record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReferenceEvent {
    /// A business calendar version was published.
    CalendarPublished(Publication),
    /// A service policy version was published.
    PolicyPublished(Publication),
    /// A warranty rules version was published.
    WarrantyPublished(Publication),
}

impl ReferenceEvent {
    /// Stored event name.
    pub fn name(&self) -> &'static str {
        match self {
            ReferenceEvent::CalendarPublished(_) => "CalendarPublished",
            ReferenceEvent::PolicyPublished(_) => "PolicyPublished",
            ReferenceEvent::WarrantyPublished(_) => "WarrantyPublished",
        }
    }

    /// Every stored event name.
    pub const NAMES: [&'static str; 3] = ["CalendarPublished", "PolicyPublished", "WarrantyPublished"];

    /// The kind and the publication.
    pub fn parts(&self) -> (ReferenceKind, &Publication) {
        match self {
            ReferenceEvent::CalendarPublished(p) => (ReferenceKind::Calendar, p),
            ReferenceEvent::PolicyPublished(p) => (ReferenceKind::Policy, p),
            ReferenceEvent::WarrantyPublished(p) => (ReferenceKind::Warranty, p),
        }
    }
}

/// A published version with who published it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Which kind.
    pub kind: ReferenceKind,
    /// The publication.
    pub publication: Publication,
    /// When.
    pub at: DateTime<Utc>,
    /// By whom.
    pub actor: Actor,
}

/// Every version published so far, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferenceState(pub Vec<Published>);

impl ReferenceState {
    /// The versions of one calendar, policy or rules, in publication order.
    pub fn versions<'a>(&'a self, kind: ReferenceKind, id: &'a str) -> impl Iterator<Item = &'a Published> + 'a {
        self.0.iter().filter(move |p| p.kind == kind && p.publication.id == id)
    }

    /// The newest version of one calendar, policy or rules.
    pub fn latest(&self, kind: ReferenceKind, id: &str) -> Option<&Published> {
        self.0
            .iter()
            .filter(|p| p.kind == kind && p.publication.id == id)
            .max_by(|a, b| compare_versions(&a.publication.version, &b.publication.version))
    }
}

/// Commands on the reference record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceCommand {
    /// Publish a file as a new version.
    Publish {
        /// Which kind of file.
        kind: ReferenceKind,
        /// Its text.
        text: String,
        /// Where it came from (a file name).
        source: String,
    },
}

/// What a publication is checked against besides the published versions.
#[derive(Clone, Copy)]
pub struct PublishReference<'r> {
    /// Whether a project exists (a policy or rules file may name
    /// projects).
    pub project_exists: &'r dyn Fn(&ProjectId) -> bool,
    /// The calendar business days of a policy's targets are measured on
    /// when their order is checked.
    pub calendar: &'r BusinessCalendar,
}

impl fmt::Debug for PublishReference<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishReference")
            .field("calendar", &self.calendar.reference())
            .finish_non_exhaustive()
    }
}

/// Whether `actor` may publish reference data.
pub fn authorize(actor: &Actor) -> Result<(), DomainError> {
    if PUBLISHER_ROLES.contains(&actor.role) {
        Ok(())
    } else {
        Err(DomainError::Forbidden {
            actor: actor.to_string(),
            action: "publish reference data",
            reason: format!(
                "the {} role cannot publish calendars, policies or warranty rules",
                actor.role
            ),
        })
    }
}

/// SHA-256 of a text, lower-case hex.
pub fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The name and version a file declares (`id` defaults to `default` for
/// warranty rules, whose files long had none).
pub fn declared(kind: ReferenceKind, text: &str) -> Result<(String, String), Vec<String>> {
    let table: toml::Table = toml::from_str(text).map_err(|e| vec![format!("the file does not parse: {e}")])?;
    let field = |name: &str| table.get(name).and_then(toml::Value::as_str).map(str::to_string);
    let id = match (field("id"), kind) {
        (Some(id), _) => Some(id),
        (None, ReferenceKind::Warranty) => Some("default".to_string()),
        (None, _) => None,
    };
    let mut problems = Vec::new();
    let id = id.unwrap_or_else(|| {
        problems.push("the file has no `id`".to_string());
        String::new()
    });
    let version = field("version").unwrap_or_else(|| {
        problems.push("the file has no `version`".to_string());
        String::new()
    });
    if !version.is_empty()
        && !version
            .split('.')
            .all(|part| !part.is_empty() && part.len() <= 9 && part.chars().all(|c| c.is_ascii_digit()))
    {
        problems.push(format!(
            "`version` {version:?} must be numbers separated by dots (2027.1), so that versions order"
        ));
    }
    for (what, value) in [("id", &id), ("version", &version)] {
        if !value.is_empty()
            && (value.len() > 64
                || !value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        {
            problems.push(format!(
                "`{what}` {value:?} must be 1 to 64 letters, digits, dots, dashes or underscores"
            ));
        }
    }
    if problems.is_empty() {
        Ok((id, version))
    } else {
        Err(problems)
    }
}

/// The reference record's decider.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReferenceDecider;

impl Decider for ReferenceDecider {
    type State = ReferenceState;
    type Command = ReferenceCommand;
    type Event = Stamped<ReferenceEvent>;
    type Reference<'r> = PublishReference<'r>;

    fn decide(
        state: &ReferenceState,
        command: ReferenceCommand,
        ctx: &Context<PublishReference<'_>>,
    ) -> Result<Vec<Stamped<ReferenceEvent>>, DomainError> {
        authorize(&ctx.actor)?;
        let ReferenceCommand::Publish { kind, text, source } = command;
        let source = source.trim().to_string();
        if source.is_empty() || source.chars().count() > 300 || source.chars().any(char::is_control) {
            return Err(DomainError::input(
                "source",
                "name where the file came from: 1 to 300 characters, no control characters",
            ));
        }
        let refuse = |what: String, problems: Vec<String>| DomainError::RefusedReferenceData { what, problems };
        if text.len() > MAX_FILE_BYTES {
            return Err(refuse(
                format!("{} file {source}", kind.label()),
                vec![format!("the file is {} bytes; at most {MAX_FILE_BYTES}", text.len())],
            ));
        }
        let (id, version) = declared(kind, &text).map_err(|p| refuse(format!("{} file {source}", kind.label()), p))?;
        let what = format!("{} {id} {version}", kind.label());
        let sha256 = sha256(&text);
        if let Some(existing) = state.versions(kind, &id).find(|p| p.publication.version == version) {
            return Err(if existing.publication.sha256 == sha256 {
                DomainError::AlreadyExists {
                    what: format!("{what} (published {} with this very content)", existing.at),
                }
            } else {
                refuse(
                    what,
                    vec![format!(
                        "version {version} is already published ({}) with different content: a published version \
                         is never edited; raise `version`",
                        existing.at
                    )],
                )
            });
        }
        let latest = state.latest(kind, &id);
        let mut problems = Vec::new();
        if let Some(latest) = latest {
            if compare_versions(&version, &latest.publication.version).is_le() {
                problems.push(format!(
                    "version {version} does not come after the published {}: raise `version`",
                    latest.publication.version
                ));
            }
        }
        let checked = match kind {
            ReferenceKind::Calendar => {
                let previous = match latest {
                    Some(p) => Some(BusinessCalendar::from_toml(&p.publication.text)?),
                    None => None,
                };
                calendar::check_publication(&text, previous.as_ref()).map(|_| ())
            }
            ReferenceKind::Policy => {
                policy::check_publication(&text, ctx.reference.calendar, ctx.reference.project_exists).map(|_| ())
            }
            ReferenceKind::Warranty => warranty::check_publication(&text, ctx.reference.project_exists).map(|_| ()),
        };
        if let Err(found) = checked {
            problems.extend(found);
        }
        if !problems.is_empty() {
            return Err(refuse(what, problems));
        }
        let publication = Publication {
            id,
            version,
            text,
            source,
            sha256,
        };
        let event = match kind {
            ReferenceKind::Calendar => ReferenceEvent::CalendarPublished(publication),
            ReferenceKind::Policy => ReferenceEvent::PolicyPublished(publication),
            ReferenceKind::Warranty => ReferenceEvent::WarrantyPublished(publication),
        };
        Ok(vec![Stamped {
            occurred_at: ctx.now,
            actor: ctx.actor.clone(),
            channel: ctx.channel,
            event,
            text_seals: Vec::new(),
        }])
    }

    fn evolve(mut state: ReferenceState, event: &Stamped<ReferenceEvent>) -> ReferenceState {
        let (kind, publication) = event.event.parts();
        state.0.push(Published {
            kind,
            publication: publication.clone(),
            at: event.occurred_at,
            actor: event.actor.clone(),
        });
        state
    }
}

/// The files shipped with the build, as the first publications of a new
/// data folder: (kind, source, text).
pub const BUNDLED: [(ReferenceKind, &str, &str); 3] = [
    (
        ReferenceKind::Calendar,
        "bundled:crates/domain/calendars/cn-mainland.toml",
        CN_MAINLAND_TOML,
    ),
    (
        ReferenceKind::Policy,
        "bundled:crates/domain/policies/default-service-policy.toml",
        DEFAULT_POLICY_TOML,
    ),
    (
        ReferenceKind::Warranty,
        "bundled:crates/domain/policies/warranty.toml",
        DEFAULT_WARRANTY_TOML,
    ),
];

/// Every published version, parsed: what decisions and clocks use.
#[derive(Debug, Default)]
pub struct ReferenceSet {
    /// Every calendar version clocks may name (shared with the views,
    /// which look versions up by reference).
    pub calendars: Arc<CalendarRegistry>,
    /// The calendar versions published in the log (or bundled, when the
    /// log has none of that name): the ones new decisions choose from.
    published_calendars: BTreeMap<crate::calendar::CalendarRef, Arc<BusinessCalendar>>,
    policies: BTreeMap<PolicyRef, Arc<ServicePolicy>>,
    warranties: BTreeMap<(String, String), Arc<WarrantyRules>>,
    /// The publications, in order.
    pub published: Vec<Published>,
}

impl ReferenceSet {
    /// The parsed versions of `state`, the calendars added to `calendars`
    /// (which may already hold some: the same version with the same
    /// content is fine). A bundled file counts as published when `state`
    /// holds no version of its kind and id, so that a log written before
    /// reference data was stored still replays; once the log has a version
    /// of that name, the log alone decides.
    pub fn load(state: &ReferenceState, calendars: Arc<CalendarRegistry>) -> Result<Self, DomainError> {
        let mut set = Self {
            calendars,
            ..Self::default()
        };
        for (kind, _, text) in BUNDLED {
            let (id, _) = declared(kind, text).map_err(|p| DomainError::InvalidReferenceData {
                what: format!("bundled {}", kind.label()),
                reason: p.join("; "),
            })?;
            if state.latest(kind, &id).is_none() {
                set.add(kind, text)?;
            }
        }
        for published in &state.0 {
            set.add(published.kind, &published.publication.text)?;
            set.published.push(published.clone());
        }
        Ok(set)
    }

    /// Adds one version (already checked).
    pub fn add(&mut self, kind: ReferenceKind, text: &str) -> Result<(), DomainError> {
        match kind {
            ReferenceKind::Calendar => {
                let calendar = Arc::new(BusinessCalendar::from_toml(text)?);
                self.calendars.insert(calendar.clone())?;
                self.published_calendars.insert(calendar.reference(), calendar);
                Ok(())
            }
            ReferenceKind::Policy => {
                let policy = ServicePolicy::from_toml(text)?;
                self.policies.insert(policy.reference().clone(), Arc::new(policy));
                Ok(())
            }
            ReferenceKind::Warranty => {
                let rules = WarrantyRules::from_toml(text)?;
                self.warranties
                    .insert((rules.id().to_string(), rules.version().to_string()), Arc::new(rules));
                Ok(())
            }
        }
    }

    /// The newest published version of calendar `id`.
    pub fn calendar(&self, id: &str) -> Option<Arc<BusinessCalendar>> {
        self.published_calendars
            .iter()
            .filter(|(k, _)| k.id == id)
            .max_by(|(a, _), (b, _)| compare_versions(&a.version, &b.version))
            .map(|(_, v)| v.clone())
    }

    /// The newest version of policy `id`.
    pub fn policy(&self, id: &str) -> Option<Arc<ServicePolicy>> {
        self.policies
            .iter()
            .filter(|(k, _)| k.id == id)
            .max_by(|(a, _), (b, _)| compare_versions(&a.version, &b.version))
            .map(|(_, v)| v.clone())
    }

    /// A recorded policy version.
    pub fn policy_version(&self, reference: &PolicyRef) -> Option<Arc<ServicePolicy>> {
        self.policies.get(reference).cloned()
    }

    /// The newest version of warranty rules `id`.
    pub fn warranty(&self, id: &str) -> Option<Arc<WarrantyRules>> {
        self.warranties
            .iter()
            .filter(|((i, _), _)| i == id)
            .max_by(|((_, a), _), ((_, b), _)| compare_versions(a, b))
            .map(|(_, v)| v.clone())
    }

    /// Every policy version, by id and version.
    pub fn policies(&self) -> impl Iterator<Item = &Arc<ServicePolicy>> {
        self.policies.values()
    }

    /// Every warranty rules version, by id and version.
    pub fn warranties(&self) -> impl Iterator<Item = &Arc<WarrantyRules>> {
        self.warranties.values()
    }
}
