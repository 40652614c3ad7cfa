//! The complaint, inquiry and handover-defect lifecycles of the ticket
//! decider, given / when / then: which step is allowed from which status,
//! by whom, what it records in the state, and the handover defect's
//! promised-date deadline.

use chrono::TimeDelta;
use domain::actor::{Actor, Role};
use domain::calendar::CalendarRegistry;
use domain::decider::{Context, Decider};
use domain::ids::{IncidentId, OwnerId, UserId};
use domain::policy::ClockTarget;
use domain::sla::{evaluate, ClockStatus};
use domain::testing::fixtures::*;
use domain::testing::given;
use domain::ticket::*;
use domain::warranty::WarrantyItem;
use domain::DomainError;

// ---- helpers ----

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

// ---- complaint ----

#[test]
fn complaint_goes_from_received_to_closed_through_investigation_proposal_agreement_and_revisit() {
    let refs = refs();
    let events = history(
        &refs,
        vec![(
            agent(),
            "2025-09-26 10:00",
            receive(TicketKind::Complaint, Priority::Normal),
        )],
    );
    let events = given::<TicketDecider>(events)
        .when(acknowledge(), &at(&refs, agent(), "2025-09-26 10:30"))
        .then_names(&["Acknowledged"]);
    let events = given::<TicketDecider>(events)
        .when(investigate("维修拖延属实"), &at(&refs, manager(), "2025-09-28 11:00"))
        .then_names(&["Investigated"]);
    assert_eq!(ticket_of(&events).status, Status::Investigating);
    let events = given::<TicketDecider>(events)
        .when(propose(), &at(&refs, manager(), "2025-09-29 15:00"))
        .then_names(&["ResolutionProposed"]);
    let events = given::<TicketDecider>(events)
        .when(owner_response(true), &at(&refs, agent(), "2025-09-30 10:00"))
        .then_names(&["OwnerAgreed"]);
    assert_eq!(ticket_of(&events).status, Status::OwnerAgreed);
    let events = given::<TicketDecider>(events)
        .when(revisit(), &at(&refs, agent(), "2025-10-09 10:00"))
        .then_names(&["Revisited"]);
    let events = given::<TicketDecider>(events)
        .when(close(), &at(&refs, manager(), "2025-10-09 11:00"))
        .then_names(&["Closed"]);

    let ticket = ticket_of(&events);
    assert_eq!(ticket.kind, TicketKind::Complaint);
    assert_eq!(ticket.status, Status::Closed);
    assert_eq!(ticket.acknowledged_at, Some(bj("2025-09-26 10:30")));
    assert_eq!(ticket.resolution_proposed_at, Some(bj("2025-09-29 15:00")));
    assert_eq!(ticket.revisit_count, 1);
    assert_eq!(ticket.last_revisit, Some(RevisitOutcome::Satisfied));
    assert_eq!(ticket.closed_at, Some(bj("2025-10-09 11:00")));
    assert_eq!(ticket.event_count, 7);
    // The resolution clock of a complaint stops at the proposal: well within
    // its 5 business days.
    let report = evaluate(&events, &CalendarRegistry::with_cn_mainland(), bj("2025-10-09 11:00")).unwrap();
    assert_eq!(report.resolution.unwrap().status, ClockStatus::Met);
}

#[test]
fn owner_disagreeing_returns_the_complaint_to_investigation() {
    let refs = refs();
    let events = complaint_disagreed(&refs);
    assert_eq!(ticket_of(&events).status, Status::OwnerDisagreed);
    let events = given::<TicketDecider>(events)
        .when(
            investigate("补充调查 further facts"),
            &at(&refs, manager(), "2025-09-30 14:00"),
        )
        .then_names(&["Investigated"]);
    assert_eq!(ticket_of(&events).status, Status::Investigating);
    let events = given::<TicketDecider>(events)
        .when(propose(), &at(&refs, manager(), "2025-10-09 10:00"))
        .then_names(&["ResolutionProposed"]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.status, Status::ResolutionProposed);
    assert_eq!(ticket.resolution_proposed_at, Some(bj("2025-10-09 10:00")));
}

