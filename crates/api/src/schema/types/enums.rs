//! The schema's enums, each mirroring a domain enum value for value.

use async_graphql::Enum;
use domain::sla::ClockStatus as DomainClockStatus;
use domain::ticket as t;

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
