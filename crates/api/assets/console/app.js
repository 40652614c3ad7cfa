// The staff console: a client of the public GraphQL API, nothing else.
import { html, render, useState, useEffect, useCallback, useRef } from './htm-preact-standalone.js';
import { gql, subscribe, session } from './api.js';
import { t, when, language, setLanguage } from './i18n.js';
import { FORMS, variablesOf } from './forms.js';
import { ErrorBox, FINISHED } from './ui.js';
import { Intake } from './intake.js';
import { Dashboard } from './dashboard.js';
import { Reports } from './reports.js';
import { Incidents } from './incidents.js';

const CLOCK_FIELDS = 'clock status target startedAt dueAt elapsedMinutes pausedMinutes paused targetMinutes breachedAt stoppedAt stops';
const ROW_FIELDS = `id kind status priority category projectId buildingId unitId description receivedAt version
  assignee { engineerId contractorId } clocks { ${CLOCK_FIELDS} }`;

const STATUSES = ['RECEIVED', 'ACKNOWLEDGED', 'DISPATCHED', 'SCHEDULED', 'ON_SITE', 'DIAGNOSED', 'PLAN_DECLINED',
  'IN_REPAIR', 'REPAIRED', 'ACCEPTED', 'REJECTED', 'REOPENED', 'ON_HOLD', 'INVESTIGATING', 'RESOLUTION_PROPOSED',
  'OWNER_AGREED', 'OWNER_DISAGREED', 'ANSWERED', 'CLOSED', 'WITHDRAWN', 'MERGED'];
const KINDS = ['REPAIR', 'COMPLAINT', 'INQUIRY', 'HANDOVER_DEFECT'];
const PRIORITIES = ['EMERGENCY', 'URGENT', 'NORMAL'];
const CATEGORIES = ['PLANNING', 'ENGINEERING', 'MODEL_UNIT', 'PUBLIC_FACILITIES', 'SERVICE', 'OTHER'];

/** The route, from the hash: `#/queue`, `#/ticket/<id>`. */
function useRoute() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  const [, page, id] = hash.split('/');
  return { page: page || 'queue', id: id ? decodeURIComponent(id) : undefined };
}