#[test]
fn a_disagreement_sets_the_resolution_clock_running_again_from_the_time_used() {
    let refs = refs();
    let events = complaint_disagreed(&refs);
    let report = evaluate(&events, &CalendarRegistry::with_cn_mainland(), bj("2025-09-30 12:00")).unwrap();
    let resolution = report.resolution.unwrap();
    assert_eq!(resolution.status, ClockStatus::Running);
    assert_eq!(resolution.stops, 1);
    // Friday 10:00-18:00 (6.5 h), the adjusted working Sunday (7.5 h) and
    // Monday until the proposal at 15:00 (4.5 h) ...
    assert_eq!(resolution.first_cycle_elapsed, Some(TimeDelta::minutes(18 * 60 + 30)));
    // ... plus Tuesday from the disagreement at 10:00 to noon.
    assert_eq!(resolution.elapsed, TimeDelta::minutes(20 * 60 + 30));
}

#[test]
fn a_new_proposal_after_a_disagreement_needs_a_new_investigation_first() {
    let refs = refs();
    given::<TicketDecider>(complaint_disagreed(&refs))
        .when(propose(), &at(&refs, manager(), "2025-09-30 14:00"))
        .then_error_containing("the facts have not been established yet");
}

#[test]
fn closing_a_complaint_the_owner_disagreed_with_is_refused() {
    let refs = refs();
    let error = given::<TicketDecider>(complaint_disagreed(&refs))
        .when(close(), &at(&refs, manager(), "2025-09-30 14:00"))
        .then_error_containing("is owner disagreed");
    assert!(error.to_string().contains("investigate again"), "{error}");
}

#[test]
fn closing_a_complaint_without_an_agreed_resolution_is_refused() {
    let refs = refs();
    given::<TicketDecider>(complaint_proposed(&refs))
        .when(close(), &at(&refs, manager(), "2025-09-30 14:00"))
        .then_error_containing("the owner has not agreed to a resolution");
}

#[test]
fn proposing_a_resolution_before_investigating_is_refused() {
    let refs = refs();
    given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(propose(), &at(&refs, manager(), "2025-09-26 11:00"))
        .then_error_containing("complaint T-1 is acknowledged (the facts have not been established yet)");
}

#[test]
fn investigating_before_acknowledging_is_refused() {
    let refs = refs();
    let events = history(
        &refs,
        vec![(
            agent(),
            "2025-09-26 10:00",
            receive(TicketKind::Complaint, Priority::Normal),
        )],
    );
    given::<TicketDecider>(events)
        .when(investigate("查看记录"), &at(&refs, manager(), "2025-09-26 11:00"))
        .then_error_containing("complaint T-1 is received (it must be acknowledged");
}

#[test]
fn a_complaint_escalates_to_city_then_to_group() {
    let refs = refs();
    let events = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(
            escalate(EscalationLevel::City, None),
            &at(&refs, manager(), "2025-09-26 11:00"),
        )
        .then_names(&["Escalated"]);
    assert_eq!(ticket_of(&events).escalation, Some(EscalationLevel::City));
    let events = given::<TicketDecider>(events)
        .when(
            escalate(EscalationLevel::Group, None),
            &at(&refs, manager(), "2025-09-26 12:00"),
        )
        .then_names(&["Escalated"]);
    assert_eq!(ticket_of(&events).escalation, Some(EscalationLevel::Group));
}

#[test]
fn escalating_to_the_same_or_a_lower_level_is_refused() {
    let refs = refs();
    let events = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(
            escalate(EscalationLevel::City, None),
            &at(&refs, manager(), "2025-09-26 11:00"),
        )
        .then_names(&["Escalated"]);
    given::<TicketDecider>(events.clone())
        .when(
            escalate(EscalationLevel::City, None),
            &at(&refs, manager(), "2025-09-26 12:00"),
        )
        .then_error_containing("it is already handled at city level");
    given::<TicketDecider>(events)
        .when(
            escalate(EscalationLevel::Project, None),
            &at(&refs, manager(), "2025-09-26 12:00"),
        )
        .then_error_containing("it is already handled at city level");
}

