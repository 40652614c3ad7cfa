//! The reference text and weights of the model, as data: names, places,
//! what owners say, what engineers find and plan, complaints, inquiries,
//! the hours reports come in, contractors' names.

use domain::ticket::{Category, Channel, Trade};

pub(crate) const PROJECT_NAMES: &[&str] = &[
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
pub(crate) const CITIES: &[&str] = &[
    "杭州", "上海", "南京", "苏州", "宁波", "合肥", "武汉", "成都", "重庆", "西安", "长沙", "无锡",
];
pub(crate) const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "潘", "袁", "蔡",
    "蒋", "余",
];
pub(crate) const GIVEN_NAMES: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
    "平", "刚", "桂英", "建华", "国强", "文", "玉兰", "红", "志强", "海燕", "鹏", "辉", "宇", "欣怡", "婷", "浩然",
    "晨", "子涵", "梓轩", "一诺", "思远", "雨桐", "俊杰", "佳琪", "嘉怡", "晓东", "春梅",
];
pub(crate) const PHONE_PREFIXES: &[&str] = &[
    "138", "139", "136", "137", "135", "150", "151", "152", "158", "159", "186", "187", "188", "130", "131", "132",
    "155", "156", "185", "133", "153", "180", "181", "189", "177", "199",
];
pub(crate) const ID_AREAS: &[&str] = &[
    "330102", "330106", "310101", "310115", "320102", "320506", "330203", "340104", "420106", "510107", "500103",
    "610113", "430104", "320211",
];
pub(crate) const ROOMS: &[&str] = &[
    "主卧", "次卧", "客厅", "厨房", "主卫", "次卫", "阳台", "书房", "餐厅", "玄关",
];
pub(crate) const COMMON_PLACES: &[&str] = &[
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
pub(crate) fn defect_phrases(trade: Trade) -> &'static [&'static str] {
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
pub(crate) fn causes(trade: Trade) -> &'static [&'static str] {
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

pub(crate) const MISUSE_CAUSES: &[&str] = &[
    "业主装修时破坏防水层",
    "业主自行改动管线",
    "使用不当导致损坏",
    "业主自行安装的设备导致",
];
pub(crate) const THIRD_PARTY_CAUSES: &[&str] = &["邻居装修施工导致", "市政管网问题导致", "相邻住户使用不当导致"];

/// The repair plan per trade: content, materials, duration in minutes.
pub(crate) fn plan_for(trade: Trade) -> (&'static str, &'static [&'static str], (i64, i64)) {
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

pub(crate) const COMPLAINT_TEXTS: &[(Category, &str)] = &[
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

pub(crate) const INQUIRIES: &[(&str, &str)] = &[
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
pub(crate) const HOUR_WEIGHTS: [u32; 24] = [
    3, 2, 1, 1, 1, 2, 4, 10, 30, 70, 80, 72, 40, 45, 70, 72, 66, 58, 40, 30, 24, 16, 9, 5,
];

/// Company names of the generated contractors (with a number when there
/// are more companies than names).
pub(crate) const CONTRACTOR_NAMES: [&str; 8] = [
    "安居防水",
    "恒信建筑",
    "鑫达装饰",
    "华润机电",
    "绿城园林",
    "永固门窗",
    "宏图给排水",
    "远东电气",
];

/// What homes older than a year mostly report to the developer (water
/// getting in), for 70% of their non-emergency repairs.
pub(crate) const AGED_TRADES: &[(Trade, u32)] = &[
    (Trade::Leak, 55),
    (Trade::Crack, 12),
    (Trade::WaterElectric, 15),
    (Trade::Hvac, 10),
    (Trade::Facade, 5),
    (Trade::Structure, 3),
];

/// The channels repairs come in through, by weight.
pub(crate) const REPAIR_CHANNELS: &[(Channel, u32)] = &[
    (Channel::Hotline, 14),
    (Channel::CallCenter400, 30),
    (Channel::App, 18),
    (Channel::WeChat, 22),
    (Channel::ServiceDesk, 8),
    (Channel::WebForm, 3),
    (Channel::Email, 1),
    (Channel::Forum, 1),
    (Channel::Revisit, 3),
];

/// The channels complaints come in through, by weight.
pub(crate) const COMPLAINT_CHANNELS: &[(Channel, u32)] = &[
    (Channel::Hotline, 20),
    (Channel::CallCenter400, 35),
    (Channel::WeChat, 12),
    (Channel::App, 5),
    (Channel::Email, 8),
    (Channel::Forum, 10),
    (Channel::ServiceDesk, 7),
    (Channel::Revisit, 3),
];

/// The channels inquiries come in through, by weight.
pub(crate) const INQUIRY_CHANNELS: &[(Channel, u32)] = &[
    (Channel::Hotline, 25),
    (Channel::CallCenter400, 30),
    (Channel::App, 10),
    (Channel::WeChat, 20),
    (Channel::ServiceDesk, 15),
];
