//! A realistic, reproducible after-sales log, for benchmarks, load tests
//! and the demo mode.
//!
//! The generator plays the developer's whole after-sales operation through
//! the real deciders ([`ProjectDecider`], [`UnitDecider`], [`OwnerDecider`],
//! [`TicketDecider`], [`IncidentDecider`]), so every event it produces is one
//! the domain accepts; a refusal is a bug in the generator and comes out as
//! an error item, never a panic. The same [`GeneratorConfig`] (seed
//! included) gives the same records, byte for byte and with the same event
//! ids, so writing a log twice into the same store is idempotent.
//!
//! # What it produces
//!
//! [`Generator`] is an iterator of [`GeneratedRecord`]s, one record per
//! stream, each meant for one `append`. Memory stays bounded: besides the
//! archive's compact tables (a few bytes per unit) it holds one day of
//! ticket slots and the record it is building, never the log.
//!
//! 1. **The archive (客户档案)** first: each project (registered with its
//!    buildings, 6 to 33 floors, 2 to 4 units a floor), then its units
//!    (registered, and delivered (交付) when the owner came for the keys) and
//!    their owners (registered at contract signing, linked to the unit at
//!    stage C, moved to E at delivery and to F a month later). Projects
//!    start delivering spread over the four years before the period and
//!    the period itself, in one to three phases half a year apart; most
//!    owners collect their keys in the first week, a few months later, a
//!    few not by the end. About 3% of owners bought two neighbouring units.
//! 2. **The tickets (工单)**, in received-time order, one record per ticket
//!    carrying its whole history, then, after the ticket that completes
//!    it, each incident's record. Every action is decided at the time it
//!    happened (`now` = `occurred_at`), so nothing is in the future, and
//!    times only move forward within a record. A history stops at the end
//!    of the period: tickets received in the last weeks are still open.
//!
//! # The model
//!
//! - **Volume per day** follows the delivered units (a unit reports six
//!   times as much in its first year and three times as much in its second
//!   as later, when owners turn to the property manager; the reporting unit
//!   is drawn with the same weights), weekends (45%) and holidays
//!   (30%) of the `cn-mainland` calendar, and the seasons: the plum-rain
//!   and typhoon months June–September bring 30% more, the Spring Festival
//!   months 10% less. Received times are working-hours biased in
//!   Asia/Shanghai (peaks at 09:00–12:00 and 14:00–17:00, a thin evening
//!   and night tail).
//! - **Kinds**: ≈ 70% repair (报修), 12% complaint (投诉), 10% inquiry (咨询),
//!   8% handover defect (交付查验问题). Handover defects are recorded on the
//!   day of a unit's delivery walk-through or at its pre-inspection one to
//!   three weeks before, with a promised rectification date 5–30 days out.
//! - **Priorities**: ≈ 5% emergency (mostly leaks, power and elevators),
//!   25% urgent, 70% normal.
//! - **Channels**: the 400 call center and hotline, WeChat, the app, the
//!   service desk, web form, email, forum and revisit calls; owners
//!   reporting through the app or WeChat act for themselves.
//! - **Categories and trades**: engineering defects dominate; leaks (渗漏)
//!   and cracks (开裂) are the most common trades, then doors and windows,
//!   water and electricity, hollow tiles; homes older than a year report
//!   mostly leaks, cracks, pipes and heating. About 12% of repairs are in
//!   common areas. About 12% of reporters are tenants or relatives, not
//!   the registered owner.
//! - **Repairs**: acknowledged, dispatched (70% to a contractor of the
//!   project's panel, 30% to an engineer), scheduled, visited, diagnosed
//!   by an engineer with the real warranty rules and the delivery date the
//!   archive knows at that moment (none yet for a defect found at
//!   pre-inspection). In warranty the developer is mostly responsible;
//!   owner misuse or an expired warranty makes the repair chargeable (about
//!   a quarter of diagnoses: blocked pipes, lamps and the one-year items
//!   run out quickly), and the owner
//!   confirms the costed plan (`PlanConfirmed`) or declines it
//!   (`PlanDeclined`, then closed). About a third need a second visit.
//!   About 10% of all tickets are put on hold (owner unreachable, waiting
//!   for material, waiting for the owner's decision) and resumed. About 8%
//!   of repairs are rejected once and reopened, a quarter of those twice.
//!   Ratings at acceptance are mostly 4–5, some 3, a few 1–2, lower after
//!   rework. Accepted repairs are closed; about 40% get a revisit call (回访),
//!   and a problem that persists reopens the closed ticket. Response and
//!   visit times mostly meet the default policy, some do not.
//! - **Complaints**: acknowledged, investigated, a resolution proposed;
//!   about a quarter of owners disagree and the complaint is investigated
//!   and proposed again; some are escalated to city or group level; half
//!   get a satisfaction revisit before closing.
//! - **Inquiries**: 60% answered on the spot, the rest after checking.
//! - **Also**: about 2% withdrawn, 1.5% merged into a recent duplicate,
//!   a few percent with priority changes and internal remarks, and every
//!   1,500 tickets or so (at least one per log) an incident (批量问题, e.g. a
//!   building's facade leaking after a storm) that gathers 4 to 12 tickets
//!   of one building within five days: its repairs are linked to it
//!   (`LinkedToIncident`), its complaints escalated into it.
//! - **Actors**: call-center agents, one customer-service manager per
//!   project, engineers, contractors' workers (acting only on tickets
//!   dispatched to their company) and owners.
//!
//! Identifiers: projects `P01`, buildings `P01-03`, units `P01-03-1502`,
//! owners `O000001`, tickets `T-20240312-0007` (received date and number of
//! the day), incidents `INC-0001`.
//!
//! ```
//! use simulator::{Generator, GeneratorConfig};
//! let config = GeneratorConfig { tickets: 20, ..GeneratorConfig::small() };
//! let records = Generator::new(config)?.collect::<Result<Vec<_>, _>>()?;
//! assert!(records.iter().any(|r| r.stream.as_str().starts_with("ticket-")));
//! # Ok::<(), simulator::GeneratorError>(())
//! ```

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use domain::actor::{Actor, Role};
use domain::archive::{
    OwnerCommand, OwnerDecider, ProjectCommand, ProjectDecider, UnitCommand, UnitDecider, UnitState,
};
use domain::calendar::{BusinessCalendar, DayKind};
use domain::decider::{Context, Decider, Stamped};
use domain::error::DomainError;
use domain::ids::{BuildingId, ContractorId, IncidentId, OwnerId, ProjectId, TicketId, UnitId, UserId};
use domain::incident::{IncidentCommand, IncidentDecider};
use domain::personal::{IdNumber, PersonName, Personal, PhoneNumber};
use domain::policy::ServicePolicy;
use domain::ticket::{
    end_of_local_day, AppointmentWindow, Assignee, Category, Channel, EscalationLevel, HandoverRecord, HoldReason,
    InspectionKind, Location, Money, Priority, Ratings, Receive, RepairPlan, Reporter, ResponsibleParty,
    RevisitOutcome, TicketCommand, TicketDecider, TicketEvent, TicketKind, TicketReference, TicketState,
    TouchpointStage, Trade,
};
use domain::warranty::{WarrantyItem, WarrantyRules};
use eventlog::codec::CodecError;
use eventlog::{EventId, EventStore, ExpectedVersion, NewEvent, StoreError, StreamId};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use eventformat::wire::{self, StoredName};

/// How many appends [`write_log`] keeps in flight: each durable append
/// waits for an fsync, and concurrent appends share one (group commit).
pub const CONCURRENT_APPENDS: usize = 32;

// ------------------------------------------------------------ configuration

/// What to generate. Everything follows from these values: the same
/// configuration gives the same records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of projects (项目).
    pub projects: u32,
    /// Number of units (房号) over all projects; at least one per project.
    pub units: u32,
    /// Number of tickets received during the period.
    pub tickets: u32,
    /// First day of the period (local date, Asia/Shanghai).
    pub start: NaiveDate,
    /// Length of the period in days.
    pub days: u32,
    /// Number of contractors (维修单位).
    pub contractors: u32,
    /// Number of engineers (工程部).
    pub engineers: u32,
}

impl Default for GeneratorConfig {
    /// Twenty projects, 50,000 units, 120,000 tickets over three years from
    /// 1 January 2024 (the years the bundled calendar has holidays for),
    /// forty contractors, sixty engineers.
    fn default() -> Self {
        Self {
            seed: 1,
            projects: 20,
            units: 50_000,
            tickets: 120_000,
            start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
            days: 3 * 365,
            contractors: 40,
            engineers: 60,
        }
    }
}

impl GeneratorConfig {
    /// A log small enough for tests: 2 projects, 200 units, 300 tickets over
    /// one year, 6 contractors and 6 engineers.
    pub fn small() -> Self {
        Self {
            projects: 2,
            units: 200,
            tickets: 300,
            days: 365,
            contractors: 6,
            engineers: 6,
            ..Self::default()
        }
    }

    fn validate(&self) -> Result<(), GeneratorError> {
        let problem = if self.projects == 0 || self.projects > 999 {
            Some("projects must be between 1 and 999".to_string())
        } else if self.units < self.projects || self.units > 10_000_000 {
            Some(format!(
                "units must be between the number of projects ({}) and 10,000,000",
                self.projects
            ))
        } else if self.days == 0 || self.days > 20 * 366 {
            Some("days must be between 1 and 7320".to_string())
        } else if !(1900..=9000).contains(&self.start.year()) {
            Some("the start must be between the years 1900 and 9000".to_string())
        } else if self.contractors == 0 || self.contractors > 9999 || self.engineers == 0 || self.engineers > 9999 {
            Some("contractors and engineers must be between 1 and 9999".to_string())
        } else {
            None
        };
        match problem {
            Some(reason) => Err(GeneratorError::InvalidConfig(reason)),
            None => Ok(()),
        }
    }
}

// ------------------------------------------------------------------ output

/// The events of one stream, for one `append`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedRecord {
    /// The stream (`project-P01`, `unit-…`, `owner-…`, `ticket-…`,
    /// `incident-…`).
    pub stream: StreamId,
    /// Its whole history, in order, with deterministic ids.
    pub events: Vec<NewEvent>,
}

/// Tickets by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketCounts {
    /// Repairs (报修).
    pub repair: u64,
    /// Complaints (投诉).
    pub complaint: u64,
    /// Inquiries (咨询).
    pub inquiry: u64,
    /// Handover defects (交付查验问题).
    pub handover_defect: u64,
}

impl TicketCounts {
    /// All tickets.
    pub fn total(&self) -> u64 {
        self.repair + self.complaint + self.inquiry + self.handover_defect
    }

    /// The tickets of one kind.
    pub fn of(&self, kind: TicketKind) -> u64 {
        match kind {
            TicketKind::Repair => self.repair,
            TicketKind::Complaint => self.complaint,
            TicketKind::Inquiry => self.inquiry,
            TicketKind::HandoverDefect => self.handover_defect,
        }
    }

    /// Counts one ticket of `kind`.
    pub fn add(&mut self, kind: TicketKind) {
        match kind {
            TicketKind::Repair => self.repair += 1,
            TicketKind::Complaint => self.complaint += 1,
            TicketKind::Inquiry => self.inquiry += 1,
            TicketKind::HandoverDefect => self.handover_defect += 1,
        }
    }
}

/// What was generated (and, from [`write_log`], appended).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeneratedSummary {
    /// Records (streams), one append each.
    pub records: u64,
    /// Events over all records.
    pub events: u64,
    /// Appends the log recognised as already written (a re-run against the
    /// same log): nothing was written for them. Always 0 from
    /// [`Generator::summary`].
    pub deduplicated: u64,
    /// Contractor and engineer records (the service directory).
    pub directory: u64,
    /// Project records.
    pub projects: u64,
    /// Unit records.
    pub units: u64,
    /// Owner records.
    pub owners: u64,
    /// Incident records.
    pub incidents: u64,
    /// Ticket records by kind.
    pub tickets: TicketCounts,
}

/// Why generating or writing the log failed.
#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    /// The configuration cannot describe a log (no projects, fewer units
    /// than projects, an empty period, …).
    #[error("invalid generator configuration: {0}")]
    InvalidConfig(String),
    /// A decider refused a command the generator issued. This is a bug in
    /// the generator (or a rule changed under it), never the caller's fault.
    #[error("generator bug: {stream}: the domain refused to {action}: {error}")]
    Refused {
        /// The stream being generated.
        stream: String,
        /// What was attempted.
        action: &'static str,
        /// The refusal.
        error: Box<DomainError>,
    },
    /// A generated identifier, name or phone number was not valid: a bug in
    /// the generator.
    #[error("generator bug: generated {what} is invalid: {error}")]
    InvalidValue {
        /// What was generated.
        what: &'static str,
        /// Why it is invalid.
        error: Box<DomainError>,
    },
    /// A stream name was refused by the log: a bug in the generator.
    #[error("generator bug: invalid stream name: {0}")]
    Stream(StoreError),
    /// Personal fields could not be sealed (the key folder failed).
    #[error("cannot seal the personal data of {stream}: {reason}")]
    Seal {
        /// The stream.
        stream: String,
        /// Why.
        reason: String,
    },
    /// An event could not be encoded.
    #[error("cannot encode an event of {stream}: {error}")]
    Encode {
        /// The stream.
        stream: String,
        /// Why.
        error: CodecError,
    },
    /// The log refused or failed an append.
    #[error("cannot append to {stream}: {error}")]
    Append {
        /// The stream.
        stream: String,
        /// Why.
        error: StoreError,
    },
}

// ------------------------------------------------------------------- PRNG

/// splitmix64's output function: a bijective 64-bit mixer.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

// Salts that keep the random streams of the parts of the model apart, so
// that changing one part does not reshuffle the others.
const SALT_WORLD: u64 = 0x5745_4C44;
const SALT_OWNER: u64 = 0x4F57_4E52;
const SALT_ARCHIVE: u64 = 0x4152_4348;
const SALT_DAY: u64 = 0x4441_5953;
const SALT_TICKET: u64 = 0x5449_434B;
const SALT_INCIDENT: u64 = 0x494E_4344;
const SALT_IDS: u64 = 0x4944_5353;