#[test]
fn escalating_to_project_level_is_no_escalation() {
    let refs = refs();
    given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(
            escalate(EscalationLevel::Project, None),
            &at(&refs, manager(), "2025-09-26 11:00"),
        )
        .then_error_containing("it is already handled at project level");
}

#[test]
fn escalating_into_an_incident_records_the_incident() {
    let refs = refs();
    let events = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(
            escalate(EscalationLevel::Group, Some("INC-2025-7")),
            &at(&refs, manager(), "2025-09-26 11:00"),
        )
        .then_names(&["Escalated"]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.escalation, Some(EscalationLevel::Group));
    assert_eq!(ticket.incident, Some(IncidentId::new("INC-2025-7").unwrap()));
}

#[test]
fn dispatching_a_complaint_is_refused() {
    let refs = refs();
    given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(dispatch_to_c1(), &at(&refs, manager(), "2025-09-26 11:00"))
        .then_error_containing("only a repair or handover defect");
}

#[test]
fn diagnosing_a_complaint_is_refused() {
    let refs = refs();
    given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(diagnose(), &at(&refs, manager(), "2025-09-26 11:00"))
        .then_error_containing("only a repair or handover defect");
}

#[test]
fn completing_a_repair_on_a_complaint_is_refused() {
    let refs = refs();
    given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(complete(), &at(&refs, manager(), "2025-09-26 11:00"))
        .then_error_containing("only a repair or handover defect");
}

#[test]
fn recording_an_owner_response_with_nothing_proposed_is_refused() {
    let refs = refs();
    let events = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(investigate("维修拖延属实"), &at(&refs, manager(), "2025-09-28 11:00"))
        .then_names(&["Investigated"]);
    given::<TicketDecider>(events)
        .when(owner_response(true), &at(&refs, agent(), "2025-09-28 12:00"))
        .then_error_containing("no resolution is waiting for the owner's response");
}

