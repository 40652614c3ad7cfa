// Intake (受理), at the phone: find the unit, see its owner, delivery date
// and warranty per component, score the severity, see open tickets of the
// same category, and record the report.
import { html, useState, useEffect, useRef } from './htm-preact-standalone.js';
import { gql } from './api.js';
import { t } from './i18n.js';
import { ErrorBox, FINISHED } from './ui.js';

const KINDS = ['REPAIR', 'COMPLAINT', 'INQUIRY', 'HANDOVER_DEFECT'];
const CHANNELS = ['HOTLINE', 'APP', 'WE_CHAT', 'SERVICE_DESK', 'EMAIL', 'WEB_FORM', 'FORUM', 'BACK_OFFICE'];
const CATEGORIES = ['PLANNING', 'ENGINEERING', 'MODEL_UNIT', 'PUBLIC_FACILITIES', 'SERVICE', 'OTHER'];
const TRADES = ['LEAK', 'CRACK', 'HOLLOW', 'DOORS_WINDOWS', 'WATER_ELECTRIC', 'HVAC', 'FIXTURES', 'BLOCKAGE',
  'STRUCTURE', 'FACADE', 'ELEVATOR', 'LANDSCAPING', 'DECORATION', 'NONE', 'OTHER'];
const FACTORS = ['impactScope', 'satisfactionRisk', 'legalRisk', 'economicLoss', 'brandDamage'];

const UNIT = `query($id: String!, $projectId: String!, $buildingId: String!) {
  unit(id: $id) { id number deliveredOn owners { id name phone }
    warranty { item period lastDay inWarranty } }
  tickets(filter: { projectId: $projectId, buildingId: $buildingId, unitId: $id }, first: 100) {
    edges { node { id status kind category description receivedAt } } } }`;

function Choice({ id, label, value, options, word, onChange }) {
  return html`<label>${label}
    <select id=${id} value=${value ?? ''} onChange=${(e) => onChange(e.target.value || undefined)}>
      <option value="">—</option>
      ${options.map((o) => html`<option value=${o.value ?? o}>${o.label ?? (word ? t(word + o) : o)}</option>`)}
    </select></label>`;
}

