// The form of each ticket action: its GraphQL input type and the fields
// staff fill in. The ticket id, the version the form was opened on
// (`expectedVersion`, so a change in between is refused, not
// overwritten) and the optional "when it really happened" are added to
// every one.

const RATINGS = [
  { name: 'overall', type: 'number', required: true, rating: true },
  { name: 'productQuality', type: 'number', rating: true },
  { name: 'serviceProcess', type: 'number', rating: true },
  { name: 'staffAttitude', type: 'number', rating: true },
];

const text = (name, required = true) => ({ name, required });
const select = (name, options, required = true) => ({ name, type: 'select', options, required });

const form = (inputType, fields) => Object.assign(fields, { inputType });

export const FORMS = {
  acknowledgeTicket: form('AcknowledgeTicketInput', [text('note', false), { name: 'promisedAt', type: 'datetime-local' }]),
  changePriority: form('ChangePriorityInput', [select('priority', ['EMERGENCY', 'URGENT', 'NORMAL']), text('reason')]),
  answerInquiry: form('AnswerInquiryInput', [text('answer'), { name: 'onTheSpot', type: 'checkbox' }]),
  dispatchTicket: form('DispatchTicketInput', [text('contractorId', false), text('engineerId', false), text('note', false)]),
  scheduleVisit: form('ScheduleVisitInput', [
    { name: 'from', type: 'datetime-local', required: true },
    { name: 'to', type: 'datetime-local', required: true },
  ]),
  recordArrival: form('NoteInput', [text('note', false)]),
  diagnoseTicket: form('DiagnoseTicketInput', [
    text('cause'),
    select('responsible', ['DEVELOPER', 'OWNER_MISUSE', 'THIRD_PARTY', 'CONTRACTOR_WORKMANSHIP']),
    select('item', ['FOUNDATION_AND_STRUCTURE', 'ROOF_WATERPROOFING', 'WATERPROOFED_ROOMS', 'EXTERIOR_WALL_LEAKAGE',
      'HEATING_SYSTEM', 'COOLING_SYSTEM', 'ELECTRICAL_LINES', 'WATER_SUPPLY_AND_DRAINAGE', 'EQUIPMENT_INSTALLATION',
      'DECORATION', 'PLASTER_FALLING', 'HOLLOW_OR_CRACKED_FLOOR', 'DOORS_AND_WINDOWS', 'SANITARY_FIXTURES',
      'LAMPS_AND_SWITCHES', 'BLOCKED_PIPES']),
    text('plan'),
    { name: 'durationMinutes', type: 'number', required: true },
    { name: 'costFen', type: 'number' },
  ]),
  confirmPlan: form('ConfirmPlanInput', [text('confirmation')]),
  declinePlan: form('ReasonInput', [text('reason')]),
  noteProgress: form('NoteProgressInput', [text('note')]),
  completeRepair: form('CompleteRepairInput', [text('summary'), text('usageAdvice', false)]),
  acceptRepair: form('AcceptRepairInput', [text('confirmation'), ...RATINGS, text('comment', false)]),
  rejectRepair: form('ReasonInput', [text('reason')]),
  reopenTicket: form('ReasonInput', [text('reason')]),
  putOnHold: form('PutOnHoldInput', [
    select('reason', ['OWNER_UNREACHABLE', 'WAITING_FOR_MATERIAL', 'WAITING_FOR_OWNER_DECISION']),
    text('note', false),
  ]),
  resumeTicket: form('NoteInput', [text('note', false)]),
  withdrawTicket: form('ReasonInput', [text('reason')]),
  mergeTicket: form('MergeTicketInput', [text('into')]),
  commentTicket: form('CommentTicketInput', [text('text'), { name: 'internal', type: 'checkbox' }]),
  closeTicket: form('NoteInput', [text('note', false)]),
  recordRevisit: form('RecordRevisitInput', [
    select('outcome', ['SATISFIED', 'DISSATISFIED', 'PROBLEM_PERSISTS', 'UNREACHABLE']),
    ...RATINGS.map((r) => ({ ...r, required: false })),
    select('stage', ['WARRANTY_SERVICE', 'RESIDENCE_REVISIT', 'DELIVERY'], false),
    text('note', false),
  ]),
  investigateComplaint: form('InvestigateComplaintInput', [text('findings')]),
  proposeResolution: form('ProposeResolutionInput', [text('proposal'), text('basis')]),
  recordOwnerResponse: form('RecordOwnerResponseInput', [{ name: 'agreed', type: 'checkbox' }, text('note', false)]),
  escalateComplaint: form('EscalateComplaintInput', [select('level', ['PROJECT', 'CITY', 'GROUP']), text('incidentId', false), text('reason')]),
  linkTicketToIncident: form('LinkTicketToIncidentInput', [text('incidentId')]),
};

/** A `datetime-local` value read in Beijing time, as an instant with its offset. */
const beijing = (local) => (local ? `${local.length === 16 ? `${local}:00` : local}+08:00` : undefined);

/** The mutation's input from what the form holds. */
export function variablesOf(action, ticket, values) {
  const input = { ticketId: ticket.id, expectedVersion: ticket.version };
  if (values.occurredAt) input.occurredAt = beijing(values.occurredAt);
  const ratings = {};
  for (const field of FORMS[action] ?? []) {
    const raw = values[field.name];
    if (raw === undefined || raw === '') continue;
    let value = raw;
    if (field.type === 'number') value = Number(raw);
    if (field.type === 'datetime-local') value = beijing(raw);
    if (field.rating) ratings[field.name] = value;
    else input[field.name] = value;
  }
  if (Object.keys(ratings).length) input.ratings = ratings;
  return input;
}
