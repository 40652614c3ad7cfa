//! The vocabulary of a ticket: kinds, channels, priorities, categories,
//! trades, locations and the values events carry.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{BuildingId, ContractorId, OwnerId, ProjectId, UnitId, UserId};
use crate::personal::{PersonName, Personal, PhoneNumber};

/// Declares a field-less enum with its stored names, `as_str`, `ALL`,
/// `Display` and `FromStr`. Serde writes and reads the stored name (in JSON
/// and in the log alike), so variants may be reordered but never renamed.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored and displayed name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::serde_by_name!($name);

        impl std::str::FromStr for $name {
            type Err = $crate::error::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                      .ok_or_else(|| $crate::error::DomainError::input($what, format!(
                        "{s:?} is not one of {}",
                        $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    )))
            }
        }
    };
}
pub(crate) use named_enum;

named_enum!(
    /// The kind of work item (工单类型).
    TicketKind, "ticket kind" {
        /// 报修: a defect in the unit or common areas.
        Repair => "repair",
        /// 投诉: dissatisfaction with product, service or staff.
        Complaint => "complaint",
        /// 咨询: a question, answered on the spot or after checking.
        Inquiry => "inquiry",
        /// 交付查验问题: found at pre-inspection or the delivery walk-through.
        HandoverDefect => "handover_defect",
    }
);

named_enum!(
    /// Where a report or action came in (报修渠道).
    Channel, "channel" {
        /// The project's or company's hotline.
        Hotline => "hotline",
        /// The group's 400 call center.
        CallCenter400 => "call_center_400",
        /// The owner app or staff field app.
        App => "app",
        /// WeChat official account (微信公众号).
        WeChat => "wechat",
        /// On-site service desk (现场接待).
        ServiceDesk => "service_desk",
        /// Email.
        Email => "email",
        /// Online form.
        WebForm => "web_form",
        /// Owner forum (客户论坛).
        Forum => "forum",
        /// A revisit call (回访) that uncovered the issue.
        Revisit => "revisit",
        /// Staff tools acting on an existing ticket (back office).
        BackOffice => "back_office",
    }
);

named_enum!(
    /// Handling priority.
    Priority, "priority" {
        /// 紧急: water or power cut, severe leak, safety risk.
        Emergency => "emergency",
        /// 较急: affects daily use.
        Urgent => "urgent",
        /// 一般: cosmetic or minor.
        Normal => "normal",
    }
);

named_enum!(
    /// Defect category for product feedback (产品缺陷分类); complaints about
    /// people use `service`.
    Category, "category" {
        /// 规划: planning and design.
        Planning => "planning",
        /// 工程: construction and engineering.
        Engineering => "engineering",
        /// 样板房: model unit versus delivered unit.
        ModelUnit => "model_unit",
        /// 公共设施: public facilities.
        PublicFacilities => "public_facilities",
        /// 服务: service and staff.
        Service => "service",
        /// Anything else.
        Other => "other",
    }
);

named_enum!(
    /// The trade (专业) a defect belongs to.
    Trade, "trade" {
        /// 渗漏.
        Leak => "leak",
        /// 开裂.
        Crack => "crack",
        /// 空鼓.
        Hollow => "hollow",
        /// 门窗.
        DoorsWindows => "doors_windows",
        /// 水电.
        WaterElectric => "water_electric",
        /// 暖通: heating, ventilation, air conditioning.
        Hvac => "hvac",
        /// 洁具: sanitary fixtures.
        Fixtures => "fixtures",
        /// 管道堵塞.
        Blockage => "blockage",
        /// 结构.
        Structure => "structure",
        /// 外立面.
        Facade => "facade",
        /// 电梯.
        Elevator => "elevator",
        /// 园林景观.
        Landscaping => "landscaping",
        /// 装修.
        Decoration => "decoration",
        /// Not a trade (complaints about service, inquiries).
        None => "none",
        /// Anything else.
        Other => "other",
    }
);

named_enum!(
    /// Why a ticket is on hold. Only waiting on the owner pauses the clocks.
    HoldReason, "hold reason" {
        /// 业主联系不上.
        OwnerUnreachable => "owner_unreachable",
        /// 等待材料: our problem, clocks keep running.
        WaitingForMaterial => "waiting_for_material",
        /// 等待业主决定.
        WaitingForOwnerDecision => "waiting_for_owner_decision",
    }
);

impl HoldReason {
    /// Whether the service clocks stop while on hold for this reason.
    pub fn pauses_clocks(self) -> bool {
        matches!(self, HoldReason::OwnerUnreachable | HoldReason::WaitingForOwnerDecision)
    }
}

named_enum!(
    /// Who is responsible for a defect (责任方).
    ResponsibleParty, "responsible party" {
        /// The developer, under warranty (开发商保修).
        Developer => "developer",
        /// The owner's misuse (使用不当): chargeable.
        OwnerMisuse => "owner_misuse",
        /// A third party (第三方), e.g. a neighbour's renovation.
        ThirdParty => "third_party",
        /// The contractor's workmanship (施工质量): the contractor bears it.
        ContractorWorkmanship => "contractor_workmanship",
    }
);

