//! The enums and output objects of the schema.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::sla::{ClockReport, ClockStatus as DomainClockStatus};
use domain::ticket as t;
use projections::tickets::TicketRecord;

use super::service;

/// An enum of the schema mirroring a domain enum value for value. Its
/// doc comments, on the enum and on every value, are the descriptions
/// staff-tool authors read (the schema test refuses a value without one).
macro_rules! gql_enum {
    ($(#[doc = $doc:literal])+ $gql:ident, $name:literal, $domain:ty {
        $($(#[doc = $vdoc:literal])+ $v:ident),+ $(,)?
    }) => {
        $(#[doc = $doc])+
        #[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
        #[graphql(name = $name)]
        pub enum $gql { $($(#[doc = $vdoc])+ $v),+ }
        impl From<$gql> for $domain {
            fn from(v: $gql) -> Self { match v { $($gql::$v => <$domain>::$v),+ } }
        }
        impl From<$domain> for $gql {
            fn from(v: $domain) -> Self { match v { $(<$domain>::$v => $gql::$v),+ } }
        }
    };
}

gql_enum!(
    /// The kind of work item (工单类型). It decides the lifecycle a ticket
    /// follows and the clocks that apply.
    TicketKind,
    "TicketKind",
    t::TicketKind {
        /// Repair (报修): a defect in the unit or in a common area, handled
        /// from dispatch through the owner's acceptance.
        Repair,
        /// Complaint (投诉): dissatisfaction with product, service or staff;
        /// investigated, answered with a proposed resolution, and may be
        /// escalated to a major complaint (重大投诉).
        Complaint,
        /// Inquiry (咨询): a question about use, property title, community or
        /// surroundings, answered on the spot or after checking.
        Inquiry,
        /// Handover defect (交付查验问题): found at pre-inspection or the
        /// delivery walk-through and rectified by a promised date.
        HandoverDefect
    }
);
gql_enum!(
    /// Handling priority (紧急程度); it sets the service-level targets.
    Priority,
    "Priority",
    t::Priority {
        /// Emergency (紧急): water or power cut, severe leak, safety risk.
        /// Targets count every minute, 24×7.
        Emergency,
        /// Urgent (较急): affects daily use. Targets count business time.
        Urgent,
        /// Normal (一般): cosmetic or minor. Targets count business time.
        Normal
    }
);
gql_enum!(
    /// The channel a report or action came in through (报修渠道).
    Channel,
    "Channel",
    t::Channel {
        /// The project's or the company's own hotline.
        Hotline,
        /// The group's 400 call center (400 呼叫中心).
        CallCenter400,
        /// The owner app or the staff field app.
        App,
        /// The WeChat official account (微信公众号).
        WeChat,
        /// The on-site service desk (现场接待).
        ServiceDesk,
        /// Email.
        Email,
        /// The online form.
        WebForm,
        /// The owner forum (客户论坛).
        Forum,
        /// A revisit call (回访) that uncovered the issue.
        Revisit,
        /// Staff tools acting on an existing ticket (back office), not a
        /// channel an owner reports through.
        BackOffice
    }
);
gql_enum!(
    /// The defect category for product feedback (产品缺陷分类); complaints
    /// about people use `SERVICE`.
    Category,
    "Category",
    t::Category {
        /// Planning and design (规划).
        Planning,
        /// Construction and engineering (工程).
        Engineering,
        /// The model unit against the delivered unit (样板房).
        ModelUnit,
        /// Public facilities (公共设施).
        PublicFacilities,
        /// Service and staff (服务).
        Service,
        /// Anything else (其他).
        Other
    }
);
gql_enum!(
    /// The trade (专业) a defect belongs to, for defect statistics.
    Trade,
    "Trade",
    t::Trade {
        /// Leak (渗漏).
        Leak,
        /// Crack (开裂).
        Crack,
        /// Hollow plaster or tiles (空鼓).
        Hollow,
        /// Doors and windows (门窗).
        DoorsWindows,
        /// Water and electric installations (水电).
        WaterElectric,
        /// Heating, ventilation and air conditioning (暖通).
        Hvac,
        /// Sanitary fixtures (洁具).
        Fixtures,
        /// Blocked pipes (管道堵塞).
        Blockage,
        /// Structure (结构).
        Structure,
        /// Facade, the exterior walls (外立面).
        Facade,
        /// Elevator (电梯).
        Elevator,
        /// Landscaping (园林景观).
        Landscaping,
        /// Decoration works (装修).
        Decoration,
        /// Not a trade: complaints about service, inquiries.
        None,
        /// Any other trade (其他).
        Other
    }
);
gql_enum!(
    /// Where a ticket is in its lifecycle (工单状态). Repairs and handover
    /// defects go Received → Acknowledged → Dispatched → Scheduled → OnSite
    /// → Diagnosed → InRepair → Repaired → Accepted → Closed; complaints go
    /// through Investigating and ResolutionProposed; inquiries through
    /// Answered.
    Status,
    "TicketStatus",
    t::Status {
        /// Received (受理): recorded, not yet confirmed with the owner.
        Received,
        /// Acknowledged: the details were confirmed with the owner, who was
        /// told the expected visit time; the first-response clock stops.
        Acknowledged,
        /// Dispatched (派工) to an internal engineer or a contractor.
        Dispatched,
        /// Scheduled (预约): an appointment window is agreed with the owner.
        Scheduled,
        /// On site (上门): the engineer or contractor arrived; the on-site
        /// clock stops.
        OnSite,
        /// Diagnosed (勘查): cause, responsible party and repair plan are on
        /// record, waiting for the owner to confirm the plan.
        Diagnosed,
        /// Plan declined: the owner declined the repair plan; a new
        /// diagnosis is needed.
        PlanDeclined,
        /// In repair: the owner confirmed the plan (方案确认), work under way.
        InRepair,
        /// Repaired (维修完成): work done, waiting for the owner's acceptance;
        /// the resolution clock stops.
        Repaired,
        /// Accepted (验收合格): the owner signed off the work.
        Accepted,
        /// Rejected (验收不合格): the owner rejected the work at acceptance.
        Rejected,
        /// Reopened: rework under way after a rejection or a recurrence; the
        /// resolution clock runs again.
        Reopened,
        /// On hold: see `holdReason`; only waiting on the owner pauses the
        /// clocks.
        OnHold,
        /// Investigating (调查核实): a complaint's facts are being
        /// established.
        Investigating,
        /// Resolution proposed: a resolution and its basis were put to the
        /// complaining owner; the complaint's resolution clock stops.
        ResolutionProposed,
        /// The owner agreed to the proposed resolution.
        OwnerAgreed,
        /// The owner disagreed with the proposed resolution: investigate
        /// again.
        OwnerDisagreed,
        /// Answered: an inquiry was answered.
        Answered,
        /// Closed and archived (闭环归档).
        Closed,
        /// Withdrawn by the owner.
        Withdrawn,
        /// Merged into another ticket as a duplicate (see `mergedInto`).
        Merged
    }
);

gql_enum!(
    /// Why a ticket is on hold. Only waiting on the owner pauses the
    /// service-level clocks.
    HoldReason,
    "HoldReason",
    t::HoldReason {
        /// The owner cannot be reached (业主联系不上); the clocks pause.
        OwnerUnreachable,
        /// Waiting for material (等待材料): our side's wait, the clocks keep
        /// running.
        WaitingForMaterial,
        /// Waiting for the owner's decision (等待业主决定); the clocks pause.
        WaitingForOwnerDecision
    }
);
gql_enum!(
    /// Who is responsible for a defect (责任方), as the diagnosis found.
    ResponsibleParty,
    "ResponsibleParty",
    t::ResponsibleParty {
        /// The developer, under warranty (开发商保修): free for the owner.
        Developer,
        /// The owner's misuse (使用不当): chargeable, the owner must agree
        /// to the cost.
        OwnerMisuse,
        /// A third party (第三方), e.g. a neighbour's renovation.
        ThirdParty,
        /// The contractor's workmanship (施工质量): the contractor bears it.
        ContractorWorkmanship
    }
);
gql_enum!(
    /// The outcome of a revisit call (回访).
    RevisitOutcome,
    "RevisitOutcome",
    t::RevisitOutcome {
        /// The owner is satisfied.
        Satisfied,
        /// The owner is not satisfied.
        Dissatisfied,
        /// The problem came back.
        ProblemPersists,
        /// Nobody answered the call.
        Unreachable
    }
);
gql_enum!(
    /// The customer touchpoint stage (客户接触点) a survey or revisit
    /// measures, A to G.
    TouchpointStage,
    "TouchpointStage",
    t::TouchpointStage {
        /// A: project preparation (项目前期).
        ProjectPreparation,
        /// B: sales preparation (销售准备).
        SalesPreparation,
        /// C: signing (销售签约).
        Signing,
        /// D: waiting for delivery (售后等待).
        WaitingForDelivery,
        /// E: delivery (房屋交付).
        Delivery,
        /// F: warranty service (保修服务).
        WarrantyService,
        /// G: residence revisit (居住回访).
        ResidenceRevisit
    }
);
gql_enum!(
    /// How far a complaint is escalated.
    EscalationLevel,
    "EscalationLevel",
    t::EscalationLevel {
        /// Handled by the project company's customer-service manager.
        Project,
        /// Raised to the city company (a major complaint, 重大投诉, at city
        /// level).
        City,
        /// Raised to the group (集团重大投诉).
        Group
    }
);
gql_enum!(
    /// The part of the building a defect is in, for warranty purposes
    /// (保修项目); it decides the warranty period, counted from the delivery
    /// date. The periods named are the default rules; a project may promise
    /// longer, and `Warranty.period` says which period applied.
    WarrantyItem,
    "WarrantyItem",
    domain::warranty::WarrantyItem {
        /// Foundation and main structure (地基基础和主体结构): the design
        /// service life.
        FoundationAndStructure,
        /// Roof waterproofing (屋面防水): 5 years.
        RoofWaterproofing,
        /// Waterproofed rooms such as bathrooms (有防水要求的卫生间、房间):
        /// 5 years.
        WaterproofedRooms,
        /// Exterior-wall leakage (外墙面防渗漏): 5 years.
        ExteriorWallLeakage,
        /// Heating system (供热系统): 2 heating seasons.
        HeatingSystem,
        /// Cooling system (供冷系统): 2 cooling seasons.
        CoolingSystem,
        /// Electrical lines (电气管线): 2 years.
        ElectricalLines,
        /// Water supply and drainage pipes (给排水管道): 2 years.
        WaterSupplyAndDrainage,
        /// Equipment installation (设备安装): 2 years.
        EquipmentInstallation,
        /// Decoration works (装修工程): 2 years.
        Decoration,
        /// Plaster falling from walls or ceilings (墙面、顶棚抹灰层脱落):
        /// 1 year.
        PlasterFalling,
        /// Hollow or cracked floors (地面空鼓开裂): 1 year.
        HollowOrCrackedFloor,
        /// Warped doors and windows, broken hardware (门窗翘裂、五金件损坏):
        /// 1 year.
        DoorsAndWindows,
        /// Sanitary fixtures (卫生洁具): 1 year.
        SanitaryFixtures,
        /// Lamps and switches (灯具、电器开关): 6 months.
        LampsAndSwitches,
        /// Blocked pipes (管道堵塞): 2 months.
        BlockedPipes
    }
);

gql_enum!(
    /// Where a handover defect was found.
    InspectionKind,
    "InspectionKind",
    t::InspectionKind {
        /// Pre-inspection (预验房), before delivery.
        PreInspection,
        /// The delivery walk-through with the owner (陪同查验).
        DeliveryWalkthrough
    }
);
gql_enum!(
    /// Where a service-level clock stands.
    ClockStatus,
    "ClockStatus",
    DomainClockStatus {
        /// Running (or paused) with less than 80% of the target used.
        Running,
        /// Running (or paused) with at least 80% of the target used.
        AtRisk,
        /// Stopped within the target.
        Met,
        /// Passed its due instant while running. It stays breached.
        Breached,
        /// Stopped before its goal by a withdrawal, merge or closing.
        Cancelled
    }
);
gql_enum!(
    /// How a clock's target minutes are counted.
    TimeBasis,
    "TimeBasis",
    domain::policy::TimeBasis {
        /// Every minute counts (24×7).
        WallClock,
        /// Only the business calendar's working time counts (working hours,
        /// working days, statutory holidays and adjusted working days).
        Business
    }
);
gql_enum!(
    /// The three service-level clocks of a ticket (响应时限).
    ClockKind,
    "ClockKind",
    domain::policy::ClockKind {
        /// First response: from received to acknowledged (inquiries: or
        /// answered).
        FirstResponse,
        /// On site: from received to the first arrival on site.
        OnSite,
        /// Resolution: from received to repaired (complaints: to a proposed
        /// resolution; inquiries: to the answer).
        Resolution
    }
);
gql_enum!(
    /// The kinds of reference data operators publish (基础数据), each as
    /// versions that are never edited.
    ReferenceKind,
    "ReferenceKind",
    domain::reference::ReferenceKind {
        /// A business calendar: working hours, statutory holidays and
        /// adjusted working days (调休) per year.
        Calendar,
        /// A service policy: the response targets (响应时限) per ticket
        /// kind and priority.
        Policy,
        /// Warranty rules: the warranty period (保修期) of each part of a
        /// building.
        Warranty
    }
);

/// A ticket as staff tools see it. Personal fields are masked. The second
/// field holds the clocks of a replayed state ("as of" a cut of its
/// history), evaluated from that history at the cut's instant; `None`:
/// the live clocks, evaluated now.
pub struct TicketOut(
    pub std::sync::Arc<TicketRecord>,
    pub Option<std::sync::Arc<domain::sla::SlaReport>>,
);

/// Who works on a ticket.
#[derive(SimpleObject)]
#[graphql(name = "Assignee")]
pub struct AssigneeOut {
    /// An internal engineer, or null.
    pub engineer_id: Option<String>,
    /// A contractor company, or null.
    pub contractor_id: Option<String>,
}

/// An appointment window (预约时段).
#[derive(SimpleObject)]
#[graphql(name = "Appointment")]
pub struct AppointmentOut {
    /// From.
    pub from: DateTime<Utc>,
    /// To.
    pub to: DateTime<Utc>,
}

/// The warranty finding of a diagnosis.
#[derive(SimpleObject)]
#[graphql(name = "Warranty")]
pub struct WarrantyOut {
    /// The item the defect is in.
    pub item: WarrantyItem,
    /// The period that applied, in words ("5 years", "2 heating seasons").
    pub period: String,
    /// The delivery date it was counted from.
    pub delivered_on: NaiveDate,
    /// The last day in warranty.
    pub last_day: NaiveDate,
    /// Whether the report date was in warranty.
    pub in_warranty: bool,
    /// The rules version used.
    pub rules_version: String,
}

/// The diagnosis on record (勘查结论).
#[derive(SimpleObject)]
#[graphql(name = "Diagnosis")]
pub struct DiagnosisOut {
    /// The cause.
    pub cause: String,
    /// Who is responsible.
    pub responsible: ResponsibleParty,
    /// The warranty finding, when the delivery date is known.
    pub warranty: Option<WarrantyOut>,
    /// Whether the owner pays.
    pub chargeable: bool,
    /// What will be done.
    pub plan: String,
    /// Materials.
    pub materials: Vec<String>,
    /// Expected duration in minutes.
    pub duration_minutes: u32,
    /// What the owner pays, in fen.
    pub cost_fen: Option<u64>,
}

/// A handover defect's inspection record.
#[derive(SimpleObject)]
#[graphql(name = "Handover")]
pub struct HandoverOut {
    /// Pre-inspection or delivery walk-through.
    pub inspection: InspectionKind,
    /// Promised rectification date (整改时限).
    pub promised_by: NaiveDate,
    /// The signed inspection sheet.
    pub signed_record: String,
}

/// One service-level clock of a ticket, evaluated now.
#[derive(SimpleObject)]
pub struct Clock {
    /// Which clock.
    pub clock: ClockKind,
    /// Status.
    pub status: ClockStatus,
    /// The target, in words ("4 business hours", "24 hours").
    pub target: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it is (or was) due; null while paused, as the due instant
    /// moves with the pause.
    pub due_at: Option<DateTime<Utc>>,
    /// Minutes counted against the target (business or wall minutes).
    pub elapsed_minutes: i64,
    /// Minutes not counted because the ticket waited on the owner.
    pub paused_minutes: i64,
    /// Whether it is paused now.
    pub paused: bool,
    /// When it breached.
    pub breached_at: Option<DateTime<Utc>>,
    /// When it last stopped.
    pub stopped_at: Option<DateTime<Utc>>,
    /// The due instant reaches into a year whose holidays are not yet
    /// published: it may still move.
    pub provisional: bool,
    /// The service policy the target came from (recorded when the clock
    /// started), so that any deadline can be explained from the API.
    pub policy_id: String,
    /// That policy's version.
    pub policy_version: String,
    /// The business calendar time is counted on.
    pub calendar_id: String,
    /// That calendar's version.
    pub calendar_version: String,
    /// The target's length in minutes (null for a fixed deadline).
    pub target_minutes: Option<u32>,
    /// How the target's minutes are counted: working time on the calendar
    /// or every minute (null for a fixed deadline).
    pub basis: Option<TimeBasis>,
    /// A fixed deadline promised to the owner (a handover defect's
    /// rectification date), if the target is one.
    pub fixed_deadline: Option<DateTime<Utc>>,
    /// How many times it stopped (resolution: rework cycles + 1).
    pub stops: u32,
}

impl From<&ClockReport> for Clock {
    fn from(c: &ClockReport) -> Self {
        Self {
            clock: c.clock.into(),
            status: c.status.into(),
            target: c.target.to_string(),
            started_at: c.started_at,
            due_at: c.due_at,
            elapsed_minutes: c.elapsed.num_minutes(),
            paused_minutes: c.paused.num_minutes(),
            paused: c.is_paused,
            breached_at: c.breached_at,
            stopped_at: c.stopped_at,
            provisional: c.provisional,
            policy_id: c.policy.id.clone(),
            policy_version: c.policy.version.clone(),
            calendar_id: c.calendar.id.clone(),
            calendar_version: c.calendar.version.clone(),
            target_minutes: c.target.minutes(),
            basis: c.target.basis().map(Into::into),
            fixed_deadline: match c.target {
                domain::policy::ClockTarget::Deadline { due } => Some(due),
                domain::policy::ClockTarget::Duration { .. } => None,
            },
            stops: c.stops,
        }
    }
}

/// A work item (工单): a repair, complaint, inquiry or handover defect,
/// as it now is (or, in `ticketHistory`, as it was at a cut of its
/// history). Personal fields are shown as the caller's role may see them.
#[Object(name = "Ticket")]
impl TicketOut {
    /// Ticket number.
    async fn id(&self) -> String {
        self.0.ticket.id.to_string()
    }
    /// Kind.
    async fn kind(&self) -> TicketKind {
        self.0.ticket.kind.into()
    }
    /// Status.
    async fn status(&self) -> Status {
        self.0.ticket.status.into()
    }
    /// Priority.
    async fn priority(&self) -> Priority {
        self.0.ticket.priority.into()
    }
    /// The channel it was reported through.
    async fn channel(&self) -> Channel {
        self.0.ticket.channel.into()
    }
    /// Category.
    async fn category(&self) -> Category {
        self.0.ticket.category.into()
    }
    /// Trade.
    async fn trade(&self) -> Trade {
        self.0.ticket.trade.into()
    }
    /// The owner's description. Mobile and ID numbers typed into it are
    /// stored sealed: in full for staff who call owners back, masked for
    /// analysts and auditors, `[erased]` once the reporter's personal data
    /// was erased.
    async fn description(&self, ctx: &Context<'_>) -> Result<String> {
        text(ctx, &self.0.ticket.description, &self.0.text_seals)
    }
    /// Photos and documents.
    async fn attachments(&self) -> &[String] {
        &self.0.ticket.attachments
    }
    /// Project.
    async fn project_id(&self) -> String {
        self.0.ticket.location.project().to_string()
    }
    /// Building, if known.
    async fn building_id(&self) -> Option<String> {
        self.0.ticket.location.building().map(|b| b.to_string())
    }
    /// Unit, for unit tickets.
    async fn unit_id(&self) -> Option<String> {
        self.0.ticket.location.unit().map(|u| u.to_string())
    }
    /// The common area, in words, for common-area tickets.
    async fn place(&self) -> Option<&str> {
        match &self.0.ticket.location {
            t::Location::CommonArea { place, .. } => Some(place),
            t::Location::Unit { .. } => None,
        }
    }
    /// The reporting owner's archive id.
    async fn owner_id(&self) -> Option<String> {
        self.0.ticket.reporter.owner.as_ref().map(|o| o.to_string())
    }
    /// Reporter's name: in full for staff who call owners back, masked
    /// (王**) for analysts and auditors; `[erased]` once the reporter's
    /// personal data was erased; `[key missing]` if the key folder lost
    /// its key (damage, not an erasure).
    async fn reporter_name(&self, ctx: &Context<'_>) -> Result<String> {
        shown_in(ctx, &self.0.ticket.reporter.name, |n| n.full())
    }
    /// Reporter's phone: in full for staff who call owners back, masked
    /// (138****5678) for analysts and auditors; `[erased]` once erased;
    /// `[key missing]` if the key folder lost its key.
    async fn reporter_phone(&self, ctx: &Context<'_>) -> Result<String> {
        shown_in(ctx, &self.0.ticket.reporter.phone, |p| p.as_str().to_string())
    }
    /// Whether the reporter's personal data was erased at their request
    /// (false while it reads `[key missing]`: that is damage).
    async fn reporter_erased(&self, ctx: &Context<'_>) -> Result<bool> {
        let status = eventformat::sealing::open_status(service(ctx)?.keyring(), &self.0.ticket.reporter.phone)
            .map_err(crate::error::AppError::internal)?;
        Ok(status == eventformat::sealing::Opened::Erased)
    }
    /// Who works on it.
    async fn assignee(&self) -> Option<AssigneeOut> {
        self.0.ticket.assignee.as_ref().map(|a| match a {
            t::Assignee::Engineer(u) => AssigneeOut {
                engineer_id: Some(u.to_string()),
                contractor_id: None,
            },
            t::Assignee::Contractor(c) => AssigneeOut {
                engineer_id: None,
                contractor_id: Some(c.to_string()),
            },
        })
    }
    /// Dispatches so far (re-dispatches included).
    async fn dispatch_count(&self) -> u32 {
        self.0.ticket.dispatch_count
    }
    /// Current appointment.
    async fn appointment(&self) -> Option<AppointmentOut> {
        self.0
            .ticket
            .appointment
            .as_ref()
            .map(|a| AppointmentOut { from: a.from, to: a.to })
    }
    /// Current diagnosis (personal data in its text shown as in
    /// `description`).
    async fn diagnosis(&self, ctx: &Context<'_>) -> Result<Option<DiagnosisOut>> {
        let seals = &self.0.text_seals;
        let Some(d) = self.0.ticket.diagnosis.as_ref() else {
            return Ok(None);
        };
        Ok(Some(DiagnosisOut {
            cause: text(ctx, &d.cause, seals)?,
            responsible: d.responsible.into(),
            warranty: d.warranty.as_ref().map(|w| WarrantyOut {
                item: w.item.into(),
                period: w.period.to_string(),
                delivered_on: w.delivered_on,
                last_day: w.last_day,
                in_warranty: w.in_warranty,
                rules_version: w.rules_version.clone(),
            }),
            chargeable: d.chargeable,
            plan: text(ctx, &d.plan.content, seals)?,
            materials: d
                .plan
                .materials
                .iter()
                .map(|m| text(ctx, m, seals))
                .collect::<Result<_>>()?,
            duration_minutes: d.plan.duration_minutes,
            cost_fen: d.plan.cost.map(|m| m.fen),
        }))
    }
    /// Whether the owner confirmed the current plan.
    async fn plan_confirmed(&self) -> bool {
        self.0.ticket.plan_confirmed
    }
    /// Handover record (handover defects).
    async fn handover(&self) -> Option<HandoverOut> {
        self.0.ticket.handover.as_ref().map(|h| HandoverOut {
            inspection: h.inspection.into(),
            promised_by: h.promised_by,
            signed_record: h.signed_record.clone(),
        })
    }
    /// Why it is on hold.
    async fn hold_reason(&self) -> Option<HoldReason> {
        self.0.ticket.hold_reason.map(Into::into)
    }
    /// Rework cycles.
    async fn reopen_count(&self) -> u32 {
        self.0.ticket.reopen_count
    }
    /// Rejections at acceptance.
    async fn rejection_count(&self) -> u32 {
        self.0.ticket.rejection_count
    }
    /// Escalation level of a complaint.
    async fn escalation(&self) -> Option<EscalationLevel> {
        self.0.ticket.escalation.map(Into::into)
    }
    /// The incident it is handled in.
    async fn incident_id(&self) -> Option<String> {
        self.0.ticket.incident.as_ref().map(|i| i.to_string())
    }
    /// The ticket it was merged into.
    async fn merged_into(&self) -> Option<String> {
        self.0.ticket.merged_into.as_ref().map(|i| i.to_string())
    }
    /// Overall rating given at acceptance (1 to 5).
    async fn acceptance_rating(&self) -> Option<u8> {
        self.0.ticket.acceptance_ratings.map(|r| r.overall)
    }
    /// Revisits made.
    async fn revisit_count(&self) -> u32 {
        self.0.ticket.revisit_count
    }
    /// Outcome of the last revisit.
    async fn last_revisit(&self) -> Option<RevisitOutcome> {
        self.0.ticket.last_revisit.map(Into::into)
    }
    /// The owner's ratings at acceptance (验收评价), per dimension.
    async fn acceptance_ratings(&self) -> Option<RatingsOut> {
        self.0.ticket.acceptance_ratings.map(Into::into)
    }
    /// Every revisit (回访), oldest first: when, how it went, the ratings
    /// given per dimension and the remarks. Read from the ticket's history.
    /// Cost: 500 + 20 × the selection.
    #[graphql(complexity = "crate::cost::history(child_complexity)")]
    async fn revisits(&self, ctx: &Context<'_>) -> Result<Vec<RevisitOut>> {
        let service = service(ctx)?;
        let entries = projections::timeline::history(service.store().as_ref(), &self.0.ticket.id)
            .map_err(crate::error::AppError::internal)?;
        let mut out = Vec::new();
        for e in entries {
            if let t::TicketEvent::Revisited {
                outcome,
                ratings,
                stage,
                note,
            } = e.event
            {
                out.push(RevisitOut {
                    at: e.occurred_at,
                    outcome: outcome.into(),
                    ratings: ratings.map(Into::into),
                    stage: stage.into(),
                    note: text(ctx, &note, &e.text_seals)?,
                });
            }
        }
        Ok(out)
    }
    /// When it was received (occurred).
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.ticket.received_at
    }
    /// First acknowledgement.
    async fn acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.0.ticket.acknowledged_at
    }
    /// The time promised to the owner.
    async fn promised_at(&self) -> Option<DateTime<Utc>> {
        self.0.ticket.promised_at
    }
    /// First arrival on site.
    async fn first_arrived_at(&self) -> Option<DateTime<Utc>> {
        self.0.ticket.first_arrived_at
    }
    /// Latest completion of the repair.
    async fn repaired_at(&self) -> Option<DateTime<Utc>> {
        self.0.ticket.repaired_at
    }
    /// Acceptance.
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.ticket.accepted_at
    }
    /// Closing, withdrawal or merge.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.ticket.closed_at
    }
    /// When the latest event happened.
    async fn last_event_at(&self) -> DateTime<Utc> {
        self.0.ticket.last_event_at
    }
    /// When the log stored the latest event.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Stream version of the latest event: pass it as `expectedVersion`.
    async fn version(&self) -> u64 {
        self.0.ticket.event_count.saturating_sub(1)
    }
    /// Log position of the latest event.
    async fn position(&self) -> u64 {
        self.0.position
    }
    /// The service-level clocks that apply, evaluated now (first response,
    /// on site, resolution). Cost: 40 + the selection.
    #[graphql(complexity = "crate::cost::clocks(child_complexity)")]
    async fn clocks(&self, ctx: &Context<'_>) -> Result<Vec<Clock>> {
        if let Some(replayed) = &self.1 {
            return Ok(replayed.clocks().map(Clock::from).collect());
        }
        let service = service(ctx)?;
        let report = service.clocks(&self.0.ticket.id, service.now())?;
        Ok(report
            .map(|r| r.clocks().map(Clock::from).collect())
            .unwrap_or_default())
    }
}

/// Ratings an owner gave, 1 (very dissatisfied) to 5 (very satisfied).
#[derive(SimpleObject)]
#[graphql(name = "Ratings")]
pub struct RatingsOut {
    /// Overall (总体满意度).
    pub overall: u8,
    /// Product quality (产品质量), if asked.
    pub product_quality: Option<u8>,
    /// Service process (服务过程), if asked.
    pub service_process: Option<u8>,
    /// Staff attitude (服务态度), if asked.
    pub staff_attitude: Option<u8>,
}

impl From<t::Ratings> for RatingsOut {
    fn from(r: t::Ratings) -> Self {
        Self {
            overall: r.overall,
            product_quality: r.product_quality,
            service_process: r.service_process,
            staff_attitude: r.staff_attitude,
        }
    }
}

/// One revisit (回访) of a ticket.
#[derive(SimpleObject)]
#[graphql(name = "Revisit")]
pub struct RevisitOut {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// How it went.
    pub outcome: RevisitOutcome,
    /// The ratings given, if any.
    pub ratings: Option<RatingsOut>,
    /// The touchpoint stage measured.
    pub stage: TouchpointStage,
    /// Remarks.
    pub note: String,
}

/// Shown in place of a personal value that was erased.
pub const ERASED: &str = eventformat::sealing::ERASED;

/// A personal value as a role may see it: whole, masked, or, if it does
/// not open, [`ERASED`] or the marker of damage
/// ([`eventformat::sealing::KEY_MISSING`]).
pub(crate) fn shown<T: domain::personal::Mask + serde::de::DeserializeOwned + Clone>(
    ring: &keyring::Keyring,
    value: &domain::personal::Personal<T>,
    whole: bool,
    full: impl Fn(&T) -> String,
) -> Result<String, crate::error::AppError> {
    use eventformat::sealing::Opened;
    let opened = eventformat::sealing::open_status(ring, value).map_err(crate::error::AppError::internal)?;
    Ok(match opened {
        Opened::Clear(v) if whole => full(&v),
        Opened::Clear(v) => v.masked(),
        other => other.marker().unwrap_or(ERASED).to_string(),
    })
}

/// A personal value stored in a view as the caller may see it.
pub(crate) fn shown_in<T: domain::personal::Mask + serde::de::DeserializeOwned + Clone>(
    ctx: &Context<'_>,
    value: &domain::personal::Personal<T>,
    full: impl Fn(&T) -> String,
) -> Result<String> {
    let whole = application::access::sees_personal(super::principal(ctx)?);
    Ok(shown(service(ctx)?.keyring(), value, whole, full)?)
}

/// Free text with the personal data sealed out of it shown as the caller
/// may see it: in full, masked, or erased.
pub(crate) fn text(ctx: &Context<'_>, stored: &str, seals: &[domain::personal::TextSeal]) -> Result<String> {
    if seals.is_empty() {
        return Ok(stored.to_string());
    }
    let whole = application::access::sees_personal(super::principal(ctx)?);
    Ok(
        eventformat::sealing::render_text(service(ctx)?.keyring(), stored, seals, whole)
            .map_err(crate::error::AppError::internal)?,
    )
}

impl From<TicketRecord> for TicketOut {
    fn from(r: TicketRecord) -> Self {
        Self(std::sync::Arc::new(r), None)
    }
}

/// What every ticket mutation returns.
#[derive(SimpleObject)]
pub struct TicketPayload {
    /// The ticket as it now is.
    pub ticket: TicketOut,
    /// Log position of the change.
    pub position: u64,
}

impl From<application::service::Outcome> for TicketPayload {
    fn from(o: application::service::Outcome) -> Self {
        Self {
            ticket: TicketOut(o.ticket, None),
            position: o.position,
        }
    }
}