/// splitmix64 (Steele, Lea and Flood 2014): tiny, fast, and good enough
/// for synthetic data. Only integer arithmetic, so results are the same on
/// every platform.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    /// A generator seeded from several values (seed, salt, indexes).
    fn derive(parts: &[u64]) -> Self {
        let state = parts.iter().fold(0x2545_F491_4F6C_DD1D_u64, |s, p| {
            mix64(s ^ mix64(p.wrapping_add(0x9E37_79B9_7F4A_7C15)))
        });
        Self(state)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (`lo` when the range is empty).
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo) as u64 + 1) as i64
        }
    }

    /// True with probability `p` percent.
    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    /// True with probability `p` per mille.
    fn permille(&mut self, p: u64) -> bool {
        self.below(1000) < p
    }

    /// One of `items` (which must not be empty).
    fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A value of `table` with probability proportional to its weight.
    fn weighted<T: Copy>(&mut self, table: &[(T, u32)]) -> T {
        let total: u64 = table.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut r = self.below(total);
        for (value, weight) in table {
            if r < u64::from(*weight) {
                return *value;
            }
            r -= u64::from(*weight);
        }
        table[table.len() - 1].0
    }

    /// Sixteen random bytes as a version-4 UUID.
    fn uuid(&mut self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

// ------------------------------------------------------------ reference text

const PROJECT_NAMES: &[&str] = &[
    "滨江壹号",
    "云栖雅苑",
    "翠湖天地",
    "锦绣华庭",
    "西溪悦府",
    "江南春晓",
    "紫金名门",
    "梧桐公馆",
    "星河湾畔",
    "御景华府",
    "和光尘樾",
    "观澜府",
    "天元玖著",
    "湖山境",
    "桃李春风",
    "青云台",
    "海棠湾",
    "九里晴川",
    "枫丹雅居",
    "松间月",
    "半山悦",
    "金色里程",
    "澄江府",
    "未来域",
];
const CITIES: &[&str] = &[
    "杭州", "上海", "南京", "苏州", "宁波", "合肥", "武汉", "成都", "重庆", "西安", "长沙", "无锡",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "潘", "袁", "蔡",
    "蒋", "余",
];
const GIVEN_NAMES: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
    "平", "刚", "桂英", "建华", "国强", "文", "玉兰", "红", "志强", "海燕", "鹏", "辉", "宇", "欣怡", "婷", "浩然",
    "晨", "子涵", "梓轩", "一诺", "思远", "雨桐", "俊杰", "佳琪", "嘉怡", "晓东", "春梅",
];
const PHONE_PREFIXES: &[&str] = &[
    "138", "139", "136", "137", "135", "150", "151", "152", "158", "159", "186", "187", "188", "130", "131", "132",
    "155", "156", "185", "133", "153", "180", "181", "189", "177", "199",
];
const ID_AREAS: &[&str] = &[
    "330102", "330106", "310101", "310115", "320102", "320506", "330203", "340104", "420106", "510107", "500103",
    "610113", "430104", "320211",
];
const ROOMS: &[&str] = &[
    "主卧", "次卧", "客厅", "厨房", "主卫", "次卫", "阳台", "书房", "餐厅", "玄关",
];
const COMMON_PLACES: &[&str] = &[
    "地下车库B1层立柱附近",
    "单元大堂",
    "屋面",
    "楼梯间",
    "电梯厅",
    "小区中心花园",
    "地下车库B2层坡道",
    "单元入户门",
    "消防通道",
    "地下室设备间",
];

/// What owners say, per trade; `{room}` is replaced by a room.
fn defect_phrases(trade: Trade) -> &'static [&'static str] {
    match trade {
        Trade::Leak => &[
            "{room}天花板渗水，墙角有水渍",
            "{room}窗台下方墙面渗水",
            "{room}地面积水，疑似楼上渗漏",
            "下雨后{room}外墙一侧墙面发霉渗水",
            "{room}吊顶有水滴下来",
        ],
        Trade::Crack => &[
            "{room}墙面出现裂缝，长约三十厘米",
            "{room}顶棚有细小裂纹",
            "{room}门洞上方墙体开裂",
            "{room}地面瓷砖开裂",
        ],
        Trade::Hollow => &["{room}地砖空鼓，踩上去有响声", "{room}墙砖空鼓", "{room}墙面抹灰空鼓"],
        Trade::DoorsWindows => &[
            "{room}窗户关不严，漏风",
            "{room}推拉门滑轨损坏",
            "入户门锁芯卡顿",
            "{room}窗户五金件松脱",
        ],
        Trade::WaterElectric => &[
            "{room}插座没电",
            "{room}灯具不亮，开关失灵",
            "{room}水龙头出水小，水压不足",
            "全屋跳闸，部分回路无电",
        ],
        Trade::Hvac => &["地暖不热", "{room}空调冷凝水管漏水", "新风系统异响"],
        Trade::Fixtures => &["{room}马桶漏水", "{room}洗手盆下水漏水", "{room}淋浴花洒损坏"],
        Trade::Blockage => &["{room}地漏堵塞，排水缓慢", "{room}下水管堵塞返味"],
        Trade::Structure => &["{room}墙体出现斜向裂缝"],
        Trade::Facade => &["外墙瓷砖脱落", "外立面涂料起皮"],
        Trade::Elevator => &["电梯运行异响", "电梯门开关不畅", "电梯困人"],
        Trade::Landscaping => &["绿化带积水", "园路铺装松动"],
        Trade::Decoration => &["{room}木地板起拱", "{room}墙纸开胶", "{room}橱柜门变形"],
        Trade::None | Trade::Other => &["{room}踢脚线脱落", "{room}墙面涂料起皮"],
    }
}

/// Causes found on site, per trade, when the developer or its contractor
/// is responsible.
fn causes(trade: Trade) -> &'static [&'static str] {
    match trade {
        Trade::Leak => &[
            "卫生间防水层破损",
            "外墙窗框打胶老化开裂",
            "楼上住户地漏周边防水失效",
            "屋面防水卷材搭接不严",
        ],
        Trade::Crack => &["墙体抹灰层收缩开裂", "不同材料交接处未挂网", "楼板温度裂缝"],
        Trade::Hollow => &["找平层施工时基层未清理干净", "瓷砖铺贴砂浆不饱满"],
        Trade::DoorsWindows => &["窗扇合页松动", "密封胶条老化", "五金件质量问题"],
        Trade::WaterElectric => &["插座接线松动", "回路漏电保护器故障", "给水管阀门故障"],
        Trade::Hvac => &["地暖分水器阀门未开启", "冷凝水管坡度不足"],
        Trade::Fixtures => &["马桶进水阀损坏", "下水连接处密封圈老化"],
        Trade::Blockage => &["装修垃圾堵塞管道", "地漏内杂物堆积"],
        Trade::Structure => &["结构沉降引起的裂缝，经检测不影响安全"],
        Trade::Facade => &["外墙饰面砖粘结不牢", "外墙涂料基层处理不当"],
        Trade::Elevator => &["门机皮带磨损", "导靴磨损"],
        Trade::Landscaping => &["排水坡度不足", "铺装基层沉降"],
        Trade::Decoration => &["地板铺设未留伸缩缝", "基层含水率过高"],
        Trade::None | Trade::Other => &["材料老化", "安装不牢固"],
    }
}

const MISUSE_CAUSES: &[&str] = &[
    "业主装修时破坏防水层",
    "业主自行改动管线",
    "使用不当导致损坏",
    "业主自行安装的设备导致",
];
const THIRD_PARTY_CAUSES: &[&str] = &["邻居装修施工导致", "市政管网问题导致", "相邻住户使用不当导致"];

/// The repair plan per trade: content, materials, duration in minutes.
fn plan_for(trade: Trade) -> (&'static str, &'static [&'static str], (i64, i64)) {
    match trade {
        Trade::Leak => ("重做防水层并做闭水试验", &["防水涂料", "瓷砖胶"], (180, 600)),
        Trade::Crack => (
            "凿开裂缝，挂网修补后重新涂刷",
            &["抗裂网", "腻子", "乳胶漆"],
            (120, 360),
        ),
        Trade::Hollow => ("拆除空鼓部位重新铺贴", &["瓷砖胶", "瓷砖"], (120, 480)),
        Trade::DoorsWindows => ("调整或更换五金件及密封胶条", &["合页", "密封胶条"], (30, 120)),
        Trade::WaterElectric => ("检修线路或阀门，更换损坏元件", &["插座面板", "阀门"], (30, 150)),
        Trade::Hvac => ("调试系统并疏通管路", &["保温材料"], (60, 240)),
        Trade::Fixtures => ("更换损坏配件", &["进水阀", "密封圈"], (30, 90)),
        Trade::Blockage => ("疏通管道", &[], (30, 120)),
        Trade::Structure => ("专业检测后灌浆修补", &["环氧树脂"], (240, 720)),
        Trade::Facade => ("吊篮作业修复外墙饰面", &["外墙涂料", "瓷砖胶"], (240, 720)),
        Trade::Elevator => ("更换磨损部件并调试", &["门机皮带"], (60, 240)),
        Trade::Landscaping => ("调整排水坡度并修复铺装", &["透水砖"], (120, 480)),
        Trade::Decoration => ("局部拆除并重新安装", &["地板", "墙纸胶"], (60, 300)),
        Trade::None | Trade::Other => ("修复并加固", &["结构胶"], (30, 120)),
    }
}

const COMPLAINT_TEXTS: &[(Category, &str)] = &[
    (Category::Service, "维修人员未按预约时间上门"),
    (Category::Service, "客服电话多次无人接听"),
    (Category::Service, "报修多次未处理，要求给说法"),
    (Category::Service, "维修人员态度差"),
    (Category::Engineering, "房屋多处渗漏，多次维修未解决"),
    (Category::Engineering, "墙面裂缝反复出现"),
    (Category::Planning, "小区车位配比不足"),
    (Category::Planning, "楼间距与宣传不符"),
    (Category::PublicFacilities, "小区电梯经常故障"),
    (Category::PublicFacilities, "地下车库照明不足"),
    (Category::PublicFacilities, "小区门禁系统失灵"),
    (Category::ModelUnit, "交付房屋与样板房装修标准不一致"),
    (Category::ModelUnit, "样板房展示的窗户品牌与实际不符"),
    (Category::Other, "物业费收费标准有异议"),
];

const INQUIRIES: &[(&str, &str)] = &[
    ("产权证办理进度咨询", "不动产权证预计三个月内统一办理，届时短信通知"),
    (
        "物业费缴纳标准咨询",
        "按合同约定的物业服务标准收费，可在业主App查询明细",
    ),
    ("保修期限咨询", "已告知住宅质量保证书中的各项保修期限"),
    ("装修申请流程咨询", "携带装修方案到物业服务中心办理装修登记"),
    ("车位购买咨询", "车位销售方案已公示，可到销售中心咨询"),
    ("学区划分咨询", "学区以教育部门当年公布为准，已提供咨询电话"),
    ("燃气开通流程咨询", "携带身份证和房屋交接单到燃气公司营业厅办理"),
    ("房屋面积测绘结果咨询", "实测面积报告已完成，可到客服中心查阅"),
];

/// Weight of each local hour of the day for reports that are not made at
/// an inspection.
const HOUR_WEIGHTS: [u32; 24] = [
    3, 2, 1, 1, 1, 2, 4, 10, 30, 70, 80, 72, 40, 45, 70, 72, 66, 58, 40, 30, 24, 16, 9, 5,
];

// ------------------------------------------------------------------ the world

/// A project of the plan, with what its records need.
#[derive(Debug, Clone)]
struct ProjectPlan {
    id: ProjectId,
    name: String,
    city: String,
    registered_at: DateTime<Utc>,
    buildings: Vec<BuildingPlan>,
    first_unit: u32,
    unit_end: u32,
    manager: Actor,
}

#[derive(Debug, Clone)]
struct BuildingPlan {
    id: BuildingId,
    name: String,
    /// The day the building was handed over (its delivery phase starts).
    handed_over: NaiveDate,
    first_unit: u32,
    unit_end: u32,
    floors: u16,
}

#[derive(Debug, Clone, Copy)]
struct UnitPlan {
    project: u32,
    building: u32,
    floor: u16,
    room: u16,
    /// The day the owner collected the keys, if within the period.
    delivered_on: Option<NaiveDate>,
    signed_on: NaiveDate,
    owner: u32,
}

#[derive(Debug, Clone, Copy)]
struct OwnerPlan {
    first_unit: u32,
    count: u32,
}

/// Everything fixed before the first record: the archive's tables, the
/// reference data, the staff and the number of tickets of each day.
struct World {
    seed: u64,
    policy: Arc<ServicePolicy>,
    calendar: Arc<BusinessCalendar>,
    warranty: Arc<WarrantyRules>,
    projects: Vec<ProjectPlan>,
    units: Vec<UnitPlan>,
    owners: Vec<OwnerPlan>,
    /// Delivered units sorted by delivery date, and their dates.
    by_delivery: Vec<u32>,
    delivery_dates: Vec<NaiveDate>,
    start: NaiveDate,
    /// The first instant after the period.
    end: DateTime<Utc>,
    /// Tickets of each day: (not at an inspection, handover defects).
    day_counts: Vec<(u32, u32)>,
    agents: Vec<Actor>,
    engineers: Vec<Actor>,
    contractors: Vec<ContractorId>,
    system: Actor,
    tickets: u32,
}

fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    date.checked_add_signed(TimeDelta::days(days)).unwrap_or(date)
}

fn plus(at: DateTime<Utc>, delta: TimeDelta) -> DateTime<Utc> {
    at.checked_add_signed(delta).unwrap_or(at)
}

fn minutes(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}

/// The instant of local `seconds` after midnight of `date` in the
/// calendar's time zone.
fn local_time(calendar: &BusinessCalendar, date: NaiveDate, seconds: u32) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::MIN) + TimeDelta::seconds(i64::from(seconds));
    calendar
        .time_zone()
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

fn id<T>(what: &'static str, made: Result<T, DomainError>) -> Result<T, GeneratorError> {
    made.map_err(|error| GeneratorError::InvalidValue {
        what,
        error: Box::new(error),
    })
}

fn user(name: String) -> Result<UserId, GeneratorError> {
    id("user id", UserId::new(name))
}