function SignIn({ onSignedIn }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    session.signIn(token);
    try {
      const data = await gql('{ me { user role projects contractorId ownerId } }');
      onSignedIn(data.me);
    } catch (err) {
      session.signOut();
      setError(err);
    }
  };
  return html`<form class="signin" onSubmit=${submit}>
    <h1>${t('title')}</h1>
    <label>${t('token')}
      <input id="token" type="password" autocomplete="off" value=${token} onInput=${(e) => setToken(e.target.value)} />
    </label>
    <p class="help">${t('tokenHelp')}</p>
    <button id="sign-in" type="submit">${t('signIn')}</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

/** Business minutes as hours, one decimal. */
const hours = (minutes) => (Math.abs(minutes) / 60).toFixed(1);

function ClockBadge({ clock }) {
  const state = clock.paused && !clock.stoppedAt ? 'PAUSED' : clock.status;
  let detail = '';
  if (clock.targetMinutes != null && !clock.stoppedAt && clock.status !== 'CANCELLED') {
    const rest = clock.targetMinutes - clock.elapsedMinutes;
    detail = rest >= 0 ? `${t('left')} ${hours(rest)} ${t('businessHours')}` : `${t('over')} ${hours(rest)} ${t('businessHours')}`;
  }
  return html`<span class=${`clock clock-${state.toLowerCase()}`} data-clock=${clock.clock} data-status=${state}
    title=${`${t(clock.clock)}: ${t(state)}${clock.dueAt ? ` · ${t('due')} ${when(clock.dueAt)}` : ''}`}>
    <b>${t(clock.clock)}</b> ${t(state)}${detail ? html` · ${detail}` : ''}${clock.dueAt ? html`<small>${t('due')} ${when(clock.dueAt)}</small>` : ''}
  </span>`;
}

function Select({ name, value, options, prefix, onChange }) {
  return html`<label>${t(name)}
    <select name=${name} value=${value ?? ''} onChange=${(e) => onChange(name, e.target.value || undefined)}>
      <option value="">${t('any')}</option>
      ${options.map((o) => html`<option value=${o}>${t(prefix + o)}</option>`)}
    </select></label>`;
}

function Text({ name, value, onChange, type = 'text' }) {
  return html`<label>${t(name)}
    <input name=${name} type=${type} value=${value ?? ''} onChange=${(e) => onChange(name, e.target.value || undefined)} /></label>`;
}

/** Saved views of the queue, by role. */
function presets(me) {
  const all = [
    { id: 'all', filter: {} },
    me.role === 'engineer' ? { id: 'mine', filter: { engineer: me.user } } : null,
    { id: 'breached', filter: {}, only: 'breached' },
    { id: 'awaitingRevisit', filter: { awaitingRevisit: true } },
    { id: 'awaitingOwner', filter: { status: 'REPAIRED' } },
  ];
  return all.filter(Boolean);
}

function Queue({ me }) {
  const [filter, setFilter] = useState({});
  const [preset, setPreset] = useState('all');
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);
  // The queue's order: most urgent first over every open ticket (the
  // server's NEAREST_DUE), or newest first for finished tickets.
  const byDue = !filter.awaitingRevisit && !FINISHED.includes(filter.status);
  const load = useCallback(async () => {
    const f = {
      projectId: filter.project, buildingId: filter.building, unitId: filter.unit, status: filter.status, kind: filter.kind,
      priority: filter.priority, engineerId: filter.engineer, category: filter.category,
      contractorId: me.role === 'contractor' ? undefined : filter.contractor,
      receivedFrom: filter.receivedFrom ? `${filter.receivedFrom}T00:00:00+08:00` : undefined,
      receivedBefore: filter.receivedBefore ? `${filter.receivedBefore}T00:00:00+08:00` : undefined,
      awaitingRevisit: filter.awaitingRevisit,
    };
    try {
      const d = await gql(`query($filter: TicketFilterInput!, $order: TicketOrder!) {
        tickets(filter: $filter, first: 100, orderBy: $order) {
        totalCount edges { node { ${ROW_FIELDS} } } } }`, { filter: f, order: byDue ? 'NEAREST_DUE' : 'RECEIVED' });
      setData(d.tickets);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [filter, me]);
  useEffect(() => { load(); }, [load, tick]);
  // Live: ticket events reload the page of the queue, at most once a
  // second however busy the log is.
  const pending = useRef(null);
  useEffect(() => {
    const end = subscribe('subscription { ticketEvents { position ticketId } }', {}, () => {
      if (pending.current) return;
      pending.current = setTimeout(() => { pending.current = null; setTick((n) => n + 1); }, 1000);
    }, setError);
    return () => { end(); clearTimeout(pending.current); };
  }, []);
  const change = (name, value) => setFilter((f) => ({ ...f, [name]: value }));
  const only = presets(me).find((p) => p.id === preset)?.only;
  const rows = data
    ? data.edges.map((e) => e.node).filter((r) => only !== 'breached' || r.clocks.some((c) => c.status === 'BREACHED'))
    : [];
  // When the first page of rows is on screen (read by the console
  // benchmark: milliseconds since the navigation started).
  useEffect(() => {
    if (rows.length && !performance.getEntriesByName('aftersales:queue-visible').length) {
      performance.mark('aftersales:queue-visible');
    }
  }, [rows.length]);
  return html`<section>
    <h2>${t('queue')}</h2>
    <div class="presets" id="presets">${presets(me).map((p) => html`<button type="button" data-preset=${p.id}
      class=${preset === p.id ? 'chosen' : ''} onClick=${() => { setPreset(p.id); setFilter(p.filter); }}>${t('view_' + p.id)}</button>`)}</div>
    <form class="filters" onSubmit=${(e) => { e.preventDefault(); load(); }}>
      <${Text} name="project" value=${filter.project} onChange=${change} />
      <${Text} name="building" value=${filter.building} onChange=${change} />
      <${Text} name="unit" value=${filter.unit} onChange=${change} />
      <${Select} name="status" value=${filter.status} options=${STATUSES} prefix="s_" onChange=${change} />
      <${Select} name="kind" value=${filter.kind} options=${KINDS} prefix="k_" onChange=${change} />
      <${Select} name="priority" value=${filter.priority} options=${PRIORITIES} prefix="p_" onChange=${change} />
      <${Select} name="category" value=${filter.category} options=${CATEGORIES} prefix="c_" onChange=${change} />
      <${Text} name="engineer" value=${filter.engineer} onChange=${change} />
      ${me.role === 'contractor' ? null : html`<${Text} name="contractor" value=${filter.contractor} onChange=${change} />`}
      <${Text} name="receivedFrom" type="date" value=${filter.receivedFrom} onChange=${change} />
      <${Text} name="receivedBefore" type="date" value=${filter.receivedBefore} onChange=${change} />
    </form>
    <${ErrorBox} error=${error} />
    ${data ? html`<p class="meta">${t('shown')} ${rows.length} ${t('of')} ${data.totalCount} ${t('tickets')} · ${byDue ? t('sortedByDue') : t('sortedByReceived')} · <span class="live">${t('live')}</span></p>` : html`<p>${t('loading')}</p>`}
    <p class="note">${t('businessTimeNote')}</p>
    ${data && !rows.length ? html`<p class="empty">${t('noTickets')}</p>` : null}
    ${rows.length ? html`<table class="queue">
      <thead><tr><th>${t('ticket')}</th><th>${t('status')}</th><th>${t('priority')}</th><th>${t('unit')}</th>
        <th>${t('description')}</th><th>${t('assignee')}</th><th>${t('clocks')}</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr data-ticket=${r.id}>
        <td><a href=${`#/ticket/${encodeURIComponent(r.id)}`}>${r.id}</a><br /><small>${t('k_' + r.kind)} · ${when(r.receivedAt)}</small></td>
        <td>${t('s_' + r.status)}</td>
        <td class=${`priority-${r.priority.toLowerCase()}`}>${t('p_' + r.priority)}</td>
        <td>${r.unitId ?? r.buildingId ?? r.projectId}</td>
        <td class="description">${r.description}</td>
        <td>${r.assignee?.contractorId ?? r.assignee?.engineerId ?? ''}</td>
        <td class="clocks">${r.clocks.map((c) => html`<${ClockBadge} clock=${c} />`)}</td>
      </tr>`)}</tbody></table>` : null}
  </section>`;
}

export function ActionForm({ ticket, action, onDone, onCancel }) {
  const spec = FORMS[action] ?? [];
  const [values, setValues] = useState({});
  const [error, setError] = useState(null);
  const set = (name, value) => setValues((v) => ({ ...v, [name]: value }));
  const submit = async (e) => {
    e.preventDefault();
    try {
      const input = variablesOf(action, ticket, values);
      const inputType = FORMS[action]?.inputType ?? `${action[0].toUpperCase()}${action.slice(1)}Input`;
      await gql(`mutation($input: ${inputType}!) { ${action}(input: $input) { position } }`, { input });
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="action-form" data-action=${action} onSubmit=${submit}>
    <h4>${t(action)}</h4>
    ${spec.map((f) => html`<label>${t('f_' + f.name)}${f.required ? ' *' : ''}
      ${f.type === 'select'
        ? html`<select name=${f.name} onChange=${(e) => set(f.name, e.target.value)}>
            <option value="">—</option>${f.options.map((o) => html`<option value=${o}>${t(o)}</option>`)}</select>`
        : f.type === 'checkbox'
          ? html`<input name=${f.name} type="checkbox" onChange=${(e) => set(f.name, e.target.checked)} />`
          : html`<input name=${f.name} type=${f.type ?? 'text'} onInput=${(e) => set(f.name, e.target.value)} />`}
    </label>`)}
    <label>${t('occurredAt')}<input name="occurredAt" type="datetime-local" onInput=${(e) => set('occurredAt', e.target.value)} /></label>
    <div class="buttons"><button type="submit">${t('submit')}</button>
      <button type="button" onClick=${onCancel}>${t('cancel')}</button></div>
    <${ErrorBox} error=${error} />
  </form>`;
}