export function Intake({ me }) {
  const [projects, setProjects] = useState([]);
  const [project, setProject] = useState();
  const [buildings, setBuildings] = useState([]);
  const [building, setBuilding] = useState();
  const [rooms, setRooms] = useState([]);
  const [unitId, setUnitId] = useState();
  const [unit, setUnit] = useState(null);
  const [open, setOpen] = useState([]);
  const [report, setReport] = useState({ kind: 'REPAIR', channel: 'HOTLINE', category: 'ENGINEERING', trade: 'LEAK' });
  const [factors, setFactors] = useState({ impactScope: 1, satisfactionRisk: 1, legalRisk: 0, economicLoss: 1, brandDamage: 0 });
  const [severity, setSeverity] = useState(null);
  const [created, setCreated] = useState(null);
  const [error, setError] = useState(null);
  const [callerPhone, setCallerPhone] = useState('');
  const [matches, setMatches] = useState(null);
  // A unit chosen from the phone lookup: its building and room are chosen
  // once the project's buildings and the building's rooms have loaded.
  const wanted = useRef(null);

  useEffect(() => { gql('{ projects { id name city } }').then((d) => setProjects(d.projects)).catch(setError); }, []);
  useEffect(() => {
    setBuildings([]); setBuilding(undefined);
    if (project) gql('query($id: String!) { project(id: $id) { buildings { id name } } }', { id: project })
      .then((d) => {
        setBuildings(d.project?.buildings ?? []);
        if (wanted.current?.projectId === project) setBuilding(wanted.current.buildingId);
      }).catch(setError);
  }, [project]);
  useEffect(() => {
    setRooms([]); setUnitId(undefined);
    if (building) gql('query($b: String!) { rooms(buildingId: $b) { number unitId } }', { b: building })
      .then((d) => {
        setRooms(d.rooms);
        if (wanted.current?.buildingId === building) { setUnitId(wanted.current.unitId); wanted.current = null; }
      }).catch(setError);
  }, [building]);
  useEffect(() => {
    setUnit(null); setOpen([]);
    if (!unitId) return;
    gql(UNIT, { id: unitId, projectId: project, buildingId: building })
      .then((d) => {
        setUnit(d.unit);
        setOpen(d.tickets.edges.map((e) => e.node).filter((n) => !FINISHED.includes(n.status)));
        const owner = d.unit?.owners?.[0];
        if (owner) {
          setReport((r) => ({ ...r, ownerId: owner.id, familyName: owner.name.slice(0, 1), givenName: owner.name.slice(1), phone: owner.phone }));
        }
      })
      .catch(setError);
  }, [unitId]);
  useEffect(() => {
    gql('query($input: SeverityInput!) { severity(input: $input) { score suggestedPriority } }', { input: factors })
      .then((d) => { setSeverity(d.severity); setReport((r) => ({ ...r, priority: d.severity.suggestedPriority })); })
      .catch(setError);
  }, [factors]);

  const set = (name) => (value) => setReport((r) => ({ ...r, [name]: value }));
  const lookUp = async () => {
    try {
      const d = await gql('query($phone: String!) { unitsByPhone(phone: $phone) { unitId projectId buildingId number owner { name phone } } }', { phone: callerPhone });
      setMatches(d.unitsByPhone);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  const choose = (m) => {
    wanted.current = m;
    if (project === m.projectId) {
      if (building === m.buildingId) { setUnitId(m.unitId); wanted.current = null; } else setBuilding(m.buildingId);
    } else setProject(m.projectId);
  };
  const sameCategory = open.filter((o) => o.category === report.category);
  const submit = async (e) => {
    e.preventDefault();
    const input = {
      kind: report.kind, channel: report.channel, priority: report.priority, category: report.category,
      trade: report.trade, description: report.description ?? '',
      reporter: { ownerId: report.ownerId, familyName: report.familyName ?? '', givenName: report.givenName ?? '', phone: report.phone ?? '' },
      location: { projectId: project, buildingId: building, unitId },
    };
    if (report.occurredAt) input.occurredAt = `${report.occurredAt}:00+08:00`;
    try {
      const d = await gql('mutation($input: ReceiveTicketInput!) { receiveTicket(input: $input) { position ticket { id status } } }', { input });
      setCreated(d.receiveTicket.ticket);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  const merge = async (into) => {
    try {
      await gql('mutation($input: MergeTicketInput!) { mergeTicket(input: $input) { position } }', { input: { ticketId: created.id, into } });
      location.hash = `#/ticket/${encodeURIComponent(into)}`;
    } catch (err) {
      setError(err);
    }
  };

  if (created) {
    return html`<section class="intake">
      <h2>${t('intake')}</h2>
      <p id="created">${t('received')}: <a href=${`#/ticket/${encodeURIComponent(created.id)}`}>${created.id}</a> · ${t('s_' + created.status)}</p>
      ${sameCategory.map((o) => html`<p><button type="button" data-merge=${o.id} onClick=${() => merge(o.id)}>${t('mergeInto')} ${o.id}</button></p>`)}
      <p><a href="#/queue">${t('back')}</a> · <button type="button" onClick=${() => { setCreated(null); setReport({ ...report, description: '' }); }}>${t('nextCall')}</button></p>
      <${ErrorBox} error=${error} />
    </section>`;
  }
  return html`<section class="intake">
    <h2>${t('intake')}</h2>
    <div class="intake-grid">
      <form class="action-form" id="intake-form" onSubmit=${submit}>
        <h4>${t('findUnit')}</h4>
        <label>${t('callerPhone')}<span class="inline">
          <input id="caller-phone" type="tel" value=${callerPhone} onInput=${(e) => setCallerPhone(e.target.value)}
            onKeyDown=${(e) => { if (e.key === 'Enter') { e.preventDefault(); lookUp(); } }} />
          <button type="button" id="caller-lookup" onClick=${lookUp}>${t('lookUp')}</button></span></label>
        ${matches ? (matches.length ? html`<ul class="matches" id="phone-matches">${matches.map((m) => html`<li>
          <button type="button" data-unit=${m.unitId} onClick=${() => choose(m)}>${m.unitId}</button> ${m.owner.name} ${m.owner.phone}</li>`)}</ul>`
          : html`<p class="empty" id="phone-matches">${t('noMatch')}</p>`) : null}
        <${Choice} id="intake-project" label=${t('project')} value=${project} options=${projects.map((p) => ({ value: p.id, label: `${p.name} (${p.id})` }))} onChange=${setProject} />
        <${Choice} id="intake-building" label=${t('building')} value=${building} options=${buildings.map((b) => ({ value: b.id, label: `${b.name} (${b.id})` }))} onChange=${setBuilding} />
        <${Choice} id="intake-room" label=${t('room')} value=${unitId} options=${rooms.map((r) => ({ value: r.unitId, label: r.number }))} onChange=${setUnitId} />
        <h4>${t('theReport')}</h4>
        <${Choice} id="intake-kind" label=${t('kind')} value=${report.kind} options=${KINDS} word="k_" onChange=${set('kind')} />
        <${Choice} id="intake-channel" label=${t('channel')} value=${report.channel} options=${CHANNELS} word="ch_" onChange=${set('channel')} />
        <${Choice} id="intake-category" label=${t('category')} value=${report.category} options=${CATEGORIES} word="c_" onChange=${set('category')} />
        <${Choice} id="intake-trade" label=${t('trade')} value=${report.trade} options=${TRADES} word="tr_" onChange=${set('trade')} />
        <label>${t('description')}<textarea id="intake-description" onInput=${(e) => set('description')(e.target.value)}>${report.description ?? ''}</textarea></label>
        <label>${t('familyName')}<input id="intake-family" value=${report.familyName ?? ''} onInput=${(e) => set('familyName')(e.target.value)} /></label>
        <label>${t('givenName')}<input id="intake-given" value=${report.givenName ?? ''} onInput=${(e) => set('givenName')(e.target.value)} /></label>
        <label>${t('phone')}<input id="intake-phone" value=${report.phone ?? ''} onInput=${(e) => set('phone')(e.target.value)} /></label>
        <h4>${t('severity')}</h4>
        ${FACTORS.map((f) => html`<label>${t('sev_' + f)}
          <select data-factor=${f} value=${factors[f]} onChange=${(e) => setFactors({ ...factors, [f]: Number(e.target.value) })}>
            ${[0, 1, 2, 3, 4].map((n) => html`<option value=${n}>${n}</option>`)}</select></label>`)}
        ${severity ? html`<p id="severity">${t('score')} ${severity.score} · ${t('suggested')} <b>${t('p_' + severity.suggestedPriority)}</b></p>` : null}
        <${Choice} id="intake-priority" label=${t('priority')} value=${report.priority} options=${['EMERGENCY', 'URGENT', 'NORMAL']} word="p_" onChange=${set('priority')} />
        <label>${t('occurredAt')}<input type="datetime-local" onInput=${(e) => set('occurredAt')(e.target.value)} /></label>
        ${sameCategory.length ? html`<div class="warning" id="duplicate-warning" role="alert">${t('openSameCategory')}:
          ${sameCategory.map((o) => html` <a href=${`#/ticket/${encodeURIComponent(o.id)}`}>${o.id}</a> (${t('s_' + o.status)})`)}</div>` : null}
        <div class="buttons"><button id="intake-submit" type="submit" disabled=${!unitId}>${t('receive')}</button></div>
        <${ErrorBox} error=${error} />
      </form>
      ${unit ? html`<aside class="unit-facts" id="unit-facts">
        <h4>${t('unit')} ${unit.id}</h4>
        <p>${t('deliveredOn')}: <b id="delivered-on">${unit.deliveredOn ?? t('notDelivered')}</b></p>
        <p>${t('owners')}: ${unit.owners.length ? unit.owners.map((o) => html`<span class="owner">${o.name} ${o.phone}</span> `) : '—'}</p>
        <p>${t('openTickets')}: ${open.length}</p>
        <table class="warranty" id="warranty"><thead><tr><th>${t('component')}</th><th>${t('period')}</th><th>${t('lastDay')}</th><th>${t('warranty')}</th></tr></thead>
          <tbody>${unit.warranty.map((w) => html`<tr class=${w.inWarranty ? 'in' : 'out'} data-item=${w.item}>
            <td>${t('w_' + w.item)}</td><td>${w.period}</td><td>${w.lastDay}</td><td>${w.inWarranty ? t('inWarranty') : t('outOfWarranty')}</td></tr>`)}</tbody></table>
      </aside>` : null}
    </div>
  </section>`;
}
