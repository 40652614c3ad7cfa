//! Reference data: the published calendar, policy and warranty versions,
//! the versions a project's new tickets use, and the admin mutations that
//! publish a new version.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::reference::Published;

use super::types::{ClockKind, ReferenceKind};
use super::{actor, principal, service};
use crate::error::AppError;
use application::access::{self, Read};
use application::service::{Acting, PublishOutcome};

/// One published version of a calendar, policy or warranty rules, with its
/// publication.
#[derive(SimpleObject)]
pub struct ReferenceVersion {
    /// Which kind of reference data.
    pub kind: ReferenceKind,
    /// Its name (`cn-mainland`, `default`).
    pub id: String,
    /// The version (`2027.1`).
    pub version: String,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// Who published it (a user id; `system` for the files shipped with
    /// the build).
    pub published_by: String,
    /// Where the file came from (`bundled:…` for the shipped files).
    pub source: String,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// For a calendar, the years whose official arrangement it contains;
    /// deadlines reaching into other years are provisional. Empty for
    /// policies and warranty rules.
    pub years: Vec<i32>,
    /// The file as published, comments included.
    pub text: String,
}

impl From<&Published> for ReferenceVersion {
    fn from(p: &Published) -> Self {
        let years = match p.kind {
            domain::reference::ReferenceKind::Calendar => {
                domain::calendar::BusinessCalendar::from_toml(&p.publication.text)
                    .map(|c| c.spec().years.clone())
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        };
        Self {
            kind: p.kind.into(),
            id: p.publication.id.clone(),
            version: p.publication.version.clone(),
            published_at: p.at,
            published_by: p.actor.user.to_string(),
            source: p.publication.source.clone(),
            sha256: p.publication.sha256.clone(),
            years,
            text: p.publication.text.clone(),
        }
    }
}

/// The versions a project's new tickets are decided with.
#[derive(SimpleObject)]
pub struct ProjectReferenceData {
    /// The project.
    pub project_id: String,
    /// Its business calendar.
    pub calendar_id: String,
    /// The calendar's version in force (its newest).
    pub calendar_version: String,
    /// The years that calendar version covers.
    pub calendar_years: Vec<i32>,
    /// The service policy.
    pub policy_id: String,
    /// The policy's version in force.
    pub policy_version: String,
    /// The warranty rules.
    pub warranty_id: String,
    /// The rules' version in force.
    pub warranty_version: String,
}

/// Reference-data queries.
#[derive(Default)]
pub struct ReferenceQueries;

/// Reference data: every published version, and what each project uses.
#[Object]
impl ReferenceQueries {
    /// Every published version of `kind` (all kinds if omitted), in the
    /// order they were published. Readable by the roles that read the
    /// archive.
    async fn reference_versions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this kind; all kinds if omitted.")] kind: Option<ReferenceKind>,
    ) -> Result<Vec<ReferenceVersion>> {
        access::require(principal(ctx)?, Read::Archive)?;
        let wanted = kind.map(domain::reference::ReferenceKind::from);
        Ok(service(ctx)?
            .publications()
            .iter()
            .filter(|p| wanted.is_none_or(|k| k == p.kind))
            .map(ReferenceVersion::from)
            .collect())
    }

    /// Which projects use which calendar, policy and warranty rules: every
    /// project's versions in force on `on` (today if omitted), by project
    /// id. Cost: 5,000 (it reads every project).
    #[graphql(complexity = 5_000)]
    async fn reference_usage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day (in the calendar's zone); today if omitted.")] on: Option<NaiveDate>,
    ) -> Result<Vec<ProjectReferenceData>> {
        access::require(principal(ctx)?, Read::Archive)?;
        let service = service(ctx)?;
        let on = on.unwrap_or_else(|| service.calendar().local_date(service.now()));
        let mut out = Vec::new();
        for id in service.project_ids()? {
            out.push(in_force(service, &id, on)?);
        }
        Ok(out)
    }

    /// The calendar, policy and warranty versions a new ticket of the
    /// project is decided with, or null if the project does not exist.
    async fn project_reference_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project id.")] project_id: String,
        #[graphql(desc = "The day a ticket would be received (in the calendar's zone); today if omitted.")] on: Option<
            NaiveDate,
        >,
    ) -> Result<Option<ProjectReferenceData>> {
        access::require(principal(ctx)?, Read::Archive)?;
        let id = domain::ids::ProjectId::new(project_id).map_err(AppError::from)?;
        let service = service(ctx)?;
        if service.project(&id)?.0.is_none() {
            return Ok(None);
        }
        let on = on.unwrap_or_else(|| service.calendar().local_date(service.now()));
        Ok(Some(in_force(service, &id, on)?))
    }
}