impl World {
    fn new(config: &GeneratorConfig) -> Result<Self, GeneratorError> {
        config.validate()?;
        let calendar = BusinessCalendar::cn_mainland();
        let mut rng = Rng::derive(&[config.seed, SALT_WORLD]);
        let start = config.start;
        let last_day = add_days(start, i64::from(config.days) - 1);
        let end = end_of_local_day(&calendar, last_day);
        // Projects start delivering over the four years before the period
        // and the period itself (but at least four months before its end,
        // when the period is long enough).
        let before_from = add_days(start, -4 * 365);
        let span_before = (start - before_from).num_days();
        let during_to = add_days(last_day, -120).max(start);
        let span_during = (during_to - start).num_days();

        // Units per project: one each, the rest by weight.
        let p_count = config.projects as usize;
        let weights: Vec<u64> = (0..p_count).map(|_| 50 + rng.below(101)).collect();
        let total_weight: u64 = weights.iter().sum();
        let spare = u64::from(config.units - config.projects);
        let mut cumulative = 0u64;
        let mut allotted = 0u64;
        let mut per_project = Vec::with_capacity(p_count);
        for w in &weights {
            cumulative += w;
            let upto = (u128::from(spare) * u128::from(cumulative) / u128::from(total_weight)) as u64;
            per_project.push(1 + upto - allotted);
            allotted = upto;
        }

        let mut projects = Vec::with_capacity(p_count);
        let mut units: Vec<UnitPlan> = Vec::with_capacity(config.units as usize);
        let mut owners: Vec<OwnerPlan> = Vec::new();
        let system = Actor::staff(user("crm-import".into())?, Role::System);
        for (p, count) in per_project.iter().enumerate() {
            let project_id = id("project id", ProjectId::new(format!("P{:02}", p + 1)))?;
            // Where in the delivery spread this project falls: the first
            // half of the projects before the period, the second during.
            let den = 2000 * p_count as i64;
            let x = ((2 * p as i64 + 1) * 1000 + rng.between(-400, 400)).clamp(0, den - 1);
            let first_phase = if 2 * x < den {
                add_days(before_from, 2 * x * span_before / den)
            } else {
                add_days(start, (2 * x - den) * span_during / den)
            };
            let phases = 1 + rng.below(3) as i64;
            let phase_gap = 150 + rng.between(0, 90);
            let registered_at = local_time(&calendar, add_days(first_phase, -930), 9 * 3600);
            let name = if p < PROJECT_NAMES.len() {
                PROJECT_NAMES[p].to_string()
            } else {
                format!(
                    "{}{}期",
                    PROJECT_NAMES[p % PROJECT_NAMES.len()],
                    p / PROJECT_NAMES.len() + 1
                )
            };
            let city = CITIES[p % CITIES.len()].to_string();
            let manager = Actor::staff(user(format!("mgr-{project_id}"))?, Role::Manager);

            // Buildings until the project's units are placed.
            let first_unit = units.len() as u32;
            let mut remaining = *count;
            let mut shapes = Vec::new();
            while remaining > 0 {
                let floors: u16 = rng.weighted(&[(6, 10), (11, 25), (18, 30), (26, 20), (33, 15)]);
                let per_floor = 2 + rng.below(3) as u16;
                let capacity = u64::from(floors) * u64::from(per_floor);
                let n = capacity.min(remaining);
                shapes.push((floors, per_floor, n));
                remaining -= n;
            }
            let building_count = shapes.len() as i64;
            let mut buildings = Vec::with_capacity(shapes.len());
            for (b, (floors, per_floor, n)) in shapes.into_iter().enumerate() {
                let phase = b as i64 * phases / building_count;
                let handed_over = add_days(first_phase, phase * phase_gap).min(during_to);
                let building_first = units.len() as u32;
                for k in 0..n {
                    let offset = match rng.below(100) {
                        0..=54 => rng.between(0, 6),
                        55..=84 => rng.between(7, 30),
                        85..=96 => rng.between(31, 90),
                        _ => rng.between(91, 365),
                    };
                    let delivered = add_days(handed_over, offset);
                    units.push(UnitPlan {
                        project: p as u32,
                        building: b as u32,
                        floor: (k / u64::from(per_floor)) as u16 + 1,
                        room: (k % u64::from(per_floor)) as u16 + 1,
                        delivered_on: (delivered <= last_day).then_some(delivered),
                        signed_on: add_days(handed_over, -rng.between(120, 900)),
                        owner: 0,
                    });
                }
                let building_end = units.len() as u32;
                // Owners: mostly one unit each; about 3% bought the next
                // unit of the building as well, signed the same day.
                let mut u = building_first;
                while u < building_end {
                    let both = u + 1 < building_end && rng.percent(3);
                    let owner = owners.len() as u32;
                    let count = if both { 2 } else { 1 };
                    let signed_on = units[u as usize].signed_on;
                    for v in u..u + count {
                        units[v as usize].owner = owner;
                        units[v as usize].signed_on = signed_on;
                    }
                    owners.push(OwnerPlan { first_unit: u, count });
                    u += count;
                }
                buildings.push(BuildingPlan {
                    id: id("building id", BuildingId::new(format!("{project_id}-{:02}", b + 1)))?,
                    name: format!("{}栋", b + 1),
                    handed_over,
                    first_unit: building_first,
                    unit_end: building_end,
                    floors,
                });
            }
            projects.push(ProjectPlan {
                id: project_id,
                name,
                city,
                registered_at,
                buildings,
                first_unit,
                unit_end: units.len() as u32,
                manager,
            });
        }

        let mut delivered: Vec<(NaiveDate, u32)> = units
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u.delivered_on.map(|d| (d, i as u32)))
            .collect();
        delivered.sort_unstable();
        let delivery_dates: Vec<NaiveDate> = delivered.iter().map(|(d, _)| *d).collect();
        let by_delivery: Vec<u32> = delivered.iter().map(|(_, i)| *i).collect();

        let day_counts = Self::day_counts(config, &calendar, &delivery_dates)?;

        let agents = (1..=12)
            .map(|n| Ok(Actor::staff(user(format!("agent-{n:02}"))?, Role::Agent)))
            .collect::<Result<Vec<_>, GeneratorError>>()?;
        let engineers = (1..=config.engineers)
            .map(|n| Ok(Actor::staff(user(format!("eng-{n:03}"))?, Role::Engineer)))
            .collect::<Result<Vec<_>, GeneratorError>>()?;
        let contractors = (1..=config.contractors)
            .map(|n| id("contractor id", ContractorId::new(format!("C-{n:03}"))))
            .collect::<Result<Vec<_>, GeneratorError>>()?;

        Ok(Self {
            seed: config.seed,
            policy: ServicePolicy::default_policy(),
            calendar,
            warranty: WarrantyRules::default_rules(),
            projects,
            units,
            owners,
            by_delivery,
            delivery_dates,
            start,
            end,
            day_counts,
            agents,
            engineers,
            contractors,
            system,
            tickets: config.tickets,
        })
    }

    /// How many tickets each day receives, split by cumulative rounding so
    /// that the totals are exact.
    fn day_counts(
        config: &GeneratorConfig,
        calendar: &BusinessCalendar,
        dates: &[NaiveDate],
    ) -> Result<Vec<(u32, u32)>, GeneratorError> {
        let before = |d: NaiveDate| dates.partition_point(|x| *x < d) as u128;
        let mut weights = Vec::with_capacity(config.days as usize);
        for day in 0..i64::from(config.days) {
            let date = add_days(config.start, day);
            let delivered = before(date);
            let [older, second_year, first_year] = age_buckets(dates, date);
            let day_factor: u128 = match calendar.day_kind(date) {
                DayKind::Workday | DayKind::AdjustedWorkday(_) => 20,
                DayKind::RestDay => 9,
                DayKind::Holiday(_) => 6,
            };
            let season: u128 = match date.month() {
                6..=9 => 13,
                1 | 2 => 9,
                _ => 10,
            };
            let reporting = (older + 3 * second_year + 6 * first_year) as u128;
            let other = day_factor * season * reporting;
            let walkthroughs = before(add_days(date, 1)) - delivered;
            let pre_inspections = before(add_days(date, 22)) - before(add_days(date, 7));
            weights.push((other, walkthroughs * 30 + pre_inspections));
        }
        let total_other: u128 = weights.iter().map(|w| w.0).sum();
        let total_handover: u128 = weights.iter().map(|w| w.1).sum();
        let tickets = u128::from(config.tickets);
        let (mut handover, mut other) = if total_handover > 0 {
            let h = tickets * 8 / 100;
            (h, tickets - h)
        } else {
            (0, tickets)
        };
        if total_other == 0 {
            if total_handover == 0 && tickets > 0 {
                return Err(GeneratorError::InvalidConfig(
                    "no unit is delivered during the period, so no ticket can be received".into(),
                ));
            }
            handover += other;
            other = 0;
        }
        let split = |n: u128, total: u128, pick: fn(&(u128, u128)) -> u128| -> Vec<u32> {
            let mut cumulative = 0u128;
            let mut given = 0u128;
            weights
                .iter()
                .map(|w| {
                    cumulative += pick(w);
                    let upto = (n * cumulative).checked_div(total).unwrap_or(0);
                    let count = upto - given;
                    given = upto;
                    count as u32
                })
                .collect()
        };
        let others = split(other, total_other, |w| w.0);
        let handovers = split(handover, total_handover, |w| w.1);
        Ok(others.into_iter().zip(handovers).collect())
    }

    fn unit_id(&self, unit: u32) -> Result<UnitId, GeneratorError> {
        let u = &self.units[unit as usize];
        let building = &self.projects[u.project as usize].buildings[u.building as usize];
        id(
            "unit id",
            UnitId::new(format!("{}-{}{:02}", building.id, u.floor, u.room)),
        )
    }

    fn owner_id(&self, owner: u32) -> Result<OwnerId, GeneratorError> {
        id("owner id", OwnerId::new(format!("O{:06}", owner + 1)))
    }

    fn building(&self, unit: u32) -> &BuildingPlan {
        let u = &self.units[unit as usize];
        &self.projects[u.project as usize].buildings[u.building as usize]
    }

    /// Delivered units with a delivery date in `from..to` (positions in
    /// `by_delivery`).
    fn delivered_between(&self, from: NaiveDate, to: NaiveDate) -> (usize, usize) {
        let a = self.delivery_dates.partition_point(|d| *d < from);
        let b = self.delivery_dates.partition_point(|d| *d < to);
        (a, b.max(a))
    }
}

/// An owner's personal data, derived from the seed and their number.
struct Person {
    name: PersonName,
    phone: PhoneNumber,
    id_number: Option<IdNumber>,
}

fn person(rng: &mut Rng, with_id: bool) -> Result<Person, GeneratorError> {
    let name = id("name", PersonName::new(*rng.pick(SURNAMES), *rng.pick(GIVEN_NAMES)))?;
    let phone = id(
        "phone number",
        PhoneNumber::new(&format!("{}{:08}", rng.pick(PHONE_PREFIXES), rng.below(100_000_000))),
    )?;
    let id_number = if with_id && rng.percent(70) {
        let body = format!(
            "{}{:04}{:02}{:02}{:03}",
            rng.pick(ID_AREAS),
            rng.between(1950, 2000),
            rng.between(1, 12),
            rng.between(1, 28),
            rng.below(1000)
        );
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = body
            .chars()
            .zip(weights)
            .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
            .sum();
        let check = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize];
        Some(id("ID number", IdNumber::new(&format!("{body}{check}")))?)
    } else {
        None
    };
    Ok(Person { name, phone, id_number })
}

fn owner_person(world: &World, owner: u32) -> Result<Person, GeneratorError> {
    person(&mut Rng::derive(&[world.seed, SALT_OWNER, u64::from(owner)]), true)
}

// ------------------------------------------------------------ records

/// Decides `command` on `state`, applies the events and keeps them.
fn run<D: Decider>(
    stream: &str,
    state: &mut D::State,
    events: &mut Vec<D::Event>,
    command: D::Command,
    action: &'static str,
    context: &Context<D::Reference<'_>>,
) -> Result<(), GeneratorError> {
    let new = D::decide(state, command, context).map_err(|error| GeneratorError::Refused {
        stream: stream.to_string(),
        action,
        error: Box::new(error),
    })?;
    for event in new {
        *state = D::evolve(std::mem::take(state), &event);
        events.push(event);
    }
    Ok(())
}

fn context<R>(actor: &Actor, channel: Channel, at: DateTime<Utc>, reference: R) -> Context<R> {
    Context {
        now: at,
        occurred_at: Some(at),
        actor: actor.clone(),
        channel,
        reference,
    }
}

/// The log records of a stream's events, with ids drawn from a generator
/// seeded by the seed and the stream name: the same stream always gets the
/// same ids, so re-running the generator against the same log is
/// idempotent.
fn encode<E: Serialize + StoredName>(
    seed: u64,
    stream: StreamId,
    events: &[Stamped<E>],
) -> Result<GeneratedRecord, GeneratorError> {
    let mut rng = Rng::derive(&[seed, SALT_IDS, domain::ids::stable_hash(stream.as_str().as_bytes())]);
    let correlation = rng.uuid();
    let events = events
        .iter()
        .map(|e| {
            wire::to_new_event(e, EventId(rng.uuid()), Some(correlation)).map_err(|error| GeneratorError::Encode {
                stream: stream.to_string(),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(GeneratedRecord { stream, events })
}

/// The service directory's records: every contractor company and every
/// engineer, registered when the first project was.
fn directory_records(world: &World) -> Result<Vec<GeneratedRecord>, GeneratorError> {
    use domain::directory::{ContractorCommand, ContractorDecider, EngineerCommand, EngineerDecider};
    let at = world
        .projects
        .iter()
        .map(|p| p.registered_at)
        .min()
        .ok_or_else(|| GeneratorError::InvalidConfig("no projects".into()))?;
    let ctx = context(&world.system, Channel::BackOffice, at, ());
    let mut out = Vec::with_capacity(world.contractors.len() + world.engineers.len());
    for (n, company) in world.contractors.iter().enumerate() {
        let stream = wire::stream_of(company).map_err(GeneratorError::Stream)?;
        let (mut state, mut events) = (Default::default(), Vec::new());
        let command = ContractorCommand::Register {
            contractor: company.clone(),
            name: match n / CONTRACTOR_NAMES.len() {
                0 => format!("{}工程有限公司", CONTRACTOR_NAMES[n]),
                round => format!(
                    "{}{}工程有限公司",
                    CONTRACTOR_NAMES[n % CONTRACTOR_NAMES.len()],
                    round + 1
                ),
            },
            trades: Vec::new(),
        };
        run::<ContractorDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            command,
            "register the contractor",
            &ctx,
        )?;
        out.push(encode(world.seed, stream, &events)?);
    }
    for (n, engineer) in world.engineers.iter().enumerate() {
        let stream = wire::stream_of(&engineer.user).map_err(GeneratorError::Stream)?;
        let (mut state, mut events) = (Default::default(), Vec::new());
        let command = EngineerCommand::Register {
            engineer: engineer.user.clone(),
            name: format!("工程师{:03}", n + 1),
        };
        run::<EngineerDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            command,
            "register the engineer",
            &ctx,
        )?;
        out.push(encode(world.seed, stream, &events)?);
    }
    Ok(out)
}

/// Company names of the generated contractors (with a number when there
/// are more companies than names).
const CONTRACTOR_NAMES: [&str; 8] = [
    "安居防水",
    "恒信建筑",
    "鑫达装饰",
    "华润机电",
    "绿城园林",
    "永固门窗",
    "宏图给排水",
    "远东电气",
];

fn project_record(world: &World, p: usize) -> Result<(GeneratedRecord, domain::archive::Project), GeneratorError> {
    let plan = &world.projects[p];
    let stream = wire::stream_of(&plan.id).map_err(GeneratorError::Stream)?;
    let mut state = Default::default();
    let mut events = Vec::new();
    let at = plan.registered_at;
    run::<ProjectDecider>(
        stream.as_str(),
        &mut state,
        &mut events,
        ProjectCommand::Register {
            project: plan.id.clone(),
            name: plan.name.clone(),
            city: plan.city.clone(),
            calendar: "cn-mainland".into(),
        },
        "register the project",
        &context(&world.system, Channel::BackOffice, at, ()),
    )?;
    for (b, building) in plan.buildings.iter().enumerate() {
        run::<ProjectDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            ProjectCommand::RegisterBuilding {
                building: building.id.clone(),
                name: building.name.clone(),
            },
            "register the building",
            &context(
                &world.system,
                Channel::BackOffice,
                plus(at, TimeDelta::seconds(b as i64 + 1)),
                (),
            ),
        )?;
    }
    let domain::archive::ProjectState(Some(project)) = state else {
        return Err(GeneratorError::InvalidConfig(format!(
            "project {} was not registered",
            plan.id
        )));
    };
    Ok((encode(world.seed, stream, &events)?, project))
}

/// A unit's record, and its state right after registration (what linking
/// its owner at contract signing refers to).
fn unit_record(
    world: &World,
    project: &domain::archive::Project,
    unit: u32,
) -> Result<(GeneratedRecord, domain::archive::Unit), GeneratorError> {
    let plan = world.units[unit as usize];
    let project_plan = &world.projects[plan.project as usize];
    let unit_id = world.unit_id(unit)?;
    let stream = wire::stream_of(&unit_id).map_err(GeneratorError::Stream)?;
    let mut state = UnitState::default();
    let mut events = Vec::new();
    run::<UnitDecider>(
        stream.as_str(),
        &mut state,
        &mut events,
        UnitCommand::Register {
            unit: unit_id.clone(),
            project: project_plan.id.clone(),
            building: world.building(unit).id.clone(),
            number: format!("{}{:02}", plan.floor, plan.room),
        },
        "register the unit",
        &context(
            &world.system,
            Channel::BackOffice,
            plus(project_plan.registered_at, TimeDelta::hours(1)),
            Some(project),
        ),
    )?;
    let registered = state.0.clone();
    if let Some(delivered_on) = plan.delivered_on {
        run::<UnitDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            UnitCommand::RecordDelivery { delivered_on },
            "record the delivery",
            &context(
                &world.system,
                Channel::BackOffice,
                local_time(&world.calendar, delivered_on, 16 * 3600),
                Some(project),
            ),
        )?;
    }
    let Some(registered) = registered else {
        return Err(GeneratorError::InvalidConfig(format!(
            "unit {unit_id} was not registered"
        )));
    };
    Ok((encode(world.seed, stream, &events)?, registered))
}