named_enum!(
    /// The customer touchpoint stage (客户接触点) a survey or revisit measures.
    TouchpointStage, "touchpoint stage" {
        /// A 项目前期.
        ProjectPreparation => "a_project_preparation",
        /// B 销售准备.
        SalesPreparation => "b_sales_preparation",
        /// C 销售签约.
        Signing => "c_signing",
        /// D 售后等待.
        WaitingForDelivery => "d_waiting_for_delivery",
        /// E 房屋交付.
        Delivery => "e_delivery",
        /// F 保修服务.
        WarrantyService => "f_warranty_service",
        /// G 居住回访.
        ResidenceRevisit => "g_residence_revisit",
    }
);

named_enum!(
    /// How far a complaint is escalated.
    EscalationLevel, "escalation level" {
        /// Handled by the project company's manager.
        Project => "project",
        /// Raised to the city company (重大投诉 at city level).
        City => "city",
        /// Raised to the group (集团重大投诉).
        Group => "group",
    }
);

named_enum!(
    /// Where a handover defect was found.
    InspectionKind, "inspection" {
        /// 预验房.
        PreInspection => "pre_inspection",
        /// 陪同查验 at delivery.
        DeliveryWalkthrough => "delivery_walkthrough",
    }
);

named_enum!(
    /// The outcome of a revisit call (回访).
    RevisitOutcome, "revisit outcome" {
        /// The owner is satisfied.
        Satisfied => "satisfied",
        /// The owner is not satisfied.
        Dissatisfied => "dissatisfied",
        /// The problem came back.
        ProblemPersists => "problem_persists",
        /// Nobody answered.
        Unreachable => "unreachable",
    }
);

/// Where the defect is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Location {
    /// Inside a unit.
    Unit {
        /// The project.
        project: ProjectId,
        /// The building.
        building: BuildingId,
        /// The unit.
        unit: UnitId,
    },
    /// A common area (公共区域): lobby, garage, garden, roof.
    CommonArea {
        /// The project.
        project: ProjectId,
        /// The building, if the area belongs to one.
        building: Option<BuildingId>,
        /// The place, in words ("B2 garage, column 31").
        place: String,
    },
}

impl Location {
    /// The project the location is in.
    pub fn project(&self) -> &ProjectId {
        match self {
            Location::Unit { project, .. } | Location::CommonArea { project, .. } => project,
        }
    }

    /// The building, if known.
    pub fn building(&self) -> Option<&BuildingId> {
        match self {
            Location::Unit { building, .. } => Some(building),
            Location::CommonArea { building, .. } => building.as_ref(),
        }
    }

    /// The unit, for unit locations.
    pub fn unit(&self) -> Option<&UnitId> {
        match self {
            Location::Unit { unit, .. } => Some(unit),
            Location::CommonArea { .. } => None,
        }
    }
}

/// The person who reported the issue; possibly not a registered owner (a
/// tenant, a family member).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reporter {
    /// The owner's archive record, when the reporter is one.
    pub owner: Option<OwnerId>,
    /// Name.
    pub name: Personal<PersonName>,
    /// Contact phone.
    pub phone: Personal<PhoneNumber>,
}

impl Reporter {
    /// The name and the phone, for sealing and opening.
    pub fn personal_fields(&mut self) -> Vec<crate::personal::PersonalField<'_>> {
        vec![
            crate::personal::PersonalField::Name(&mut self.name),
            crate::personal::PersonalField::Phone(&mut self.phone),
        ]
    }
}

/// Who a ticket is dispatched to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Assignee {
    /// An internal engineer.
    Engineer(UserId),
    /// A contractor company.
    Contractor(ContractorId),
}

impl fmt::Display for Assignee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Assignee::Engineer(u) => write!(f, "engineer {u}"),
            Assignee::Contractor(c) => write!(f, "contractor {c}"),
        }
    }
}

/// An appointment window agreed with the owner (预约时段).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppointmentWindow {
    /// From.
    pub from: DateTime<Utc>,
    /// To.
    pub to: DateTime<Utc>,
}

/// An amount of money in fen (分), the unit payments are made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Amount in fen: 12_350 is ¥123.50.
    pub fen: u64,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}.{:02}", self.fen / 100, self.fen % 100)
    }
}

/// The repair plan decided on site (维修方案).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RepairPlan {
    /// What will be done.
    pub content: String,
    /// Materials needed.
    pub materials: Vec<String>,
    /// Expected duration of the work, in minutes.
    pub duration_minutes: u32,
    /// What the owner pays, if anything.
    pub cost: Option<Money>,
}

/// Owner's ratings, 1 (very dissatisfied) to 5 (very satisfied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ratings {
    /// Overall (总体满意度).
    pub overall: u8,
    /// Product quality (产品质量), if asked.
    pub product_quality: Option<u8>,
    /// Service process (服务过程), if asked.
    pub service_process: Option<u8>,
    /// Staff attitude (服务态度), if asked.
    pub staff_attitude: Option<u8>,
}

impl Ratings {
    /// Checks every rating is between 1 and 5.
    pub fn validate(&self) -> Result<(), DomainError> {
        let all = [
            Some(self.overall),
            self.product_quality,
            self.service_process,
            self.staff_attitude,
        ];
        if all.iter().flatten().any(|r| !(1..=5).contains(r)) {
            return Err(DomainError::input("rating", "ratings are from 1 to 5"));
        }
        Ok(())
    }
}

/// The signed record of a handover defect (查验记录).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HandoverRecord {
    /// Pre-inspection or delivery walk-through.
    pub inspection: InspectionKind,
    /// The rectification date promised to the owner (整改时限), in the
    /// project's time zone.
    pub promised_by: NaiveDate,
    /// Reference to the inspection sheet signed by the owner and the
    /// developer's representative.
    pub signed_record: String,
}