/** Every clock in full: target, start, due, business time used, the
 * paused (credited) time, and where it stopped. */
function ClockTable({ clocks }) {
  if (!clocks.length) return null;
  return html`<table class="clock-table" id="clock-table"><thead><tr><th>${t('clock')}</th><th>${t('status')}</th><th>${t('target')}</th>
    <th>${t('startedAt')}</th><th>${t('due')}</th><th>${t('elapsed')}</th><th>${t('pausedCredited')}</th><th>${t('breachedAt')}</th><th>${t('stoppedAt')}</th></tr></thead>
    <tbody>${clocks.map((c) => html`<tr data-clock=${c.clock}><td>${t(c.clock)}</td><td>${t(c.paused && !c.stoppedAt ? 'PAUSED' : c.status)}</td>
      <td>${c.target}</td><td>${when(c.startedAt)}</td><td>${c.dueAt ? when(c.dueAt) : '—'}</td>
      <td>${hours(c.elapsedMinutes)} ${t('businessHours')}</td><td data-paused=${c.pausedMinutes}>${hours(c.pausedMinutes)} ${t('businessHours')}</td>
      <td>${c.breachedAt ? when(c.breachedAt) : '—'}</td><td>${c.stoppedAt ? when(c.stoppedAt) : '—'}</td></tr>`)}</tbody></table>`;
}