fn owner_record(world: &World, owner: u32, units: &[domain::archive::Unit]) -> Result<GeneratedRecord, GeneratorError> {
    let plan = world.owners[owner as usize];
    let owner_id = world.owner_id(owner)?;
    let stream = wire::stream_of(&owner_id).map_err(GeneratorError::Stream)?;
    let person = owner_person(world, owner)?;
    let mut rng = Rng::derive(&[world.seed, SALT_ARCHIVE, u64::from(owner)]);
    let first = world.units[plan.first_unit as usize];
    let signed_at = local_time(
        &world.calendar,
        first.signed_on,
        rng.between(10 * 3600, 17 * 3600) as u32,
    );
    let mut state = Default::default();
    let mut events = Vec::new();
    run::<OwnerDecider>(
        stream.as_str(),
        &mut state,
        &mut events,
        OwnerCommand::Register {
            owner: owner_id.clone(),
            name: Personal::new(person.name),
            phone: Personal::new(person.phone),
            id_number: person.id_number.map(Personal::new),
        },
        "register the owner",
        &context(&world.system, Channel::BackOffice, signed_at, None),
    )?;
    let mut stages = Vec::new();
    for (k, unit) in units.iter().enumerate() {
        let plan_u = world.units[(plan.first_unit as usize) + k];
        run::<OwnerDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            OwnerCommand::LinkUnit {
                unit: unit.id.clone(),
                contract_signed_on: plan_u.signed_on,
                stage: TouchpointStage::Signing,
            },
            "link the owner to a unit",
            &context(
                &world.system,
                Channel::BackOffice,
                plus(signed_at, minutes(10 + k as i64)),
                Some(unit),
            ),
        )?;
        if let Some(delivered_on) = plan_u.delivered_on {
            let handed = local_time(&world.calendar, delivered_on, 16 * 3600 + 1800 + k as u32);
            stages.push((handed, unit.id.clone(), TouchpointStage::Delivery));
            let settled = local_time(&world.calendar, add_days(delivered_on, 30), 10 * 3600 + k as u32);
            if settled < world.end {
                stages.push((settled, unit.id.clone(), TouchpointStage::WarrantyService));
            }
        }
    }
    stages.sort_by_key(|s| s.0);
    for (at, unit, stage) in stages {
        run::<OwnerDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            OwnerCommand::ChangeStage { unit, stage },
            "change the touchpoint stage",
            &context(&world.system, Channel::BackOffice, at, None),
        )?;
    }
    encode(world.seed, stream, &events)
}

// ------------------------------------------------------------ tickets

/// One report to make on a day: local seconds after midnight, and whether
/// it is made at a handover inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Slot {
    seconds: u32,
    handover: bool,
}

fn day_slots(world: &World, day: u32) -> Vec<Slot> {
    let (other, handover) = world.day_counts.get(day as usize).copied().unwrap_or((0, 0));
    let mut rng = Rng::derive(&[world.seed, SALT_DAY, u64::from(day)]);
    let hours: Vec<(u32, u32)> = HOUR_WEIGHTS.iter().enumerate().map(|(h, w)| (h as u32, *w)).collect();
    let mut slots = Vec::with_capacity((other + handover) as usize);
    for _ in 0..other {
        let hour = rng.weighted(&hours);
        slots.push(Slot {
            seconds: hour * 3600 + rng.below(3600) as u32,
            handover: false,
        });
    }
    for _ in 0..handover {
        slots.push(Slot {
            seconds: rng.between(9 * 3600, 17 * 3600 + 1800) as u32,
            handover: true,
        });
    }
    slots.sort_unstable();
    slots
}

/// A recently received ticket, for duplicates and incidents.
#[derive(Debug, Clone)]
struct Recent {
    id: TicketId,
    kind: TicketKind,
    received_at: DateTime<Utc>,
    unit: u32,
    location: Location,
    category: Category,
    trade: Trade,
    reporter: Reporter,
    description: String,
}

/// An incident collecting tickets of one building.
#[derive(Debug, Clone)]
struct IncidentPlan {
    id: IncidentId,
    number: u64,
    project: u32,
    /// A delivered unit of the building (to find the building's units).
    anchor: u32,
    trade: Trade,
    level: EscalationLevel,
    links: Vec<(TicketId, DateTime<Utc>)>,
    target: usize,
    deadline: DateTime<Utc>,
}

/// What a ticket is going to be, before its lifecycle is played.
struct TicketPlan {
    id: TicketId,
    kind: TicketKind,
    received_at: DateTime<Utc>,
    channel: Channel,
    unit: u32,
    location: Location,
    delivered_on: Option<NaiveDate>,
    category: Category,
    trade: Trade,
    priority: Priority,
    reporter: Reporter,
    description: String,
    attachments: Vec<String>,
    handover: Option<HandoverRecord>,
    duplicate_of: Option<TicketId>,
    incident: Option<IncidentId>,
    /// Index of the inquiry topic.
    topic: usize,
}

/// The state the ticket phase carries from one ticket to the next.
#[derive(Default)]
struct TicketFlow {
    recent: VecDeque<Recent>,
    incident: Option<IncidentPlan>,
    incidents_opened: u64,
    tickets_done: u64,
}

/// Which record a generated record is, for the summary.
#[derive(Debug, Clone, Copy)]
enum Made {
    Directory,
    Project,
    Unit,
    Owner,
    Ticket(TicketKind),
    Incident,
}

fn pick_delivered(rng: &mut Rng, world: &World, date: NaiveDate) -> Option<u32> {
    let [older, second_year, first_year] = age_buckets(&world.delivery_dates, date);
    let total = older + 3 * second_year + 6 * first_year;
    if total == 0 {
        return None;
    }
    let r = rng.below(total as u64) as usize;
    let i = if r < 6 * first_year {
        older + second_year + r / 6
    } else if r < 6 * first_year + 3 * second_year {
        older + (r - 6 * first_year) / 3
    } else {
        r - 6 * first_year - 3 * second_year
    };
    world.by_delivery.get(i).copied()
}

/// The units delivered before `date` (in `dates`, sorted), by age: more
/// than two years, the second year, the first year. A unit reports six
/// times as much in its first year and three times as much in its second
/// as later, when owners turn to the property manager rather than the
/// developer.
fn age_buckets(dates: &[NaiveDate], date: NaiveDate) -> [usize; 3] {
    let before = |d: NaiveDate| dates.partition_point(|x| *x < d);
    let delivered = before(date);
    let one_year = before(add_days(date, -365)).min(delivered);
    let two_years = before(add_days(date, -730)).min(one_year);
    [two_years, one_year - two_years, delivered - one_year]
}

fn repair_priority(rng: &mut Rng) -> Priority {
    rng.weighted(&[(Priority::Emergency, 7), (Priority::Urgent, 31), (Priority::Normal, 62)])
}

fn repair_trade(rng: &mut Rng, priority: Priority) -> Trade {
    if priority == Priority::Emergency {
        return rng.weighted(&[
            (Trade::Leak, 50),
            (Trade::WaterElectric, 33),
            (Trade::Elevator, 10),
            (Trade::Structure, 2),
            (Trade::Blockage, 5),
        ]);
    }
    rng.weighted(&[
        (Trade::Leak, 240),
        (Trade::Crack, 160),
        (Trade::Hollow, 80),
        (Trade::DoorsWindows, 120),
        (Trade::WaterElectric, 120),
        (Trade::Fixtures, 70),
        (Trade::Blockage, 60),
        (Trade::Hvac, 40),
        (Trade::Decoration, 50),
        (Trade::Facade, 20),
        (Trade::Elevator, 10),
        (Trade::Landscaping, 10),
        (Trade::Structure, 5),
        (Trade::Other, 15),
    ])
}

/// An owner's description of a defect of `trade`, in a room of the unit
/// or (`room` false) in a common area.
fn describe(rng: &mut Rng, trade: Trade, room: bool) -> String {
    let phrase = *rng.pick(defect_phrases(trade));
    let room = if room { *rng.pick(ROOMS) } else { "" };
    phrase.replace("{room}", room)
}

fn common_area(rng: &mut Rng, world: &World, unit: u32) -> Location {
    let u = world.units[unit as usize];
    let building = world.building(unit);
    let place = match *rng.pick(COMMON_PLACES) {
        p @ ("楼梯间" | "电梯厅") => format!("{p}{}层", rng.between(1, i64::from(building.floors))),
        p => p.to_string(),
    };
    Location::CommonArea {
        project: world.projects[u.project as usize].id.clone(),
        building: Some(building.id.clone()),
        place,
    }
}

fn unit_location(world: &World, unit: u32) -> Result<Location, GeneratorError> {
    let u = world.units[unit as usize];
    Ok(Location::Unit {
        project: world.projects[u.project as usize].id.clone(),
        building: world.building(unit).id.clone(),
        unit: world.unit_id(unit)?,
    })
}

/// The owner of `unit` reporting (88%), or a tenant or relative.
fn reporter(rng: &mut Rng, world: &World, unit: u32) -> Result<Reporter, GeneratorError> {
    if rng.percent(12) {
        let p = person(rng, false)?;
        return Ok(Reporter {
            owner: None,
            name: Personal::new(p.name),
            phone: Personal::new(p.phone),
        });
    }
    let owner = world.units[unit as usize].owner;
    let p = owner_person(world, owner)?;
    Ok(Reporter {
        owner: Some(world.owner_id(owner)?),
        name: Personal::new(p.name),
        phone: Personal::new(p.phone),
    })
}

fn attachments(rng: &mut Rng, ticket: &TicketId, photos: u64) -> Vec<String> {
    let n = rng.below(photos + 1);
    (1..=n).map(|k| format!("photo/{ticket}/{k}.jpg")).collect()
}

/// Plans the ticket of `slot`, deciding its kind, unit and report.
fn plan_ticket(
    world: &World,
    flow: &mut TicketFlow,
    rng: &mut Rng,
    date: NaiveDate,
    number: u32,
    slot: Slot,
) -> Result<Option<TicketPlan>, GeneratorError> {
    let ticket = id(
        "ticket id",
        TicketId::new(format!("T-{}-{number:04}", date.format("%Y%m%d"))),
    )?;
    let received_at = local_time(&world.calendar, date, slot.seconds);

    if slot.handover {
        if let Some(plan) = plan_handover(world, rng, &ticket, date, received_at)? {
            return Ok(Some(plan));
        }
    }

    // An incident in progress gathers tickets of its building.
    let joining = match &flow.incident {
        Some(incident) if received_at <= incident.deadline && rng.percent(30) => Some(incident.clone()),
        _ => None,
    };
    if let Some(incident) = joining {
        if let Some(plan) = plan_incident_ticket(world, rng, &incident, ticket.clone(), date, received_at)? {
            if let Some(active) = flow.incident.as_mut() {
                active.links.push((plan.id.clone(), received_at));
            }
            return Ok(Some(plan));
        }
    }

    let kind = rng.weighted(&[
        (TicketKind::Repair, 70),
        (TicketKind::Complaint, 12),
        (TicketKind::Inquiry, 10),
    ]);

    // A duplicate of a recent report (the owner called and also wrote on
    // WeChat).
    if matches!(kind, TicketKind::Repair | TicketKind::Complaint) && rng.permille(15) {
        let original = flow
            .recent
            .iter()
            .rev()
            .find(|r| r.kind == kind && received_at - r.received_at < TimeDelta::days(3))
            .cloned();
        if let Some(original) = original {
            let priority = if kind == TicketKind::Repair {
                repair_priority(rng)
            } else {
                Priority::Normal
            };
            let channel = if original.reporter.owner.is_some() {
                *rng.pick(&[Channel::WeChat, Channel::App, Channel::CallCenter400])
            } else {
                Channel::CallCenter400
            };
            let unit = original.unit;
            return Ok(Some(TicketPlan {
                attachments: attachments(rng, &ticket, 2),
                id: ticket,
                kind,
                received_at,
                channel,
                unit,
                delivered_on: delivered_for(world, unit, &original.location),
                location: original.location,
                category: original.category,
                trade: original.trade,
                priority,
                reporter: original.reporter,
                description: format!("重复反映：{}", original.description),
                handover: None,
                duplicate_of: Some(original.id),
                incident: None,
                topic: 0,
            }));
        }
    }

    let Some(unit) = pick_delivered(rng, world, date) else {
        return Ok(None);
    };
    let reporter = reporter(rng, world, unit)?;
    let (channel, category, trade, priority, location, description, topic) = match kind {
        TicketKind::Repair => {
            let priority = repair_priority(rng);
            let mut trade = repair_trade(rng, priority);
            // Fittings show their defects in the first year; what older
            // homes report to the developer is mostly water getting in.
            let aged = world.units[unit as usize]
                .delivered_on
                .is_some_and(|d| d < add_days(date, -365));
            if aged && priority != Priority::Emergency && rng.percent(70) {
                trade = rng.weighted(&[
                    (Trade::Leak, 55),
                    (Trade::Crack, 12),
                    (Trade::WaterElectric, 15),
                    (Trade::Hvac, 10),
                    (Trade::Facade, 5),
                    (Trade::Structure, 3),
                ]);
            }
            let common = matches!(trade, Trade::Elevator | Trade::Landscaping | Trade::Facade) || rng.percent(8);
            let (location, category) = if common {
                if !matches!(
                    trade,
                    Trade::Elevator | Trade::Landscaping | Trade::Facade | Trade::Leak
                ) {
                    trade = *rng.pick(&[Trade::Leak, Trade::Crack, Trade::WaterElectric, Trade::DoorsWindows]);
                }
                (common_area(rng, world, unit), Category::PublicFacilities)
            } else {
                let category = rng.weighted(&[
                    (Category::Engineering, 90),
                    (Category::ModelUnit, 3),
                    (Category::Planning, 2),
                    (Category::Other, 5),
                ]);
                (unit_location(world, unit)?, category)
            };
            let channel = rng.weighted(&[
                (Channel::Hotline, 14),
                (Channel::CallCenter400, 30),
                (Channel::App, 18),
                (Channel::WeChat, 22),
                (Channel::ServiceDesk, 8),
                (Channel::WebForm, 3),
                (Channel::Email, 1),
                (Channel::Forum, 1),
                (Channel::Revisit, 3),
            ]);
            let description = match &location {
                Location::CommonArea { place, .. } => format!("{place}：{}", describe(rng, trade, false)),
                Location::Unit { .. } => describe(rng, trade, true),
            };
            (channel, category, trade, priority, location, description, 0)
        }
        TicketKind::Complaint => {
            let (category, text) = *rng.pick(COMPLAINT_TEXTS);
            let trade = match category {
                Category::Engineering => *rng.pick(&[Trade::Leak, Trade::Crack, Trade::Hollow]),
                Category::PublicFacilities => *rng.pick(&[Trade::Elevator, Trade::WaterElectric, Trade::Other]),
                Category::ModelUnit => *rng.pick(&[Trade::Decoration, Trade::DoorsWindows]),
                _ => Trade::None,
            };
            let location = if matches!(category, Category::PublicFacilities | Category::Planning) {
                common_area(rng, world, unit)
            } else {
                unit_location(world, unit)?
            };
            let channel = rng.weighted(&[
                (Channel::Hotline, 20),
                (Channel::CallCenter400, 35),
                (Channel::WeChat, 12),
                (Channel::App, 5),
                (Channel::Email, 8),
                (Channel::Forum, 10),
                (Channel::ServiceDesk, 7),
                (Channel::Revisit, 3),
            ]);
            let priority = if rng.percent(15) {
                Priority::Urgent
            } else {
                Priority::Normal
            };
            (channel, category, trade, priority, location, text.to_string(), 0)
        }
        // Handover defects come from inspection slots only (above); the
        // kinds drawn here are the other three.
        TicketKind::Inquiry | TicketKind::HandoverDefect => {
            let topic = rng.below(INQUIRIES.len() as u64) as usize;
            let channel = rng.weighted(&[
                (Channel::Hotline, 25),
                (Channel::CallCenter400, 30),
                (Channel::App, 10),
                (Channel::WeChat, 20),
                (Channel::ServiceDesk, 15),
            ]);
            let location = unit_location(world, unit)?;
            (
                channel,
                Category::Other,
                Trade::None,
                Priority::Normal,
                location,
                INQUIRIES[topic].0.to_string(),
                topic,
            )
        }
    };
    // Only registered owners use the owner app and WeChat account.
    let channel = if reporter.owner.is_none() && matches!(channel, Channel::App | Channel::WeChat) {
        Channel::Hotline
    } else {
        channel
    };
    let photos = if kind == TicketKind::Inquiry { 0 } else { 4 };
    Ok(Some(TicketPlan {
        attachments: attachments(rng, &ticket, photos),
        id: ticket,
        kind,
        received_at,
        channel,
        unit,
        delivered_on: delivered_for(world, unit, &location),
        location,
        category,
        trade,
        priority,
        reporter,
        description,
        handover: None,
        duplicate_of: None,
        incident: None,
        topic,
    }))
}