#[test]
fn a_disagreement_needs_the_owners_reason() {
    let refs = refs();
    given::<TicketDecider>(complaint_proposed(&refs))
        .when(
            TicketCommand::RecordOwnerResponse {
                agreed: false,
                note: "  ".into(),
            },
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_error(DomainError::input("reason", "it is empty"));
}

#[test]
fn the_complaining_owner_may_record_their_own_response() {
    let refs = refs();
    let events = given::<TicketDecider>(complaint_proposed(&refs))
        .when(owner_response(true), &at(&refs, owner_actor(), "2025-09-30 10:00"))
        .then_names(&["OwnerAgreed"]);
    assert_eq!(events.last().unwrap().actor, owner_actor());
}

#[test]
fn a_contractor_may_not_record_the_owners_response() {
    let refs = refs();
    let result = given::<TicketDecider>(complaint_proposed(&refs))
        .when(owner_response(true), &at(&refs, contractor("C-1"), "2025-09-30 10:00"))
        .result();
    assert!(
        matches!(
            &result,
            Err(DomainError::Forbidden {
                action: "record the owner's response",
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn another_owner_may_not_record_a_response_on_someone_elses_complaint() {
    let refs = refs();
    let neighbour = Actor::owner(UserId::new("owner-user-2").unwrap(), OwnerId::new("O-2").unwrap());
    let error = given::<TicketDecider>(complaint_proposed(&refs))
        .when(owner_response(true), &at(&refs, neighbour, "2025-09-30 10:00"))
        .then_error_containing("owners act only on their own reports");
    assert!(matches!(error, DomainError::Forbidden { .. }), "{error:?}");
}

#[test]
fn a_priority_change_on_a_complaint_records_the_new_clocks() {
    let refs = refs();
    let expected_clocks = refs
        .policy
        .clock_setup(
            TicketKind::Complaint,
            Priority::Urgent,
            Some(unit_location().project()),
            Category::Service,
            &refs.calendar,
        )
        .unwrap();
    let events = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(
            TicketCommand::ChangePriority {
                priority: Priority::Urgent,
                reason: "业主情绪激动 owner very upset".into(),
            },
            &at(&refs, manager(), "2025-09-26 11:00"),
        )
        .then(vec![Stamped {
            occurred_at: bj("2025-09-26 11:00"),
            actor: manager(),
            channel: Channel::BackOffice,
            event: TicketEvent::PriorityChanged {
                from: Priority::Normal,
                to: Priority::Urgent,
                reason: "业主情绪激动 owner very upset".into(),
                clocks: expected_clocks.clone(),
            },
            text_seals: Vec::new(),
        }]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.priority, Priority::Urgent);
    assert_eq!(ticket.clocks, expected_clocks);
    assert_eq!(ticket.status, Status::Acknowledged);
}

// ---- inquiry ----

#[test]
fn an_inquiry_answered_on_the_spot_is_closed() {
    let refs = refs();
    let events = given::<TicketDecider>(inquiry_received(&refs))
        .when(answer(true), &at(&refs, agent(), "2025-09-30 10:05"))
        .then_names(&["Answered"]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.status, Status::Answered);
    assert_eq!(ticket.answered_at, Some(bj("2025-09-30 10:05")));
    // The answer is both the first response and the resolution.
    let report = evaluate(&events, &CalendarRegistry::with_cn_mainland(), bj("2025-09-30 10:05")).unwrap();
    assert_eq!(report.first_response.unwrap().status, ClockStatus::Met);
    assert_eq!(report.resolution.unwrap().status, ClockStatus::Met);

    let events = given::<TicketDecider>(events)
        .when(close(), &at(&refs, agent(), "2025-09-30 10:10"))
        .then_names(&["Closed"]);
    assert_eq!(ticket_of(&events).status, Status::Closed);
}

#[test]
fn an_inquiry_acknowledged_first_is_answered_after_checking() {
    let refs = refs();
    let events = given::<TicketDecider>(inquiry_received(&refs))
        .when(acknowledge(), &at(&refs, agent(), "2025-09-30 10:05"))
        .then_names(&["Acknowledged"]);
    let events = given::<TicketDecider>(events)
        .when(answer(false), &at(&refs, manager(), "2025-09-30 15:00"))
        .then(vec![Stamped {
            occurred_at: bj("2025-09-30 15:00"),
            actor: manager(),
            channel: Channel::BackOffice,
            event: TicketEvent::Answered {
                answer: "产权证将于交付后 90 日内办理 title deeds within 90 days of delivery".into(),
                on_the_spot: false,
            },
            text_seals: Vec::new(),
        }]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.status, Status::Answered);
    assert_eq!(ticket.acknowledged_at, Some(bj("2025-09-30 10:05")));
    assert_eq!(ticket.answered_at, Some(bj("2025-09-30 15:00")));
}

#[test]
fn closing_an_unanswered_inquiry_is_refused() {
    let refs = refs();
    given::<TicketDecider>(inquiry_received(&refs))
        .when(close(), &at(&refs, agent(), "2025-09-30 10:10"))
        .then_error_containing("inquiry T-1 is received (the inquiry is not answered)");
}

#[test]
fn answering_an_inquiry_twice_is_refused() {
    let refs = refs();
    let events = given::<TicketDecider>(inquiry_received(&refs))
        .when(answer(true), &at(&refs, agent(), "2025-09-30 10:05"))
        .then_names(&["Answered"]);
    given::<TicketDecider>(events)
        .when(answer(false), &at(&refs, agent(), "2025-09-30 11:00"))
        .then_error_containing("inquiry T-1 is answered");
}

#[test]
fn an_answered_inquiry_can_be_revisited() {
    let refs = refs();
    let events = given::<TicketDecider>(inquiry_received(&refs))
        .when(answer(true), &at(&refs, agent(), "2025-09-30 10:05"))
        .then_names(&["Answered"]);
    let events = given::<TicketDecider>(events)
        .when(revisit(), &at(&refs, agent(), "2025-10-09 10:00"))
        .then_names(&["Revisited"]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.revisit_count, 1);
    assert_eq!(ticket.status, Status::Answered);
}

#[test]
fn an_unanswered_inquiry_cannot_be_revisited() {
    let refs = refs();
    given::<TicketDecider>(inquiry_received(&refs))
        .when(revisit(), &at(&refs, agent(), "2025-09-30 11:00"))
        .then_error_containing("a revisit follows the owner's acceptance or agreement");
}

#[test]
fn investigating_an_inquiry_is_refused() {
    let refs = refs();
    given::<TicketDecider>(inquiry_received(&refs))
        .when(investigate("查看记录"), &at(&refs, agent(), "2025-09-30 11:00"))
        .then_error_containing("only a complaint");
}

// ---- handover defect ----

#[test]
fn a_handover_defect_without_the_signed_record_is_refused() {
    let refs = refs();
    given::<TicketDecider>(Vec::new())
        .when(
            receive_with(TicketKind::HandoverDefect, None),
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_error_containing("a handover defect needs the inspection record signed by both sides");
}

#[test]
fn a_handover_defect_with_an_empty_signed_record_reference_is_refused() {
    let refs = refs();
    let mut record = handover_record("2025-10-15");
    record.signed_record = " ".into();
    given::<TicketDecider>(Vec::new())
        .when(
            receive_with(TicketKind::HandoverDefect, Some(record)),
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_error(DomainError::input("signed inspection record", "it is empty"));
}

#[test]
fn a_repair_carrying_a_handover_record_is_refused() {
    let refs = refs();
    given::<TicketDecider>(Vec::new())
        .when(
            receive_with(TicketKind::Repair, Some(handover_record("2025-10-15"))),
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_error(DomainError::input("handover record", "only handover defects carry one"));
}

#[test]
fn a_promised_date_before_the_inspection_day_is_refused() {
    let refs = refs();
    given::<TicketDecider>(Vec::new())
        .when(
            receive_with(TicketKind::HandoverDefect, Some(handover_record("2025-09-29"))),
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_error_containing("2025-09-29 is before the inspection on 2025-09-30");
}

#[test]
fn a_promised_date_on_the_inspection_day_is_accepted() {
    let refs = refs();
    let events = given::<TicketDecider>(Vec::new())
        .when(
            receive_with(TicketKind::HandoverDefect, Some(handover_record("2025-09-30"))),
            &at(&refs, agent(), "2025-09-30 10:00"),
        )
        .then_names(&["Received"]);
    assert_eq!(
        ticket_of(&events).clocks.resolution,
        Some(ClockTarget::Deadline {
            due: bj("2025-10-01 00:00")
        })
    );
}

#[test]
fn a_handover_defect_is_dispatched_straight_from_received() {
    let refs = refs();
    let events = given::<TicketDecider>(handover_received(&refs))
        .when(dispatch_to_c1(), &at(&refs, agent(), "2025-09-30 10:30"))
        .then_names(&["Dispatched"]);
    let ticket = ticket_of(&events);
    assert_eq!(ticket.status, Status::Dispatched);
    assert_eq!(
        ticket.assignee,
        Some(Assignee::Contractor(domain::ids::ContractorId::new("C-1").unwrap()))
    );
}

#[test]
fn a_repair_is_not_dispatched_before_it_is_acknowledged() {
    let refs = refs();
    let events = history(
        &refs,
        vec![(
            agent(),
            "2025-09-30 10:00",
            receive(TicketKind::Repair, Priority::Normal),
        )],
    );
    given::<TicketDecider>(events)
        .when(dispatch_to_c1(), &at(&refs, agent(), "2025-09-30 10:30"))
        .then_error_containing("repair T-1 is received (it must be acknowledged");
}

#[test]
fn a_handover_defect_goes_from_received_to_accepted_and_closed() {
    let refs = refs();
    let events = handover_diagnosed(&refs);
    let diagnosed = ticket_of(&events);
    assert_eq!(diagnosed.status, Status::Diagnosed);
    let diagnosis = diagnosed.diagnosis.unwrap();
    assert!(!diagnosis.chargeable);
    assert!(diagnosis.warranty.unwrap().in_warranty);

    let events = given::<TicketDecider>(events)
        .when(complete(), &at(&refs, contractor("C-1"), "2025-10-14 17:00"))
        .then_names(&["Repaired"]);
    let events = given::<TicketDecider>(events)
        .when(accept(), &at(&refs, owner_actor(), "2025-10-14 17:30"))
        .then_names(&["Accepted"]);
    assert_eq!(ticket_of(&events).status, Status::Accepted);
    let events = given::<TicketDecider>(events)
        .when(close(), &at(&refs, manager(), "2025-10-15 09:00"))
        .then_names(&["Closed"]);

    let ticket = ticket_of(&events);
    assert_eq!(ticket.kind, TicketKind::HandoverDefect);
    assert_eq!(ticket.status, Status::Closed);
    assert_eq!(ticket.handover, Some(handover_record("2025-10-15")));
    assert_eq!(ticket.repaired_at, Some(bj("2025-10-14 17:00")));
    assert_eq!(ticket.accepted_at, Some(bj("2025-10-14 17:30")));
    assert_eq!(ticket.acceptance_ratings, Some(ratings(4)));
    assert_eq!(ticket.closed_at, Some(bj("2025-10-15 09:00")));
}

#[test]
fn the_resolution_target_of_a_handover_defect_is_the_end_of_the_promised_date() {
    let refs = refs();
    let ticket = ticket_of(&handover_received(&refs));
    assert_eq!(
        ticket.clocks.resolution,
        Some(ClockTarget::Deadline {
            due: bj("2025-10-16 00:00")
        })
    );
}

#[test]
fn a_handover_defect_repaired_late_on_the_promised_date_meets_its_deadline() {
    let refs = refs();
    let events = given::<TicketDecider>(handover_diagnosed(&refs))
        .when(complete(), &at(&refs, contractor("C-1"), "2025-10-15 23:59"))
        .then_names(&["Repaired"]);
    let report = evaluate(&events, &CalendarRegistry::with_cn_mainland(), bj("2025-10-15 23:59")).unwrap();
    let resolution = report.resolution.unwrap();
    assert_eq!(resolution.status, ClockStatus::Met);
    assert_eq!(resolution.due_at, Some(bj("2025-10-16 00:00")));
}

#[test]
fn a_handover_defect_repaired_the_day_after_the_promised_date_breaches() {
    let refs = refs();
    let events = given::<TicketDecider>(handover_diagnosed(&refs))
        .when(complete(), &at(&refs, contractor("C-1"), "2025-10-16 10:00"))
        .then_names(&["Repaired"]);
    let report = evaluate(&events, &CalendarRegistry::with_cn_mainland(), bj("2025-10-16 10:00")).unwrap();
    let resolution = report.resolution.unwrap();
    assert_eq!(resolution.status, ClockStatus::Breached);
    assert_eq!(resolution.breached_at, Some(bj("2025-10-16 00:00")));
}

#[test]
fn raising_a_handover_defect_to_emergency_keeps_the_promised_deadline() {
    let refs = refs();
    let events = given::<TicketDecider>(handover_received(&refs))
        .when(
            TicketCommand::ChangePriority {
                priority: Priority::Emergency,
                reason: "渗水影响楼下 leaking into the unit below".into(),
            },
            &at(&refs, manager(), "2025-09-30 11:00"),
        )
        .then_names(&["PriorityChanged"]);
    let clocks = ticket_of(&events).clocks;
    assert_eq!(
        clocks.resolution,
        Some(ClockTarget::Deadline {
            due: bj("2025-10-16 00:00")
        })
    );
    assert_eq!(clocks.on_site.and_then(|t| t.minutes()), Some(120));
}

// ---- when the action happened ----

#[test]
fn an_action_said_to_happen_in_the_future_is_refused() {
    let refs = refs();
    let mut ctx = at(&refs, manager(), "2025-09-26 11:00");
    ctx.occurred_at = Some(bj("2025-09-26 12:00"));
    let error = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(investigate("维修拖延属实"), &ctx)
        .then_error_containing("future");
    assert!(matches!(error, DomainError::InvalidOccurredAt { .. }), "{error:?}");
}

#[test]
fn an_action_said_to_happen_before_the_previous_event_is_refused() {
    let refs = refs();
    let mut ctx = at(&refs, manager(), "2025-09-26 11:00");
    // The acknowledgement was at 10:30.
    ctx.occurred_at = Some(bj("2025-09-26 10:15"));
    let error = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(investigate("维修拖延属实"), &ctx)
        .then_error_containing("before");
    assert!(matches!(error, DomainError::InvalidOccurredAt { .. }), "{error:?}");
}

#[test]
fn an_action_entered_late_is_recorded_when_it_happened() {
    let refs = refs();
    let mut ctx = at(&refs, manager(), "2025-09-28 18:00");
    ctx.occurred_at = Some(bj("2025-09-28 11:00"));
    let events = given::<TicketDecider>(complaint_acknowledged(&refs))
        .when(investigate("维修拖延属实"), &ctx)
        .then_names(&["Investigated"]);
    assert_eq!(events.last().unwrap().occurred_at, bj("2025-09-28 11:00"));
    assert_eq!(ticket_of(&events).last_event_at, bj("2025-09-28 11:00"));
}

#[test]
fn a_report_said_to_be_received_in_the_future_is_refused() {
    let refs = refs();
    let mut ctx = at(&refs, agent(), "2025-09-30 10:00");
    ctx.occurred_at = Some(bj("2025-09-30 10:01"));
    given::<TicketDecider>(Vec::new())
        .when(receive(TicketKind::Complaint, Priority::Normal), &ctx)
        .then_error_containing("future");
}

#[test]
fn a_pre_inspection_defect_is_diagnosed_before_delivery() {
    let mut refs = refs();
    refs.delivered_on = None;
    let engineer = || staff(Role::Engineer);
    let h = history(
        &refs,
        vec![
            (
                agent(),
                "2025-09-30 10:00",
                receive(TicketKind::HandoverDefect, Priority::Normal),
            ),
            (
                agent(),
                "2025-09-30 10:10",
                TicketCommand::Dispatch {
                    to: Assignee::Contractor(domain::ids::ContractorId::new("C-1").unwrap()),
                    note: String::new(),
                },
            ),
            (
                contractor("C-1"),
                "2025-09-30 11:00",
                TicketCommand::RecordArrival { note: String::new() },
            ),
        ],
    );
    let events = given::<TicketDecider>(h)
        .when(
            TicketCommand::Diagnose {
                cause: "hollow tiles".into(),
                responsible: ResponsibleParty::ContractorWorkmanship,
                item: domain::warranty::WarrantyItem::HollowOrCrackedFloor,
                plan: RepairPlan {
                    content: "re-lay".into(),
                    materials: vec![],
                    duration_minutes: 240,
                    cost: None,
                },
            },
            &context_at(&refs, engineer(), bj("2025-09-30 11:30")),
        )
        .then_names(&["Diagnosed"]);
    let TicketEvent::Diagnosed {
        warranty, chargeable, ..
    } = &events.last().unwrap().event
    else {
        panic!()
    };
    assert_eq!((warranty, chargeable), (&None, &false));
}
