//! The complaint, inquiry and handover-defect lifecycles of the ticket
//! decider, given / when / then: which step is allowed from which status,
//! by whom, what it records in the state, and the handover defect's
//! promised-date deadline.
//!
//! The helpers and histories the modules share are here.

mod complaint;
mod handover;
mod inquiry;
mod timing;

use domain::actor::{Actor, Role};
use domain::decider::{Context, Decider};
use domain::ids::IncidentId;
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;
use domain::warranty::WarrantyItem;

fn agent() -> Actor {
    staff(Role::Agent)
}

fn manager() -> Actor {
    staff(Role::Manager)
}

/// A context for `actor` acting at Beijing time `time`.
fn at<'r>(refs: &'r Refs, actor: Actor, time: &str) -> Context<TicketReference<'r>> {
    context_at(refs, actor, bj(time))
}

/// The ticket folded from `events`.
fn ticket_of(events: &[Stamped<TicketEvent>]) -> Ticket {
    let state = TicketDecider::fold(events);
    state.ticket().expect("the history has a Received").clone()
}

fn acknowledge() -> TicketCommand {
    TicketCommand::Acknowledge {
        promised_at: None,
        note: "已联系业主 called the owner back".into(),
    }
}

fn investigate(findings: &str) -> TicketCommand {
    TicketCommand::Investigate {
        findings: findings.into(),
    }
}

fn propose() -> TicketCommand {
    TicketCommand::ProposeResolution {
        proposal: "重新安排维修并书面致歉 rework with an apology in writing".into(),
        basis: "物业服务合同第 12 条 service contract clause 12".into(),
    }
}

fn owner_response(agreed: bool) -> TicketCommand {
    TicketCommand::RecordOwnerResponse {
        agreed,
        note: if agreed {
            "同意".into()
        } else {
            "补偿不足 compensation too low".into()
        },
    }
}

fn escalate(level: EscalationLevel, incident: Option<&str>) -> TicketCommand {
    TicketCommand::Escalate {
        level,
        incident: incident.map(|i| IncidentId::new(i).unwrap()),
        reason: "多户业主投诉 many owners affected".into(),
    }
}

fn revisit() -> TicketCommand {
    TicketCommand::RecordRevisit {
        outcome: RevisitOutcome::Satisfied,
        ratings: Some(ratings(5)),
        stage: TouchpointStage::WarrantyService,
        note: "业主满意".into(),
    }
}

fn close() -> TicketCommand {
    TicketCommand::Close {
        note: "闭环归档".into(),
    }
}

fn answer(on_the_spot: bool) -> TicketCommand {
    TicketCommand::AnswerInquiry {
        answer: "产权证将于交付后 90 日内办理 title deeds within 90 days of delivery".into(),
        on_the_spot,
    }
}

fn dispatch_to_c1() -> TicketCommand {
    TicketCommand::Dispatch {
        to: Assignee::Contractor(domain::ids::ContractorId::new("C-1").unwrap()),
        note: "按查验记录整改 rectify as recorded".into(),
    }
}

fn arrive() -> TicketCommand {
    TicketCommand::RecordArrival { note: String::new() }
}

fn diagnose() -> TicketCommand {
    TicketCommand::Diagnose {
        cause: "卫生间防水层破损 bathroom waterproofing damaged".into(),
        responsible: ResponsibleParty::Developer,
        item: WarrantyItem::WaterproofedRooms,
        plan: RepairPlan {
            content: "重做防水并闭水试验 redo the waterproofing, 48 h flood test".into(),
            materials: vec!["聚氨酯防水涂料".into()],
            duration_minutes: 480,
            cost: None,
        },
    }
}

fn complete() -> TicketCommand {
    TicketCommand::CompleteRepair {
        summary: "防水重做完成 waterproofing redone".into(),
        usage_advice: "24 小时内勿用水 no water for 24 h".into(),
    }
}

fn accept() -> TicketCommand {
    TicketCommand::AcceptRepair {
        confirmation: "QR-2025-0042".into(),
        ratings: ratings(4),
        comment: "满意".into(),
    }
}

fn handover_record(promised_by: &str) -> HandoverRecord {
    HandoverRecord {
        inspection: InspectionKind::DeliveryWalkthrough,
        promised_by: date(promised_by),
        signed_record: "INSP-2025-0912".into(),
    }
}

/// The fixture report of `kind`, with `handover` instead of the fixture's
/// record.
fn receive_with(kind: TicketKind, handover: Option<HandoverRecord>) -> TicketCommand {
    let TicketCommand::Receive(mut report) = receive(kind, Priority::Normal) else {
        panic!("the receive fixture builds a Receive");
    };
    report.handover = handover;
    TicketCommand::Receive(report)
}

/// A complaint received on Friday 2025-09-26 10:00 and acknowledged 10:30.
fn complaint_acknowledged(refs: &Refs) -> Vec<Stamped<TicketEvent>> {
    history(
        refs,
        vec![
            (
                agent(),
                "2025-09-26 10:00",
                receive(TicketKind::Complaint, Priority::Normal),
            ),
            (agent(), "2025-09-26 10:30", acknowledge()),
        ],
    )
}

/// The acknowledged complaint, investigated on the adjusted working Sunday
/// 2025-09-28 and a resolution proposed on Monday 2025-09-29 15:00.
fn complaint_proposed(refs: &Refs) -> Vec<Stamped<TicketEvent>> {
    let mut events = complaint_acknowledged(refs);
    for (time, command) in [
        (
            "2025-09-28 11:00",
            investigate("维修拖延属实 the repair was indeed late"),
        ),
        ("2025-09-29 15:00", propose()),
    ] {
        let state = TicketDecider::fold(&events);
        events.extend(TicketDecider::decide(&state, command, &at(refs, manager(), time)).unwrap());
    }
    events
}

/// The proposed complaint, which the owner disagreed with on 2025-09-30.
fn complaint_disagreed(refs: &Refs) -> Vec<Stamped<TicketEvent>> {
    given::<TicketDecider>(complaint_proposed(refs))
        .when(owner_response(false), &at(refs, agent(), "2025-09-30 10:00"))
        .then_names(&["OwnerDisagreed"])
}

/// An inquiry received 2025-09-30 10:00.
fn inquiry_received(refs: &Refs) -> Vec<Stamped<TicketEvent>> {
    history(
        refs,
        vec![(
            agent(),
            "2025-09-30 10:00",
            receive(TicketKind::Inquiry, Priority::Normal),
        )],
    )
}

/// A handover defect found at the walk-through on 2025-09-30 10:00,
/// rectification promised by 2025-10-15.
fn handover_received(refs: &Refs) -> Vec<Stamped<TicketEvent>> {
    history(
        refs,
        vec![(
            agent(),
            "2025-09-30 10:00",
            receive(TicketKind::HandoverDefect, Priority::Normal),
        )],
    )
}

/// The handover defect dispatched to contractor C-1, who arrived and
/// diagnosed it on 2025-10-10.
fn handover_diagnosed(refs: &Refs) -> Vec<Stamped<TicketEvent>> {
    let mut events = handover_received(refs);
    for (actor, time, command) in [
        (agent(), "2025-09-30 10:30", dispatch_to_c1()),
        (contractor("C-1"), "2025-10-10 09:00", arrive()),
        (staff(Role::Engineer), "2025-10-10 09:30", diagnose()),
    ] {
        let state = TicketDecider::fold(&events);
        events.extend(TicketDecider::decide(&state, command, &at(refs, actor, time)).unwrap());
    }
    events
}