/// The delivery date a decision on `location` refers to: the unit's, or
/// for a common area the day its building was handed over.
fn delivered_for(world: &World, unit: u32, location: &Location) -> Option<NaiveDate> {
    match location {
        Location::Unit { .. } => world.units[unit as usize].delivered_on,
        Location::CommonArea { .. } => Some(world.building(unit).handed_over),
    }
}

fn plan_handover(
    world: &World,
    rng: &mut Rng,
    ticket: &TicketId,
    date: NaiveDate,
    received_at: DateTime<Utc>,
) -> Result<Option<TicketPlan>, GeneratorError> {
    let walk = world.delivered_between(date, add_days(date, 1));
    let pre = world.delivered_between(add_days(date, 7), add_days(date, 22));
    let (walk_n, pre_n) = ((walk.1 - walk.0) as u64, (pre.1 - pre.0) as u64);
    if walk_n + pre_n == 0 {
        return Ok(None);
    }
    let at_walkthrough = rng.below(walk_n * 30 + pre_n) < walk_n * 30;
    let (range, inspection) = if at_walkthrough {
        (walk, InspectionKind::DeliveryWalkthrough)
    } else {
        (pre, InspectionKind::PreInspection)
    };
    let position = range.0 + rng.below((range.1 - range.0) as u64) as usize;
    let Some(unit) = world.by_delivery.get(position).copied() else {
        return Ok(None);
    };
    let owner = world.units[unit as usize].owner;
    let person = owner_person(world, owner)?;
    let trade = rng.weighted(&[
        (Trade::Hollow, 25),
        (Trade::Crack, 20),
        (Trade::DoorsWindows, 20),
        (Trade::Leak, 10),
        (Trade::WaterElectric, 10),
        (Trade::Decoration, 10),
        (Trade::Fixtures, 5),
    ]);
    let priority = rng.weighted(&[(Priority::Emergency, 2), (Priority::Urgent, 20), (Priority::Normal, 78)]);
    let prefix = match inspection {
        InspectionKind::PreInspection => "预验房发现",
        InspectionKind::DeliveryWalkthrough => "交付查验发现",
    };
    let unit_id = world.unit_id(unit)?;
    let location = unit_location(world, unit)?;
    Ok(Some(TicketPlan {
        attachments: attachments(rng, ticket, 3),
        id: ticket.clone(),
        kind: TicketKind::HandoverDefect,
        received_at,
        channel: Channel::ServiceDesk,
        unit,
        delivered_on: world.units[unit as usize].delivered_on,
        location,
        category: Category::Engineering,
        trade,
        priority,
        reporter: Reporter {
            owner: Some(world.owner_id(owner)?),
            name: Personal::new(person.name),
            phone: Personal::new(person.phone),
        },
        description: format!("{prefix}{}", describe(rng, trade, true)),
        handover: Some(HandoverRecord {
            inspection,
            promised_by: add_days(date, rng.between(5, 30)),
            signed_record: format!("CY-{unit_id}-{}", date.format("%Y%m%d")),
        }),
        duplicate_of: None,
        incident: None,
        topic: 0,
    }))
}

fn plan_incident_ticket(
    world: &World,
    rng: &mut Rng,
    incident: &IncidentPlan,
    ticket: TicketId,
    date: NaiveDate,
    received_at: DateTime<Utc>,
) -> Result<Option<TicketPlan>, GeneratorError> {
    let building = world.building(incident.anchor);
    let span = u64::from(building.unit_end - building.first_unit);
    let mut unit = None;
    for _ in 0..8 {
        let candidate = building.first_unit + rng.below(span) as u32;
        if world.units[candidate as usize].delivered_on.is_some_and(|d| d < date) {
            unit = Some(candidate);
            break;
        }
    }
    let Some(unit) = unit else {
        return Ok(None);
    };
    let complaint = rng.percent(20);
    let location = if incident.trade == Trade::Elevator || rng.percent(25) {
        common_area(rng, world, unit)
    } else {
        unit_location(world, unit)?
    };
    let reporter = reporter(rng, world, unit)?;
    let channel = match (&reporter.owner, rng.below(3)) {
        (Some(_), 0) => Channel::WeChat,
        (_, 1) => Channel::Hotline,
        _ => Channel::CallCenter400,
    };
    let (kind, category, priority, description) = if complaint {
        (
            TicketKind::Complaint,
            Category::Engineering,
            Priority::Urgent,
            format!("同一问题多户反映仍未解决：{}", describe(rng, incident.trade, true)),
        )
    } else {
        (
            TicketKind::Repair,
            if matches!(location, Location::CommonArea { .. }) {
                Category::PublicFacilities
            } else {
                Category::Engineering
            },
            rng.weighted(&[
                (Priority::Emergency, 10),
                (Priority::Urgent, 50),
                (Priority::Normal, 40),
            ]),
            describe(rng, incident.trade, matches!(location, Location::Unit { .. })),
        )
    };
    Ok(Some(TicketPlan {
        attachments: attachments(rng, &ticket, 4),
        id: ticket,
        kind,
        received_at,
        channel,
        unit,
        delivered_on: delivered_for(world, unit, &location),
        location,
        category,
        trade: incident.trade,
        priority,
        reporter,
        description,
        handover: None,
        duplicate_of: None,
        incident: Some(incident.id.clone()),
        topic: 0,
    }))
}

/// Why a ticket's history stopped: the end of the period, or a bug.
enum Stop {
    End,
    Failed(GeneratorError),
}

impl From<GeneratorError> for Stop {
    fn from(e: GeneratorError) -> Self {
        Stop::Failed(e)
    }
}

/// Plays a ticket's lifecycle through the ticket decider.
struct Sim<'w> {
    world: &'w World,
    /// Reference data; `delivered_on` is set per action from the next field.
    reference: TicketReference<'w>,
    /// The delivery date of the ticket's unit (or common area), which the
    /// archive knows from that day on: a defect found at pre-inspection is
    /// decided without one until the unit is delivered.
    delivered_on: Option<NaiveDate>,
    stream: String,
    state: TicketState,
    events: Vec<Stamped<TicketEvent>>,
    at: DateTime<Utc>,
    rng: Rng,
    emergency: bool,
}

impl Sim<'_> {
    /// Decides `command` at `when` (not before the previous action);
    /// stops at the end of the period.
    fn act(
        &mut self,
        when: DateTime<Utc>,
        actor: &Actor,
        channel: Channel,
        command: TicketCommand,
    ) -> Result<(), Stop> {
        let when = when.max(self.at);
        if when >= self.world.end {
            return Err(Stop::End);
        }
        let action = command.action();
        let today = self.world.calendar.local_date(when);
        let reference = TicketReference {
            delivered_on: self.delivered_on.filter(|d| *d <= today),
            ..self.reference
        };
        let ctx = context(actor, channel, when, reference);
        let new = TicketDecider::decide(&self.state, command, &ctx).map_err(|error| {
            Stop::Failed(GeneratorError::Refused {
                stream: self.stream.clone(),
                action,
                error: Box::new(error),
            })
        })?;
        for event in new {
            self.state = TicketDecider::evolve(std::mem::take(&mut self.state), &event);
            self.events.push(event);
        }
        self.at = when;
        Ok(())
    }

    /// `lo..=hi` minutes of working time after the last action.
    fn business(&mut self, lo: i64, hi: i64) -> DateTime<Utc> {
        let m = self.rng.between(lo, hi).max(1);
        self.world.calendar.add_business_time(self.at, minutes(m))
    }

    /// `lo..=hi` minutes of wall-clock time after the last action.
    fn wall(&mut self, lo: i64, hi: i64) -> DateTime<Utc> {
        let m = self.rng.between(lo, hi);
        plus(self.at, minutes(m))
    }

    /// Staff time: wall-clock for emergencies, working time otherwise.
    fn staff(&mut self, lo: i64, hi: i64) -> DateTime<Utc> {
        if self.emergency {
            self.wall(lo.min(30), hi.min(90))
        } else {
            self.business(lo, hi)
        }
    }

    /// An appointment window of two hours, agreed at `agreed`, starting on
    /// the hour about `lo..=hi` working minutes later (at least half an
    /// hour later).
    fn window(&mut self, agreed: DateTime<Utc>, lo: i64, hi: i64) -> AppointmentWindow {
        let m = self.rng.between(lo, hi).max(1);
        let earliest = plus(agreed, minutes(30));
        let start = self.world.calendar.add_business_time(agreed, minutes(m)).max(earliest);
        let on_the_hour = start - TimeDelta::seconds(start.timestamp().rem_euclid(3600));
        let from = if on_the_hour >= earliest {
            on_the_hour
        } else {
            plus(on_the_hour, TimeDelta::hours(1))
        };
        AppointmentWindow {
            from,
            to: plus(from, TimeDelta::hours(2)),
        }
    }

    fn note(&mut self, texts: &[&str]) -> String {
        (*self.rng.pick(texts)).to_string()
    }

    fn finish(self) -> Vec<Stamped<TicketEvent>> {
        self.events
    }
}

/// Who works on a ticket.
struct Cast {
    agent: Actor,
    manager: Actor,
    engineer: Actor,
    /// The reporting owner acting for themselves, when the reporter is one.
    owner: Option<(Actor, Channel)>,
}

impl Cast {
    /// The owner themselves through the app, or an agent on the phone.
    fn owner_or_agent(&self, rng: &mut Rng) -> (Actor, Channel) {
        match &self.owner {
            Some((actor, channel)) if rng.percent(60) => (actor.clone(), *channel),
            _ => (self.agent.clone(), Channel::CallCenter400),
        }
    }
}

fn worker(rng: &mut Rng, to: &Assignee) -> Result<Actor, GeneratorError> {
    match to {
        Assignee::Engineer(user) => Ok(Actor::staff(user.clone(), Role::Engineer)),
        Assignee::Contractor(company) => Ok(Actor::contractor(
            user(format!("{company}-w{}", rng.between(1, 4)))?,
            company.clone(),
        )),
    }
}

/// An engineer or a contractor of the project's panel for the trade.
fn assignee(world: &World, rng: &mut Rng, project: u32, trade: Trade, other_than: Option<&Assignee>) -> Assignee {
    for _ in 0..4 {
        let candidate = if rng.percent(30) {
            let n = world.engineers.len() as u64;
            let e = (u64::from(project) * 3 + rng.below(3)) % n;
            Assignee::Engineer(world.engineers[e as usize].user.clone())
        } else {
            let n = world.contractors.len() as u64;
            let trade_index = Trade::ALL.iter().position(|t| *t == trade).unwrap_or(0) as u64;
            let c = (u64::from(project) * 7 + trade_index * 3 + rng.below(2)) % n;
            Assignee::Contractor(world.contractors[c as usize].clone())
        };
        if Some(&candidate) != other_than {
            return candidate;
        }
    }
    Assignee::Contractor(world.contractors[rng.below(world.contractors.len() as u64) as usize].clone())
}

fn ratings(rng: &mut Rng, reworked: u32) -> Ratings {
    let mut overall: u8 = rng.weighted(&[(5, 55), (4, 28), (3, 11), (2, 3), (1, 3)]);
    if reworked > 0 && rng.percent(50) {
        overall = overall.saturating_sub(1).max(1);
    }
    let near = |rng: &mut Rng| (i64::from(overall) + rng.between(-1, 1)).clamp(1, 5) as u8;
    if rng.percent(30) {
        Ratings {
            overall,
            product_quality: None,
            service_process: None,
            staff_attitude: None,
        }
    } else {
        Ratings {
            overall,
            product_quality: Some(near(rng)),
            service_process: Some(near(rng)),
            staff_attitude: Some(near(rng)),
        }
    }
}