fn in_force(
    service: &application::service::Service,
    id: &domain::ids::ProjectId,
    on: NaiveDate,
) -> Result<ProjectReferenceData, AppError> {
    let application::service::InForce {
        policy,
        calendar,
        warranty,
    } = service.reference_data_for(id, on)?;
    let calendar_ref = calendar.reference();
    Ok(ProjectReferenceData {
        project_id: id.to_string(),
        calendar_id: calendar_ref.id,
        calendar_version: calendar_ref.version,
        calendar_years: calendar.spec().years.clone(),
        policy_id: policy.reference().id.clone(),
        policy_version: policy.reference().version.clone(),
        warranty_id: warranty.id().to_string(),
        warranty_version: warranty.version().to_string(),
    })
}

/// A file to publish.
#[derive(InputObject)]
pub struct PublishInput {
    /// The file's text (TOML, the format of the files shipped with the
    /// build; see the README's yearly routine).
    pub text: String,
    /// Where it came from (a file name, the notice's number), recorded
    /// with the publication.
    pub source: String,
    /// Check and report what would change (deadlines that would move),
    /// appending nothing. False if omitted or null.
    pub dry_run: Option<bool>,
}

/// One clock a calendar publication settled (or would).
#[derive(SimpleObject)]
pub struct SettledClockOut {
    /// Which clock.
    pub clock: ClockKind,
    /// Its provisional due instant before (null while paused).
    pub due_before: Option<DateTime<Utc>>,
    /// Its due instant on the new version (null while paused).
    pub due_after: Option<DateTime<Utc>>,
}

/// An open ticket whose provisional clocks a calendar publication settled.
#[derive(SimpleObject)]
pub struct SettledTicketOut {
    /// The ticket.
    pub ticket_id: String,
    /// Its clocks, with both deadlines.
    pub clocks: Vec<SettledClockOut>,
}

/// What a publication did (or, for a dry run, would do).
#[derive(SimpleObject)]
pub struct PublishPayload {
    /// Which kind of reference data.
    pub kind: ReferenceKind,
    /// Its name.
    pub id: String,
    /// The version published.
    pub version: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Whether nothing was appended (a dry run).
    pub dry_run: bool,
    /// The log position of the publication; null for a dry run.
    pub position: Option<u64>,
    /// The files shipped with the build recorded first, because the data
    /// folder had none of their kind and name yet.
    pub bundled_first: Vec<String>,
    /// For a calendar: the open tickets whose provisional deadlines it
    /// settled (or would), each clock with both deadlines. Definitive
    /// deadlines and finished tickets are never touched.
    pub settled: Vec<SettledTicketOut>,
}

impl PublishPayload {
    fn new(o: PublishOutcome, dry_run: bool) -> Self {
        Self {
            kind: o.kind.into(),
            id: o.id,
            version: o.version,
            sha256: o.sha256,
            dry_run,
            position: o.position,
            bundled_first: o.bundled_first,
            settled: o
                .settled
                .into_iter()
                .map(|t| SettledTicketOut {
                    ticket_id: t.ticket.to_string(),
                    clocks: t
                        .clocks
                        .into_iter()
                        .map(|c| SettledClockOut {
                            clock: c.clock.into(),
                            due_before: c.due_before,
                            due_after: c.due_after,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Reference-data mutations.
#[derive(Default)]
pub struct ReferenceMutations;

async fn publish(
    ctx: &Context<'_>,
    kind: domain::reference::ReferenceKind,
    input: PublishInput,
) -> Result<PublishPayload> {
    let acting = Acting::by(actor(ctx)?);
    let dry_run = input.dry_run.unwrap_or(false);
    let outcome = service(ctx)?
        .publish_reference(kind, input.text, input.source, dry_run, acting)
        .await?;
    Ok(PublishPayload::new(outcome, dry_run))
}

#[Object]
impl ReferenceMutations {
    /// Publishes a new version of a business calendar (admin): a year's
    /// holiday arrangement once the State Council's notice is out. Every
    /// problem of the file is listed at once (`INVALID_REFERENCE_DATA`,
    /// `extensions.problems`) and nothing is appended unless there is
    /// none. In the same atomic append, every open ticket's provisional
    /// clocks that the new version changes are settled on it (each
    /// recorded on the ticket with both deadlines).
    async fn publish_calendar(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The calendar file, where it came from, and whether only to check it.")] input: PublishInput,
    ) -> Result<PublishPayload> {
        publish(ctx, domain::reference::ReferenceKind::Calendar, input).await
    }

    /// Publishes a new version of a service policy (admin): targets
    /// positive and ordered emergency ≤ urgent ≤ normal, projects named
    /// existing. Tickets received from then on use it; recorded clocks
    /// keep the targets they started with.
    async fn publish_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The policy file, where it came from, and whether only to check it.")] input: PublishInput,
    ) -> Result<PublishPayload> {
        publish(ctx, domain::reference::ReferenceKind::Policy, input).await
    }

    /// Publishes a new version of warranty rules (admin): no period below
    /// the statutory minimum, no project shortening one, projects named
    /// existing. Diagnoses from then on use it.
    async fn publish_warranty_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rules file, where it came from, and whether only to check it.")] input: PublishInput,
    ) -> Result<PublishPayload> {
        publish(ctx, domain::reference::ReferenceKind::Warranty, input).await
    }
}