const yes = (b) => (b ? t('yes') : t('no'));

/** Warranty finding and responsibility; plan and the owner's consent;
 * contractor and appointments; acceptance and revisits. */
function Handling({ ticket }) {
  const d = ticket.diagnosis;
  const w = d?.warranty;
  return html`<div class="handling" id="handling">
    <section><h4>${t('warrantyAndResponsibility')}</h4>
      ${d ? html`<dl class="facts">
        <dt>${t('f_cause')}</dt><dd>${d.cause}</dd>
        <dt>${t('f_responsible')}</dt><dd id="responsible">${t(d.responsible)}</dd>
        <dt>${t('warranty')}</dt><dd id="warranty-finding">${w ? html`${t('w_' + w.item)} · ${w.inWarranty ? t('inWarranty') : t('outOfWarranty')} (${w.period}, ${t('lastDay')} ${w.lastDay})` : '—'}</dd>
        <dt>${t('f_chargeable')}</dt><dd>${yes(d.chargeable)}${d.costFen != null ? ` · ¥${(d.costFen / 100).toFixed(2)}` : ''}</dd>
      </dl>` : html`<p class="empty">${t('notDiagnosed')}</p>`}</section>
    <section><h4>${t('planAndConsent')}</h4>
      ${d ? html`<dl class="facts">
        <dt>${t('f_plan')}</dt><dd>${d.plan}</dd>
        <dt>${t('f_durationMinutes')}</dt><dd>${d.durationMinutes}</dd>
        ${d.materials.length ? html`<dt>${t('materials')}</dt><dd>${d.materials.join('、')}</dd>` : null}
        <dt>${t('ownerConsent')}</dt><dd id="plan-confirmed">${yes(ticket.planConfirmed)}</dd>
      </dl>` : html`<p class="empty">${t('notDiagnosed')}</p>`}</section>
    <section><h4>${t('contractorAndAppointments')}</h4>
      <dl class="facts">
        <dt>${t('assignee')}</dt><dd>${ticket.assignee?.contractorId ?? ticket.assignee?.engineerId ?? '—'}</dd>
        <dt>${t('dispatchCount')}</dt><dd>${ticket.dispatchCount}</dd>
        <dt>${t('appointment')}</dt><dd id="appointment">${ticket.appointment ? `${when(ticket.appointment.from)} – ${when(ticket.appointment.to)}` : '—'}</dd>
        <dt>${t('firstArrivedAt')}</dt><dd>${ticket.firstArrivedAt ? when(ticket.firstArrivedAt) : '—'}</dd>
        <dt>${t('repairedAt')}</dt><dd>${ticket.repairedAt ? when(ticket.repairedAt) : '—'}</dd>
        ${ticket.holdReason ? html`<dt>${t('holdReason')}</dt><dd>${t(ticket.holdReason)}</dd>` : null}
        ${ticket.reopenCount ? html`<dt>${t('reopenCount')}</dt><dd>${ticket.reopenCount}</dd>` : null}
        ${ticket.incidentId ? html`<dt>${t('f_incidentId')}</dt><dd><a href=${`#/incidents/${encodeURIComponent(ticket.incidentId)}`}>${ticket.incidentId}</a></dd>` : null}
      </dl></section>
    <section><h4>${t('acceptanceAndRevisits')}</h4>
      <dl class="facts">
        <dt>${t('acceptedAt')}</dt><dd>${ticket.acceptedAt ? when(ticket.acceptedAt) : '—'}</dd>
        <dt>${t('f_overall')}</dt><dd>${ticket.acceptanceRatings?.overall ?? '—'}</dd>
        ${ticket.revisits.map((r) => html`<dt>${t('revisits')}</dt><dd class="revisit">${when(r.at)} · ${t(r.outcome)} · ${t('st_' + r.stage)}${r.ratings ? ` · ${r.ratings.overall}` : ''}${r.note ? ` · ${r.note}` : ''}</dd>`)}
      </dl></section>
  </div>`;
}