fn warranty_item(rng: &mut Rng, trade: Trade, common: bool) -> WarrantyItem {
    use WarrantyItem as W;
    match trade {
        Trade::Leak if common => *rng.pick(&[W::RoofWaterproofing, W::ExteriorWallLeakage]),
        Trade::Leak => rng.weighted(&[
            (W::WaterproofedRooms, 6),
            (W::ExteriorWallLeakage, 3),
            (W::RoofWaterproofing, 1),
        ]),
        Trade::Crack => rng.weighted(&[
            (W::PlasterFalling, 5),
            (W::HollowOrCrackedFloor, 4),
            (W::FoundationAndStructure, 1),
        ]),
        Trade::Hollow => *rng.pick(&[W::HollowOrCrackedFloor, W::PlasterFalling]),
        Trade::DoorsWindows => W::DoorsAndWindows,
        Trade::WaterElectric => *rng.pick(&[W::ElectricalLines, W::WaterSupplyAndDrainage, W::LampsAndSwitches]),
        Trade::Hvac => *rng.pick(&[W::HeatingSystem, W::CoolingSystem]),
        Trade::Fixtures => W::SanitaryFixtures,
        Trade::Blockage => W::BlockedPipes,
        Trade::Structure => W::FoundationAndStructure,
        Trade::Facade => W::ExteriorWallLeakage,
        Trade::Elevator => W::EquipmentInstallation,
        Trade::Landscaping | Trade::Decoration | Trade::None | Trade::Other => W::Decoration,
    }
}

/// Generates one ticket record (and updates the incident in progress).
fn ticket_record(
    world: &World,
    flow: &mut TicketFlow,
    day: u32,
    number: u32,
    slot: Slot,
) -> Result<Option<(GeneratedRecord, TicketKind)>, GeneratorError> {
    let date = add_days(world.start, i64::from(day));
    let mut rng = Rng::derive(&[world.seed, SALT_TICKET, u64::from(day), u64::from(number)]);
    let Some(mut plan) = plan_ticket(world, flow, &mut rng, date, number, slot)? else {
        return Ok(None);
    };
    flow.tickets_done += 1;

    // Maybe start an incident: a batch-prone defect in a building. At
    // least one incident per log once a third of the tickets are out.
    let prone = matches!(plan.trade, Trade::Leak | Trade::Facade | Trade::Crack | Trade::Elevator);
    if flow.incident.is_none()
        && plan.kind == TicketKind::Repair
        && plan.duplicate_of.is_none()
        && plan.incident.is_none()
        && prone
        && (rng.permille(2) || (flow.incidents_opened == 0 && flow.tickets_done * 3 >= u64::from(world.tickets)))
    {
        flow.incidents_opened += 1;
        let number = flow.incidents_opened;
        let mut irng = Rng::derive(&[world.seed, SALT_INCIDENT, number]);
        let incident = id("incident id", IncidentId::new(format!("INC-{number:04}")))?;
        plan.incident = Some(incident.clone());
        flow.incident = Some(IncidentPlan {
            id: incident,
            number,
            project: world.units[plan.unit as usize].project,
            anchor: plan.unit,
            trade: plan.trade,
            level: if irng.percent(30) {
                EscalationLevel::City
            } else {
                EscalationLevel::Project
            },
            links: vec![(plan.id.clone(), plan.received_at)],
            target: irng.between(4, 12) as usize,
            deadline: plus(plan.received_at, TimeDelta::days(5)),
        });
    }

    let stream = wire::stream_of(&plan.id).map_err(GeneratorError::Stream)?;
    let kind = plan.kind;
    let u = world.units[plan.unit as usize];
    let project = &world.projects[u.project as usize];
    let agent = world.agents[rng.below(world.agents.len() as u64) as usize].clone();
    let engineer_index = (u64::from(u.project) * 3 + rng.below(3)) % world.engineers.len() as u64;
    let cast = Cast {
        agent,
        manager: project.manager.clone(),
        engineer: world.engineers[engineer_index as usize].clone(),
        owner: match &plan.reporter.owner {
            Some(owner) => Some((
                Actor::owner(user(format!("u-{owner}"))?, owner.clone()),
                if plan.channel == Channel::WeChat {
                    Channel::WeChat
                } else {
                    Channel::App
                },
            )),
            None => None,
        },
    };
    let mut sim = Sim {
        world,
        reference: TicketReference {
            policy: &world.policy,
            calendar: &world.calendar,
            warranty: &world.warranty,
            delivered_on: None,
        },
        delivered_on: plan.delivered_on,
        stream: stream.to_string(),
        state: TicketState::default(),
        events: Vec::with_capacity(24),
        at: plan.received_at,
        rng,
        emergency: plan.priority == Priority::Emergency,
    };
    let outcome = match kind {
        TicketKind::Repair | TicketKind::HandoverDefect => repair(&mut sim, &plan, &cast, u.project),
        TicketKind::Complaint => complaint(&mut sim, &plan, &cast),
        TicketKind::Inquiry => inquiry(&mut sim, &plan, &cast),
    };
    match outcome {
        Ok(()) | Err(Stop::End) => {}
        Err(Stop::Failed(e)) => return Err(e),
    }
    let events = sim.finish();

    if plan.handover.is_none() {
        flow.recent.push_back(Recent {
            id: plan.id,
            kind,
            received_at: plan.received_at,
            unit: plan.unit,
            location: plan.location,
            category: plan.category,
            trade: plan.trade,
            reporter: plan.reporter,
            description: plan.description,
        });
        if flow.recent.len() > 16 {
            flow.recent.pop_front();
        }
    }
    Ok(Some((encode(world.seed, stream, &events)?, kind)))
}

fn receive_command(plan: &TicketPlan) -> TicketCommand {
    TicketCommand::Receive(Box::new(Receive {
        ticket: plan.id.clone(),
        kind: plan.kind,
        reporter: plan.reporter.clone(),
        location: plan.location.clone(),
        category: plan.category,
        trade: plan.trade,
        description: plan.description.clone(),
        attachments: plan.attachments.clone(),
        priority: plan.priority,
        handover: plan.handover.clone(),
    }))
}

/// Who records a report coming in through `channel`.
fn receiver(plan: &TicketPlan, cast: &Cast) -> Actor {
    match (&cast.owner, plan.channel) {
        (Some((owner, _)), Channel::App | Channel::WeChat) => owner.clone(),
        _ if plan.kind == TicketKind::HandoverDefect => cast.engineer.clone(),
        _ => cast.agent.clone(),
    }
}

fn merge_duplicate(sim: &mut Sim<'_>, cast: &Cast, into: &TicketId) -> Result<(), Stop> {
    let t = sim.staff(5, 180);
    sim.act(
        t,
        &cast.agent,
        Channel::BackOffice,
        TicketCommand::Merge { into: into.clone() },
    )
}

/// A repair or handover defect, from receipt to closing and revisit.
fn repair(sim: &mut Sim<'_>, plan: &TicketPlan, cast: &Cast, project: u32) -> Result<(), Stop> {
    let handover = plan.kind == TicketKind::HandoverDefect;
    sim.act(
        plan.received_at,
        &receiver(plan, cast),
        plan.channel,
        receive_command(plan),
    )?;
    if let Some(into) = &plan.duplicate_of {
        return merge_duplicate(sim, cast, into);
    }
    let world = sim.world;

    if !handover {
        // First response: mostly within the policy's target, some late.
        let t = match (plan.priority, sim.rng.below(100)) {
            (Priority::Emergency, 0..=89) => sim.wall(3, 25),
            (Priority::Emergency, _) => sim.wall(30, 75),
            (Priority::Urgent, 0..=84) => sim.business(5, 90),
            (Priority::Urgent, 85..=94) => sim.business(90, 120),
            (Priority::Urgent, _) => sim.business(120, 300),
            (_, 0..=79) => sim.business(5, 240),
            (_, 80..=91) => sim.business(240, 450),
            _ => sim.business(450, 1000),
        };
        let promised = if sim.emergency {
            plus(t, minutes(sim.rng.between(40, 110)))
        } else {
            world.calendar.add_business_time(t, minutes(sim.rng.between(240, 900)))
        };
        let note = sim.note(&[
            "已与业主确认问题，告知上门时间",
            "业主已确认报修内容",
            "已回电业主，约定尽快安排上门",
        ]);
        sim.act(
            t,
            &cast.agent,
            Channel::CallCenter400,
            TicketCommand::Acknowledge {
                promised_at: Some(promised),
                note,
            },
        )?;
        if sim.rng.permille(15) {
            let (actor, channel) = cast.owner_or_agent(&mut sim.rng);
            let t = sim.staff(30, 900);
            let reason = sim.note(&["业主已自行处理", "问题已自行消失", "业主表示暂不需要维修"]);
            return sim.act(t, &actor, channel, TicketCommand::Withdraw { reason });
        }
        if plan.priority != Priority::Emergency && sim.rng.percent(4) {
            let (priority, reason) = if plan.priority == Priority::Normal {
                (Priority::Urgent, "业主再次来电，问题已影响正常使用")
            } else {
                (Priority::Normal, "经电话核实，问题不影响正常使用")
            };
            let t = sim.business(10, 300);
            sim.act(
                t,
                &cast.agent,
                Channel::CallCenter400,
                TicketCommand::ChangePriority {
                    priority,
                    reason: reason.into(),
                },
            )?;
        }
        if sim.rng.percent(4) {
            let t = sim.staff(5, 120);
            let text = sim.note(&["业主要求下午上门", "业主白天上班，需提前电话联系", "楼上住户需配合检查"]);
            sim.act(
                t,
                &cast.agent,
                Channel::BackOffice,
                TicketCommand::Comment { text, internal: true },
            )?;
        }
        if let Some(incident) = &plan.incident {
            let t = sim.staff(30, 180);
            sim.act(
                t,
                &cast.manager,
                Channel::BackOffice,
                TicketCommand::LinkIncident {
                    incident: incident.clone(),
                },
            )?;
        }
    }

    // Dispatch.
    let mut to = assignee(world, &mut sim.rng, project, plan.trade, None);
    let t = if handover {
        sim.business(30, 480)
    } else {
        sim.staff(5, 240)
    };
    let dispatcher = if sim.rng.percent(50) {
        &cast.manager
    } else {
        &cast.agent
    };
    sim.act(
        t,
        dispatcher,
        Channel::BackOffice,
        TicketCommand::Dispatch {
            to: to.clone(),
            note: if handover {
                "交付查验问题，请在承诺日期前整改".into()
            } else {
                "请尽快联系业主上门".into()
            },
        },
    )?;
    let mut work = worker(&mut sim.rng, &to)?;

    if !sim.emergency && sim.rng.percent(4) {
        let t = sim.business(30, 240);
        sim.act(
            t,
            &work,
            Channel::App,
            TicketCommand::PutOnHold {
                reason: HoldReason::OwnerUnreachable,
                note: "多次致电业主无人接听".into(),
            },
        )?;
        let t = sim.business(450, 5 * 450);
        sim.act(
            t,
            &cast.agent,
            Channel::CallCenter400,
            TicketCommand::Resume {
                note: "已联系上业主".into(),
            },
        )?;
    }

    // The visit.
    if sim.emergency {
        let t = if sim.rng.percent(88) {
            sim.wall(15, 110)
        } else {
            sim.wall(120, 240)
        };
        sim.act(
            t,
            &work,
            Channel::App,
            TicketCommand::RecordArrival {
                note: "紧急上门".into(),
            },
        )?;
        if sim.rng.percent(40) {
            let t = sim.wall(20, 60);
            sim.act(
                t,
                &cast.engineer,
                Channel::App,
                TicketCommand::ChangePriority {
                    priority: Priority::Urgent,
                    reason: "已临时止水，剩余维修不再紧急".into(),
                },
            )?;
        }
    } else {
        let t = sim.business(10, 120);
        let window = match (plan.priority, sim.rng.below(100)) {
            (Priority::Urgent, 0..=84) => sim.window(t, 30, 380),
            (Priority::Urgent, _) => sim.window(t, 400, 900),
            (_, 0..=84) => sim.window(t, 60, 800),
            _ => sim.window(t, 800, 1500),
        };
        sim.act(t, &work, Channel::App, TicketCommand::Schedule { window })?;
        let arrival = if sim.rng.percent(90) {
            plus(window.from, minutes(sim.rng.between(-15, 60)))
        } else {
            plus(window.from, minutes(sim.rng.between(120, 300)))
        };
        sim.act(
            arrival,
            &work,
            Channel::App,
            TicketCommand::RecordArrival { note: String::new() },
        )?;
    }

    // Diagnosis, by an engineer (a contractor may not decide who pays),
    // with the warranty finding the decider will record.
    let t = sim.wall(15, 60);
    let common = matches!(plan.location, Location::CommonArea { .. });
    let item = warranty_item(&mut sim.rng, plan.trade, common);
    let report_date = world.calendar.local_date(plan.received_at);
    let known_delivery = sim.delivered_on.filter(|d| *d <= world.calendar.local_date(t));
    let in_warranty = known_delivery.is_none_or(|delivered_on| {
        world
            .warranty
            .finding_on(
                item,
                Some(plan.location.project()),
                delivered_on,
                report_date,
                &world.calendar,
            )
            .in_warranty
    });
    let responsible = if handover {
        sim.rng.weighted(&[
            (ResponsibleParty::Developer, 85),
            (ResponsibleParty::ContractorWorkmanship, 15),
        ])
    } else if in_warranty {
        sim.rng.weighted(&[
            (ResponsibleParty::Developer, 76),
            (ResponsibleParty::ContractorWorkmanship, 10),
            (ResponsibleParty::OwnerMisuse, 9),
            (ResponsibleParty::ThirdParty, 5),
        ])
    } else {
        sim.rng
            .weighted(&[(ResponsibleParty::OwnerMisuse, 40), (ResponsibleParty::ThirdParty, 60)])
    };
    let chargeable = !in_warranty || responsible == ResponsibleParty::OwnerMisuse;
    let cause = match responsible {
        ResponsibleParty::OwnerMisuse => sim.note(MISUSE_CAUSES),
        ResponsibleParty::ThirdParty => sim.note(THIRD_PARTY_CAUSES),
        _ => sim.note(causes(plan.trade)),
    };
    let (content, materials, (lo, hi)) = plan_for(plan.trade);
    let duration = sim.rng.between(lo, hi);
    let repair_plan = RepairPlan {
        content: if chargeable {
            format!("{content}（有偿维修）")
        } else {
            content.to_string()
        },
        materials: materials.iter().map(|m| m.to_string()).collect(),
        duration_minutes: duration as u32,
        cost: chargeable.then(|| Money {
            fen: sim.rng.between(8, 200) as u64 * 1000,
        }),
    };
    let diagnoser = match &to {
        Assignee::Engineer(_) => work.clone(),
        Assignee::Contractor(_) => cast.engineer.clone(),
    };
    sim.act(
        t,
        &diagnoser,
        Channel::App,
        TicketCommand::Diagnose {
            cause,
            responsible,
            item,
            plan: repair_plan,
        },
    )?;

    // The owner's decision on a chargeable plan.
    let mut needs_visit = false;
    if chargeable {
        if sim.rng.percent(15) {
            let t = sim.wall(10, 60);
            sim.act(
                t,
                &cast.agent,
                Channel::BackOffice,
                TicketCommand::PutOnHold {
                    reason: HoldReason::WaitingForOwnerDecision,
                    note: "业主考虑是否接受维修费用".into(),
                },
            )?;
            let t = sim.business(450, 5 * 450);
            sim.act(
                t,
                &cast.agent,
                Channel::CallCenter400,
                TicketCommand::Resume {
                    note: "业主已答复".into(),
                },
            )?;
            needs_visit = true;
        }
        let (actor, channel) = match cast.owner_or_agent(&mut sim.rng) {
            (a, c) if a.role == Role::Owner => (a, c),
            _ => (cast.engineer.clone(), Channel::App),
        };
        if sim.rng.percent(20) {
            let t = sim.wall(5, 120);
            let reason = sim.note(&["业主认为费用过高", "业主认为应由开发商承担", "业主决定自行找人维修"]);
            sim.act(t, &actor, channel, TicketCommand::DeclinePlan { reason })?;
            if sim.rng.percent(80) {
                let t = sim.business(60, 900);
                return sim.act(
                    t,
                    &cast.manager,
                    Channel::BackOffice,
                    TicketCommand::Close {
                        note: "业主不同意有偿维修方案，工单关闭".into(),
                    },
                );
            }
            needs_visit = true;
        }
        let t = sim.wall(5, 120);
        sim.act(
            t,
            &actor,
            channel,
            TicketCommand::ConfirmPlan {
                confirmation: format!("FA-{}", plan.id),
            },
        )?;
    } else if sim.rng.percent(50) {
        let (actor, channel) = match cast.owner_or_agent(&mut sim.rng) {
            (a, c) if a.role == Role::Owner => (a, c),
            _ => (cast.engineer.clone(), Channel::App),
        };
        let t = sim.wall(5, 30);
        sim.act(
            t,
            &actor,
            channel,
            TicketCommand::ConfirmPlan {
                confirmation: format!("FA-{}", plan.id),
            },
        )?;
    }

    if sim.rng.percent(5) {
        let t = sim.wall(30, 240);
        sim.act(
            t,
            &work,
            Channel::App,
            TicketCommand::PutOnHold {
                reason: HoldReason::WaitingForMaterial,
                note: "需订购材料".into(),
            },
        )?;
        let t = sim.business(2 * 450, 10 * 450);
        sim.act(
            t,
            &work,
            Channel::App,
            TicketCommand::Resume {
                note: "材料已到货".into(),
            },
        )?;
        needs_visit = true;
    }
    let big = matches!(
        plan.trade,
        Trade::Leak | Trade::Crack | Trade::Hollow | Trade::Facade | Trade::Structure
    );
    if needs_visit || sim.rng.percent(if big { 45 } else { 15 }) {
        let t = sim.wall(5, 30);
        let window = sim.window(t, 450, 5 * 450);
        sim.act(t, &work, Channel::App, TicketCommand::Schedule { window })?;
        let arrival = plus(window.from, minutes(sim.rng.between(-10, 45)));
        sim.act(
            arrival,
            &work,
            Channel::App,
            TicketCommand::RecordArrival {
                note: "施工上门".into(),
            },
        )?;
    }
    if sim.rng.percent(30) {
        let t = sim.wall(30, 120);
        let note = sim.note(&["已告知业主施工进度", "施工中，预计今天完成", "等待材料干燥后继续施工"]);
        sim.act(t, &work, Channel::App, TicketCommand::NoteProgress { note })?;
    }
    let t = sim.wall(duration / 2, duration + 30);
    sim.act(
        t,
        &work,
        Channel::App,
        TicketCommand::CompleteRepair {
            summary: format!("{content}，已完成"),
            usage_advice: "已告知业主使用注意事项".into(),
        },
    )?;

    // Acceptance, after rework if the owner rejects the work.
    let rejections = if sim.rng.percent(if handover { 10 } else { 8 }) {
        if sim.rng.percent(25) {
            2
        } else {
            1
        }
    } else {
        0
    };
    let acceptor = |sim: &mut Sim<'_>| match cast.owner_or_agent(&mut sim.rng) {
        (a, c) if a.role == Role::Owner => (a, c),
        _ if sim.rng.percent(50) => (cast.engineer.clone(), Channel::App),
        other => other,
    };
    for round in 0..rejections {
        let (actor, channel) = acceptor(sim);
        let t = sim.wall(10, 600);
        let reason = sim.note(&["维修后仍有渗水", "修补痕迹明显，不满意", "问题未彻底解决"]);
        sim.act(t, &actor, channel, TicketCommand::RejectRepair { reason })?;
        let t = sim.business(30, 300);
        sim.act(
            t,
            &cast.agent,
            Channel::BackOffice,
            TicketCommand::Reopen {
                reason: "业主验收不合格，安排返修".into(),
            },
        )?;
        let redispatch = round > 0 || sim.rng.percent(35);
        rework(sim, cast, plan, project, &mut to, &mut work, redispatch)?;
    }
    let (actor, channel) = acceptor(sim);
    let t = sim.wall(10, 600);
    let r = ratings(&mut sim.rng, rejections);
    let comment = match r.overall {
        5 => "维修及时，很满意",
        4 => "基本满意",
        3 => "一般",
        _ => "等待时间太长，不满意",
    };
    sim.act(
        t,
        &actor,
        channel,
        TicketCommand::AcceptRepair {
            confirmation: format!("QR-{}", plan.id),
            ratings: r,
            comment: comment.into(),
        },
    )?;
    let closer = if sim.rng.percent(50) {
        &cast.manager
    } else {
        &cast.agent
    };
    let t = sim.business(10, 600);
    sim.act(
        t,
        closer,
        Channel::BackOffice,
        TicketCommand::Close {
            note: "已验收，归档".into(),
        },
    )?;

    // Revisit calls: more often for emergencies and urgent repairs.
    let revisit_share = match plan.priority {
        Priority::Emergency | Priority::Urgent => 55,
        Priority::Normal => 33,
    };
    if !handover && sim.rng.percent(revisit_share) {
        let outcome = sim.rng.weighted(&[
            (RevisitOutcome::Satisfied, 84),
            (RevisitOutcome::Dissatisfied, 6),
            (RevisitOutcome::ProblemPersists, 4),
            (RevisitOutcome::Unreachable, 6),
        ]);
        let revisit_ratings = match outcome {
            RevisitOutcome::Satisfied | RevisitOutcome::Dissatisfied => Some(ratings(&mut sim.rng, rejections)),
            _ => None,
        };
        let stage = if sim.rng.percent(85) {
            TouchpointStage::WarrantyService
        } else {
            TouchpointStage::ResidenceRevisit
        };
        let t = sim.business(2 * 450, 10 * 450);
        sim.act(
            t,
            &cast.agent,
            Channel::Revisit,
            TicketCommand::RecordRevisit {
                outcome,
                ratings: revisit_ratings,
                stage,
                note: "维修回访".into(),
            },
        )?;
        if outcome == RevisitOutcome::ProblemPersists && sim.rng.percent(60) {
            let t = sim.business(30, 300);
            sim.act(
                t,
                &cast.agent,
                Channel::BackOffice,
                TicketCommand::Reopen {
                    reason: "回访发现问题复发".into(),
                },
            )?;
            rework(sim, cast, plan, project, &mut to, &mut work, false)?;
            let (actor, channel) = acceptor(sim);
            let t = sim.wall(10, 600);
            let r = ratings(&mut sim.rng, 1);
            sim.act(
                t,
                &actor,
                channel,
                TicketCommand::AcceptRepair {
                    confirmation: format!("QR-{}-R", plan.id),
                    ratings: r,
                    comment: "返修后已解决".into(),
                },
            )?;
            let t = sim.business(10, 600);
            sim.act(
                t,
                &cast.manager,
                Channel::BackOffice,
                TicketCommand::Close {
                    note: "返修完成，归档".into(),
                },
            )?;
        }
    }
    Ok(())
}

/// Rework after a reopen: maybe to another assignee, a visit, completion.
fn rework(
    sim: &mut Sim<'_>,
    cast: &Cast,
    plan: &TicketPlan,
    project: u32,
    to: &mut Assignee,
    work: &mut Actor,
    redispatch: bool,
) -> Result<(), Stop> {
    let world = sim.world;
    if redispatch {
        let next = assignee(world, &mut sim.rng, project, plan.trade, Some(to));
        let t = sim.business(10, 240);
        sim.act(
            t,
            &cast.manager,
            Channel::BackOffice,
            TicketCommand::Dispatch {
                to: next.clone(),
                note: "返修，改派维修单位".into(),
            },
        )?;
        *work = worker(&mut sim.rng, &next)?;
        *to = next;
    }
    let t = sim.business(10, 240);
    let window = sim.window(t, 120, 3 * 450);
    sim.act(t, work, Channel::App, TicketCommand::Schedule { window })?;
    let arrival = plus(window.from, minutes(sim.rng.between(-10, 60)));
    sim.act(
        arrival,
        work,
        Channel::App,
        TicketCommand::RecordArrival {
            note: "返修上门".into(),
        },
    )?;
    let t = sim.wall(60, 300);
    sim.act(
        t,
        work,
        Channel::App,
        TicketCommand::CompleteRepair {
            summary: "返修完成".into(),
            usage_advice: "已再次告知业主使用注意事项".into(),
        },
    )
}

/// A complaint: investigation, proposals until the owner agrees,
/// escalation, revisit, closing.
fn complaint(sim: &mut Sim<'_>, plan: &TicketPlan, cast: &Cast) -> Result<(), Stop> {
    let world = sim.world;
    sim.act(
        plan.received_at,
        &receiver(plan, cast),
        plan.channel,
        receive_command(plan),
    )?;
    if let Some(into) = &plan.duplicate_of {
        return merge_duplicate(sim, cast, into);
    }
    let t = if sim.rng.percent(90) {
        sim.business(10, 450)
    } else {
        sim.business(450, 900)
    };
    let promised = world.calendar.add_business_time(t, minutes(5 * 450));
    sim.act(
        t,
        &cast.agent,
        Channel::CallCenter400,
        TicketCommand::Acknowledge {
            promised_at: Some(promised),
            note: "已记录投诉，承诺五个工作日内答复".into(),
        },
    )?;
    if sim.rng.percent(3) {
        let (actor, channel) = cast.owner_or_agent(&mut sim.rng);
        let t = sim.business(60, 900);
        return sim.act(
            t,
            &actor,
            channel,
            TicketCommand::Withdraw {
                reason: "业主表示问题已协商解决".into(),
            },
        );
    }
    let mut level = EscalationLevel::Project;
    let mut escalate = |sim: &mut Sim<'_>, to: EscalationLevel, reason: &str| -> Result<(), Stop> {
        if to <= level {
            return Ok(());
        }
        let t = sim.business(10, 240);
        sim.act(
            t,
            &cast.manager,
            Channel::BackOffice,
            TicketCommand::Escalate {
                level: to,
                incident: plan.incident.clone(),
                reason: reason.into(),
            },
        )?;
        level = to;
        Ok(())
    };
    if plan.incident.is_some() {
        escalate(sim, EscalationLevel::City, "多户业主反映同一问题，并入批量问题处理")?;
    } else if sim.rng.permille(15) {
        escalate(sim, EscalationLevel::City, "业主表示将向媒体反映")?;
        escalate(sim, EscalationLevel::Group, "涉及品牌风险，升级集团处理")?;
    } else if sim.rng.percent(5) {
        escalate(sim, EscalationLevel::City, "影响范围较大，升级城市公司处理")?;
    }
    let investigator = if sim.rng.percent(60) {
        &cast.engineer
    } else {
        &cast.manager
    };
    let t = sim.business(120, 2 * 450);
    let findings = sim.note(&[
        "已现场核实，情况属实",
        "调取维修记录，确认多次上门未解决",
        "与相关人员核实经过",
    ]);
    sim.act(t, investigator, Channel::App, TicketCommand::Investigate { findings })?;
    if sim.rng.percent(4) {
        let t = sim.business(30, 240);
        sim.act(
            t,
            &cast.agent,
            Channel::BackOffice,
            TicketCommand::PutOnHold {
                reason: HoldReason::OwnerUnreachable,
                note: "业主电话无人接听".into(),
            },
        )?;
        let t = sim.business(450, 4 * 450);
        sim.act(
            t,
            &cast.agent,
            Channel::CallCenter400,
            TicketCommand::Resume {
                note: "已联系上业主".into(),
            },
        )?;
    }
    if sim.rng.percent(25) {
        let t = sim.business(60, 450);
        sim.act(
            t,
            investigator,
            Channel::App,
            TicketCommand::Investigate {
                findings: "补充调查：查阅合同及交付标准".into(),
            },
        )?;
    }
    for round in 0..3 {
        let t = if sim.rng.percent(85) {
            sim.business(60, 2 * 450)
        } else {
            sim.business(2 * 450, 5 * 450)
        };
        let (proposal, basis) = *sim.rng.pick(&[
            ("安排专项维修并给予物业费减免", "住宅质量保证书及公司客户补偿办法"),
            ("对相关人员进行培训考核并致歉", "客户服务规范"),
            ("按合同约定标准整改", "商品房买卖合同附件"),
            ("加强巡检并公示整改计划", "物业服务合同"),
        ]);
        sim.act(
            t,
            &cast.manager,
            Channel::BackOffice,
            TicketCommand::ProposeResolution {
                proposal: proposal.into(),
                basis: basis.into(),
            },
        )?;
        let agrees = round == 2 || sim.rng.percent(if round == 0 { 75 } else { 85 });
        let (actor, channel) = cast.owner_or_agent(&mut sim.rng);
        let t = sim.business(30, 3 * 450);
        if agrees {
            sim.act(
                t,
                &actor,
                channel,
                TicketCommand::RecordOwnerResponse {
                    agreed: true,
                    note: "业主同意处理方案".into(),
                },
            )?;
            break;
        }
        sim.act(
            t,
            &actor,
            channel,
            TicketCommand::RecordOwnerResponse {
                agreed: false,
                note: "业主不接受方案，要求更高补偿".into(),
            },
        )?;
        if sim.rng.percent(30) {
            escalate(sim, EscalationLevel::City, "业主不接受处理方案")?;
        }
        let t = sim.business(60, 2 * 450);
        sim.act(
            t,
            investigator,
            Channel::App,
            TicketCommand::Investigate {
                findings: "重新调查业主诉求".into(),
            },
        )?;
    }
    if sim.rng.percent(50) {
        let satisfied = sim.rng.percent(80);
        let r = ratings(&mut sim.rng, u32::from(!satisfied));
        let t = sim.business(450, 3 * 450);
        sim.act(
            t,
            &cast.agent,
            Channel::Revisit,
            TicketCommand::RecordRevisit {
                outcome: if satisfied {
                    RevisitOutcome::Satisfied
                } else {
                    RevisitOutcome::Dissatisfied
                },
                ratings: Some(r),
                stage: TouchpointStage::WarrantyService,
                note: "投诉处理回访".into(),
            },
        )?;
    }
    let t = sim.business(30, 450);
    sim.act(
        t,
        &cast.manager,
        Channel::BackOffice,
        TicketCommand::Close {
            note: "投诉已处理完毕".into(),
        },
    )
}