/** Comments on the ticket, from its history (internal ones marked). */
function Comments({ events }) {
  const comments = events.filter((e) => e.type === 'Commented');
  return html`<section class="comments" id="comments"><h3>${t('comments')}</h3>
    ${comments.length ? html`<ul>${comments.map((c) => html`<li data-position=${c.position}>
      <b>${c.actor}</b> (${c.role}) · ${when(c.occurredAt)}${c.fields?.internal ? html` · <span class="internal">${t('f_internal')}</span>` : ''}
      <p>${c.fields?.text ?? c.summary}</p></li>`)}</ul>` : html`<p class="empty">${t('noComments')}</p>`}</section>`;
}

function TicketPage({ id }) {
  const [ticket, setTicket] = useState(null);
  const [history, setHistory] = useState(null);
  const [cut, setCut] = useState(null); // index into history.events, null: now
  const [then, setThen] = useState(null);
  const [action, setAction] = useState(null);
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    (async () => {
      try {
        const d = await gql(`query($id: String!) {
          ticket(id: $id) { ${ROW_FIELDS} reporterName reporterPhone channel trade availableActions position
            dispatchCount reopenCount rejectionCount planConfirmed holdReason escalation incidentId mergedInto
            firstArrivedAt repairedAt acceptedAt closedAt promisedAt
            diagnosis { cause responsible chargeable plan materials durationMinutes costFen
              warranty { item period deliveredOn lastDay inWarranty } }
            appointment { from to } acceptanceRatings { overall productQuality serviceProcess staffAttitude }
            revisits { at outcome stage note ratings { overall } } }
          ticketHistory(id: $id) { events { position version type occurredAt recordedAt actor role channel summary fields } } }`, { id });
        setTicket(d.ticket);
        setHistory(d.ticketHistory);
        setError(null);
      } catch (e) {
        setError(e);
      }
    })();
  }, [id, tick]);
  useEffect(() => subscribe('subscription($id: String!) { ticketEvents(filter: { ticketId: $id }) { position } }', { id }, () => setTick((n) => n + 1)), [id]);
  useEffect(() => {
    if (cut == null || !history) { setThen(null); return; }
    const position = history.events[cut].position;
    gql(`query($id: String!, $position: Int!) { ticketHistory(id: $id, asOf: { position: $position }) {
      state { status priority version assignee { engineerId contractorId } clocks { ${CLOCK_FIELDS} } } } }`, { id, position })
      .then((d) => setThen({ position, ...d.ticketHistory.state }))
      .catch(setError);
  }, [cut, history]);
  if (error && !ticket) return html`<${ErrorBox} error=${error} />`;
  if (!ticket) return html`<p>${t('loading')}</p>`;
  const events = history?.events ?? [];
  const shown = cut == null ? ticket : then;
  return html`<section class="ticket">
    <p><a href="#/queue">← ${t('back')}</a></p>
    <h2>${t('k_' + ticket.kind)} ${ticket.id} <span class="status" id="ticket-status">${t('s_' + ticket.status)}</span></h2>
    <${ErrorBox} error=${error} />
    <dl class="facts">
      <dt>${t('priority')}</dt><dd>${t('p_' + ticket.priority)}</dd>
      <dt>${t('category')}</dt><dd>${t('c_' + ticket.category)}</dd>
      <dt>${t('unit')}</dt><dd>${ticket.unitId ?? ticket.buildingId ?? ticket.projectId}</dd>
      <dt>${t('reporter')}</dt><dd>${ticket.reporterName} ${ticket.reporterPhone}</dd>
      <dt>${t('assignee')}</dt><dd>${ticket.assignee?.contractorId ?? ticket.assignee?.engineerId ?? '—'}</dd>
      <dt>${t('description')}</dt><dd>${ticket.description}</dd>
      <dt>${t('version')}</dt><dd>${ticket.version}</dd>
    </dl>
    <h3>${t('actions')}</h3>
    <div class="actions" id="actions">
      ${ticket.availableActions.length
        ? ticket.availableActions.map((a) => html`<button type="button" data-action=${a} onClick=${() => setAction(a)}>${t(a)}</button>`)
        : html`<p class="empty">${t('noActions')}</p>`}
    </div>
    ${action ? html`<${ActionForm} ticket=${ticket} action=${action} onCancel=${() => setAction(null)}
      onDone=${() => { setAction(null); setCut(null); setTick((n) => n + 1); }} />` : null}
    <h3>${t('clocks')}</h3>
    <div class="clocks" id="clocks">${(shown?.clocks ?? []).map((c) => html`<${ClockBadge} clock=${c} />`)}</div>
    <${ClockTable} clocks=${shown?.clocks ?? []} />
    <p class="note">${t('businessTimeNote')}</p>
    <${Handling} ticket=${ticket} />
    <${Comments} events=${events} />
    <h3>${t('timeline')}</h3>
    <div class="as-of">
      <label for="as-of">${t('asOf')}: <output id="as-of-label">${cut == null ? t('asOfNow') : `#${events[cut]?.position} · ${when(events[cut]?.recordedAt)}`}</output></label>
      <input id="as-of" type="range" min="0" max=${events.length} value=${cut == null ? events.length : cut}
        onInput=${(e) => { const v = Number(e.target.value); setCut(v >= events.length ? null : v); }} />
      <p class="help">${t('asOfHelp')}</p>
      ${then ? html`<p id="state-then">${t('stateAt')}: <span class="status">${t('s_' + then.status)}</span> · ${t('position')} ${then.position}</p>` : null}
    </div>
    <table class="timeline" id="timeline">
      <thead><tr><th>${t('position')}</th><th>${t('event')}</th><th>${t('actor')}</th><th>${t('role')}</th><th>${t('channel')}</th>
        <th>${t('occurred')}</th><th>${t('recorded')}</th></tr></thead>
      <tbody>${events.map((e, i) => html`<tr class=${cut != null && i > cut ? 'later' : ''} data-type=${e.type}>
        <td>${e.position}</td><td><b>${t('ev_' + e.type)}</b> <small class="type">${e.type}</small><br /><small>${e.summary}</small></td><td>${e.actor}</td><td>${t('ro_' + e.role)}</td>
        <td>${e.channel}</td><td>${when(e.occurredAt)}</td><td>${when(e.recordedAt)}</td></tr>`)}</tbody>
    </table>
  </section>`;
}

/** Tickets awaiting a revisit (回访), with the revisit form. */
function Revisits() {
  const [rows, setRows] = useState(null);
  const [open, setOpen] = useState(null);
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    gql(`query { tickets(filter: { awaitingRevisit: true }, first: 200) { totalCount
      edges { node { id kind status category unitId projectId description closedAt version reporterName reporterPhone acceptanceRatings { overall } } } } }`)
      .then((d) => { setRows(d.tickets); setError(null); })
      .catch(setError);
  }, [tick]);
  return html`<section>
    <h2>${t('revisits')}</h2>
    <${ErrorBox} error=${error} />
    ${rows ? html`<p class="meta">${rows.edges.length} ${t('of')} ${rows.totalCount} ${t('tickets')}</p>` : html`<p>${t('loading')}</p>`}
    ${rows && !rows.edges.length ? html`<p class="empty">${t('noTickets')}</p>` : null}
    ${rows?.edges.length ? html`<table class="queue" id="revisits">
      <thead><tr><th>${t('ticket')}</th><th>${t('unit')}</th><th>${t('reporter')}</th><th>${t('description')}</th><th>${t('closedAt')}</th><th></th></tr></thead>
      <tbody>${rows.edges.map(({ node: r }) => html`<tr data-ticket=${r.id}>
        <td><a href=${`#/ticket/${encodeURIComponent(r.id)}`}>${r.id}</a><br /><small>${t('k_' + r.kind)}</small></td>
        <td>${r.unitId ?? r.projectId}</td><td>${r.reporterName} ${r.reporterPhone}</td>
        <td class="description">${r.description}</td><td>${when(r.closedAt)}</td>
        <td><button type="button" data-revisit=${r.id} onClick=${() => setOpen(r)}>${t('recordRevisit')}</button></td></tr>`)}</tbody></table>` : null}
    ${open ? html`<${ActionForm} ticket=${open} action="recordRevisit" onCancel=${() => setOpen(null)}
      onDone=${() => { setOpen(null); setTick((n) => n + 1); }} />` : null}
  </section>`;
}

function App() {
  const [me, setMe] = useState(null);
  const [checked, setChecked] = useState(false);
  const route = useRoute();
  // Signed in already: by the token in this tab's session storage, or by
  // a gateway that names the caller in its own headers (no token then).
  useEffect(() => {
    gql('{ me { user role projects contractorId ownerId } }')
      .then((d) => setMe(d.me))
      .catch(() => session.signOut())
      .finally(() => setChecked(true));
  }, []);
  const [, rerender] = useState(0);
  const toggle = () => { setLanguage(language() === 'en' ? 'zh' : 'en'); rerender((n) => n + 1); };
  if (!checked) return html`<p>${t('loading')}</p>`;
  if (!me) return html`<${SignIn} onSignedIn=${setMe} />`;
  return html`<div>
    <header>
      <strong>${t('title')}</strong>
      <nav><a href="#/queue">${t('queue')}</a> ${me.role === 'contractor' || me.role === 'analyst' || me.role === 'auditor' ? null : html`<a href="#/intake" id="nav-intake">${t('intake')}</a>`} ${['agent', 'manager'].includes(me.role) ? html`<a href="#/revisits" id="nav-revisits">${t('revisits')}</a>` : null} ${['manager', 'analyst', 'auditor', 'admin'].includes(me.role) && !me.projects.length ? html`<a href="#/dashboard" id="nav-dashboard">${t('dashboard')}</a>` : null} ${me.role === 'contractor' || me.role === 'owner' ? null : html`<a href="#/incidents" id="nav-incidents">${t('incidents')}</a> <a href="#/reports" id="nav-reports">${t('reports')}</a>`} <a href="/graphiql">${t('graphiql')}</a></nav>
      <span class="who" id="who">${t('signedInAs')}: ${me.user} (${t('ro_' + me.role)}${me.contractorId ? ` · ${me.contractorId}` : ''})</span>
      <button type="button" onClick=${toggle}>${t('language')}</button>
      <button type="button" id="sign-out" onClick=${() => { session.signOut(); setMe(null); }}>${t('signOut')}</button>
    </header>
    <main>${route.page === 'ticket' && route.id
      ? html`<${TicketPage} id=${route.id} />`
      : route.page === 'intake' ? html`<${Intake} me=${me} />`
        : route.page === 'revisits' ? html`<${Revisits} />`
          : route.page === 'dashboard' ? html`<${Dashboard} />`
            : route.page === 'reports' ? html`<${Reports} me=${me} />`
              : route.page === 'incidents' ? html`<${Incidents} me=${me} id=${route.id} />` : html`<${Queue} me=${me} />`}</main>
  </div>`;
}

setLanguage(language());
render(html`<${App} />`, document.getElementById('app'));