/// An inquiry: answered on the spot or after checking, then closed.
fn inquiry(sim: &mut Sim<'_>, plan: &TicketPlan, cast: &Cast) -> Result<(), Stop> {
    sim.act(
        plan.received_at,
        &receiver(plan, cast),
        plan.channel,
        receive_command(plan),
    )?;
    let answer = INQUIRIES[plan.topic % INQUIRIES.len()].1.to_string();
    if sim.rng.permille(10) {
        let (actor, channel) = cast.owner_or_agent(&mut sim.rng);
        let t = sim.wall(10, 120);
        return sim.act(
            t,
            &actor,
            channel,
            TicketCommand::Withdraw {
                reason: "业主已自行查到".into(),
            },
        );
    }
    if sim.rng.percent(60) {
        let t = sim.wall(2, 8);
        let channel = if plan.channel == Channel::ServiceDesk {
            Channel::ServiceDesk
        } else {
            Channel::CallCenter400
        };
        sim.act(
            t,
            &cast.agent,
            channel,
            TicketCommand::AnswerInquiry {
                answer,
                on_the_spot: true,
            },
        )?;
    } else {
        let t = sim.business(5, 240);
        let promised = sim.world.calendar.add_business_time(t, minutes(2 * 450));
        sim.act(
            t,
            &cast.agent,
            Channel::CallCenter400,
            TicketCommand::Acknowledge {
                promised_at: Some(promised),
                note: "需核实后答复".into(),
            },
        )?;
        let t = if sim.rng.percent(85) {
            sim.business(60, 2 * 450)
        } else {
            sim.business(2 * 450, 4 * 450)
        };
        sim.act(
            t,
            &cast.agent,
            Channel::CallCenter400,
            TicketCommand::AnswerInquiry {
                answer,
                on_the_spot: false,
            },
        )?;
    }
    let t = sim.wall(1, 30);
    sim.act(
        t,
        &cast.agent,
        Channel::BackOffice,
        TicketCommand::Close { note: String::new() },
    )?;
    if sim.rng.percent(5) {
        let t = sim.business(450, 5 * 450);
        let r = ratings(&mut sim.rng, 0);
        sim.act(
            t,
            &cast.agent,
            Channel::Revisit,
            TicketCommand::RecordRevisit {
                outcome: RevisitOutcome::Satisfied,
                ratings: Some(r),
                stage: TouchpointStage::ResidenceRevisit,
                note: "咨询回访".into(),
            },
        )?;
    }
    Ok(())
}

/// The record of an incident: opened after its first ticket, each ticket
/// linked after its receipt, updates, and closed some days later.
fn incident_record(world: &World, incident: &IncidentPlan) -> Result<Option<GeneratedRecord>, GeneratorError> {
    let Some((_, first_at)) = incident.links.first() else {
        return Ok(None);
    };
    let project = &world.projects[incident.project as usize];
    let building = world.building(incident.anchor);
    let stream = wire::stream_of(&incident.id).map_err(GeneratorError::Stream)?;
    let mut rng = Rng::derive(&[world.seed, SALT_INCIDENT, incident.number, 1]);
    let last_instant = world.end - TimeDelta::seconds(1);
    let mut at = plus(*first_at, minutes(rng.between(60, 180))).min(last_instant);
    let actor = &project.manager;
    let mut state = Default::default();
    let mut events = Vec::new();
    let trade_text = match incident.trade {
        Trade::Leak => "渗漏",
        Trade::Facade => "外立面",
        Trade::Crack => "开裂",
        Trade::Elevator => "电梯故障",
        _ => "质量问题",
    };
    run::<IncidentDecider>(
        stream.as_str(),
        &mut state,
        &mut events,
        IncidentCommand::Open {
            incident: incident.id.clone(),
            project: project.id.clone(),
            title: format!("{}{}批量{}", project.name, building.name, trade_text),
            level: incident.level,
            description: format!("{}多户业主集中反映{}问题", building.name, trade_text),
        },
        "open the incident",
        &context(actor, Channel::BackOffice, at, ()),
    )?;
    for (ticket, received_at) in &incident.links {
        at = at.max(plus(*received_at, minutes(rng.between(30, 180))));
        if at >= world.end {
            return Ok(Some(encode(world.seed, stream, &events)?));
        }
        run::<IncidentDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            IncidentCommand::LinkTicket { ticket: ticket.clone() },
            "link a ticket to the incident",
            &context(actor, Channel::BackOffice, at, ()),
        )?;
    }
    for note in [
        "已成立专项小组，排查原因",
        "已制定整改方案，分批入户维修",
        "整改完成，逐户回访",
    ]
    .into_iter()
    .take(rng.between(1, 3) as usize)
    {
        at = plus(at, TimeDelta::days(rng.between(1, 4)));
        if at >= world.end {
            return Ok(Some(encode(world.seed, stream, &events)?));
        }
        run::<IncidentDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            IncidentCommand::UpdateStatus { note: note.into() },
            "update the incident",
            &context(actor, Channel::BackOffice, at, ()),
        )?;
    }
    at = plus(at, TimeDelta::days(rng.between(5, 20)));
    if at < world.end {
        run::<IncidentDecider>(
            stream.as_str(),
            &mut state,
            &mut events,
            IncidentCommand::Close {
                summary: "原因已查明并整改，纳入下一项目设计与施工的预防措施".into(),
            },
            "close the incident",
            &context(actor, Channel::BackOffice, at, ()),
        )?;
    }
    Ok(Some(encode(world.seed, stream, &events)?))
}

// ------------------------------------------------------------ the iterator

enum Phase {
    /// The archive: project `project`; `next_unit` is `None` before the
    /// project's own record.
    Archive {
        project: usize,
        next_unit: Option<u32>,
    },
    /// Tickets of `day`, from slot `next` on.
    Tickets {
        day: u32,
        slots: Vec<Slot>,
        next: usize,
    },
    Done,
}

/// The generator: an iterator of records, archive first, then tickets in
/// received-time order. After an error it yields nothing more.
///
/// It holds the archive's compact tables and one day of tickets, never the
/// log: memory does not grow with the number of events.
pub struct Generator {
    world: World,
    phase: Phase,
    pending: VecDeque<(Made, GeneratedRecord)>,
    /// The project being written, as its record folded.
    project: Option<domain::archive::Project>,
    /// Units of the current owner, as registered, until the owner's record.
    owner_units: Vec<domain::archive::Unit>,
    flow: TicketFlow,
    summary: GeneratedSummary,
}

impl Generator {
    /// Plans the archive and the number of tickets of each day; refuses a
    /// configuration that cannot describe a log.
    pub fn new(config: GeneratorConfig) -> Result<Self, GeneratorError> {
        let world = World::new(&config)?;
        // The service directory first: every dispatch names a company or
        // an engineer registered before it.
        let pending = directory_records(&world)?
            .into_iter()
            .map(|r| (Made::Directory, r))
            .collect();
        Ok(Self {
            world,
            phase: Phase::Archive {
                project: 0,
                next_unit: None,
            },
            pending,
            project: None,
            owner_units: Vec::new(),
            flow: TicketFlow::default(),
            summary: GeneratedSummary::default(),
        })
    }

    /// The counts of what was generated so far (all of it once the iterator
    /// is exhausted).
    pub fn summary(&self) -> GeneratedSummary {
        self.summary
    }

    /// The first instant after the period: every event occurred before it.
    pub fn end(&self) -> DateTime<Utc> {
        self.world.end
    }

    /// Fills `pending` with at least one record, or finishes.
    fn advance(&mut self) -> Result<(), GeneratorError> {
        while self.pending.is_empty() {
            match &mut self.phase {
                Phase::Archive { project, next_unit } => {
                    let p = *project;
                    let Some(plan) = self.world.projects.get(p) else {
                        self.phase = Phase::Tickets {
                            day: 0,
                            slots: day_slots(&self.world, 0),
                            next: 0,
                        };
                        continue;
                    };
                    match *next_unit {
                        None => {
                            let (record, folded) = project_record(&self.world, p)?;
                            self.project = Some(folded);
                            self.pending.push_back((Made::Project, record));
                            *next_unit = Some(plan.first_unit);
                        }
                        Some(unit) if unit < plan.unit_end => {
                            *next_unit = Some(unit + 1);
                            let Some(folded) = self.project.as_ref() else {
                                return Err(GeneratorError::InvalidConfig("no project before its units".into()));
                            };
                            let (record, registered) = unit_record(&self.world, folded, unit)?;
                            self.pending.push_back((Made::Unit, record));
                            self.owner_units.push(registered);
                            let owner = self.world.units[unit as usize].owner;
                            let owner_plan = self.world.owners[owner as usize];
                            if unit + 1 == owner_plan.first_unit + owner_plan.count {
                                let record = owner_record(&self.world, owner, &self.owner_units)?;
                                self.owner_units.clear();
                                self.pending.push_back((Made::Owner, record));
                            }
                        }
                        Some(_) => {
                            *project += 1;
                            *next_unit = None;
                        }
                    }
                }
                Phase::Tickets { day, slots, next } => {
                    if let Some(slot) = slots.get(*next).copied() {
                        *next += 1;
                        let number = *next as u32;
                        let d = *day;
                        if let Some((record, kind)) = ticket_record(&self.world, &mut self.flow, d, number, slot)? {
                            self.pending.push_back((Made::Ticket(kind), record));
                        }
                        self.close_incident(false)?;
                    } else if (*day as usize) + 1 < self.world.day_counts.len() {
                        *day += 1;
                        *slots = day_slots(&self.world, *day);
                        *next = 0;
                    } else {
                        self.close_incident(true)?;
                        self.phase = Phase::Done;
                        if self.pending.is_empty() {
                            return Ok(());
                        }
                    }
                }
                Phase::Done => return Ok(()),
            }
        }
        Ok(())
    }

    /// Writes the incident in progress once it has all its tickets, its
    /// time is up, or the tickets are over.
    fn close_incident(&mut self, all_done: bool) -> Result<(), GeneratorError> {
        let done = match &self.flow.incident {
            None => false,
            Some(incident) => {
                all_done
                    || incident.links.len() >= incident.target
                    || match &self.phase {
                        Phase::Tickets { day, slots, next } => slots.get(*next).is_some_and(|s| {
                            local_time(
                                &self.world.calendar,
                                add_days(self.world.start, i64::from(*day)),
                                s.seconds,
                            ) > incident.deadline
                        }),
                        _ => false,
                    }
            }
        };
        if done {
            if let Some(incident) = self.flow.incident.take() {
                if let Some(record) = incident_record(&self.world, &incident)? {
                    self.pending.push_back((Made::Incident, record));
                }
            }
        }
        Ok(())
    }
}

impl Iterator for Generator {
    type Item = Result<GeneratedRecord, GeneratorError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pending.is_empty() {
            if let Err(e) = self.advance() {
                self.phase = Phase::Done;
                self.pending.clear();
                return Some(Err(e));
            }
        }
        let (made, record) = self.pending.pop_front()?;
        let s = &mut self.summary;
        s.records += 1;
        s.events += record.events.len() as u64;
        match made {
            Made::Directory => s.directory += 1,
            Made::Project => s.projects += 1,
            Made::Unit => s.units += 1,
            Made::Owner => s.owners += 1,
            Made::Ticket(kind) => s.tickets.add(kind),
            Made::Incident => s.incidents += 1,
        }
        Some(Ok(record))
    }
}

impl std::iter::FusedIterator for Generator {}

// ------------------------------------------------------------ writing

/// Generates the log of `config` and appends it to `store`, one append per
/// record, up to [`CONCURRENT_APPENDS`] at a time. The archive is complete
/// in the log before the first ticket is appended; within each part, log
/// positions follow generation order only roughly, because appends run
/// concurrently.
///
/// Re-running it with the same configuration against the same log writes
/// nothing: every append is recognised by its event ids
/// ([`GeneratedSummary::deduplicated`] counts them).
///
/// The log's fsyncs, not the generator, set the pace: the default
/// configuration (about 220,000 appends, 1.5 million events) generates in
/// about five seconds and writes to a durable [`eventlog::SledEventStore`]
/// in a little over a minute on a development machine.
pub async fn write_log(store: &dyn EventStore, config: &GeneratorConfig) -> Result<GeneratedSummary, GeneratorError> {
    write_log_with(store, config, None).await
}

/// [`write_log`], sealing personal fields with `ring` first (as the
/// service does), when given.
pub async fn write_log_with(
    store: &dyn EventStore,
    config: &GeneratorConfig,
    ring: Option<std::sync::Arc<keyring::Keyring>>,
) -> Result<GeneratedSummary, GeneratorError> {
    let ring = ring.as_ref();
    let mut generator = Generator::new(config.clone())?;
    let mut written = GeneratedSummary::default();
    {
        let mut records = generator.by_ref().peekable();
        let is_archive = |item: &Result<GeneratedRecord, GeneratorError>| {
            item.as_ref().is_ok_and(|r| {
                let s = r.stream.as_str();
                ["project-", "unit-", "owner-", "contractor-", "engineer-"]
                    .iter()
                    .any(|p| s.starts_with(p))
            })
        };
        append_all(
            store,
            std::iter::from_fn(|| records.next_if(is_archive)),
            ring,
            &mut written,
        )
        .await?;
        append_all(store, records, ring, &mut written).await?;
    }
    Ok(GeneratedSummary {
        records: written.records,
        events: written.events,
        deduplicated: written.deduplicated,
        ..generator.summary()
    })
}

async fn append_all(
    store: &dyn EventStore,
    records: impl Iterator<Item = Result<GeneratedRecord, GeneratorError>> + Send,
    ring: Option<&std::sync::Arc<keyring::Keyring>>,
    written: &mut GeneratedSummary,
) -> Result<(), GeneratorError> {
    let mut appends = stream::iter(records)
        .map(|item| async move {
            let mut record = item?;
            if let Some(ring) = ring.cloned() {
                // Creating a key syncs files: off the runtime's threads,
                // several records at a time.
                record = tokio::task::spawn_blocking(move || {
                    for event in &mut record.events {
                        eventformat::sealing::seal_record(&ring, &record.stream, event).map_err(|error| {
                            GeneratorError::Seal {
                                stream: record.stream.to_string(),
                                reason: error.to_string(),
                            }
                        })?;
                    }
                    Ok::<_, GeneratorError>(record)
                })
                .await
                .map_err(|e| GeneratorError::Seal {
                    stream: String::new(),
                    reason: e.to_string(),
                })??;
            }
            let events = record.events.len() as u64;
            let outcome = store
                .append(&record.stream, ExpectedVersion::Any, record.events)
                .await
                .map_err(|error| GeneratorError::Append {
                    stream: record.stream.to_string(),
                    error,
                })?;
            Ok::<_, GeneratorError>((events, outcome.deduplicated))
        })
        .buffer_unordered(CONCURRENT_APPENDS);
    while let Some(result) = appends.next().await {
        let (events, deduplicated) = result?;
        written.records += 1;
        written.events += events;
        written.deduplicated += u64::from(deduplicated);
    }
    Ok(())
}
