// Incidents (重大事件): major complaints and batch defects, with their
// linked tickets and status updates; an incident's page lists each linked
// ticket's status and clocks, and offers the incident's own actions.
import { html, useState, useEffect } from './htm-preact-standalone.js';
import { gql } from './api.js';
import { t, when } from './i18n.js';
import { ErrorBox } from './ui.js';

const FIELDS = 'id projectId title level ticketIds updates description statusUpdates { at note } closingSummary openedAt closedAt';

export function Incidents({ me, id }) {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (id) return;
    gql(`{ incidents { ${FIELDS} } }`).then((d) => { setList(d.incidents); setError(null); }).catch(setError);
  }, [id]);
  if (id) return html`<${IncidentPage} me=${me} id=${id} />`;
  return html`<section>
    <h2>${t('incidents')}</h2>
    <${ErrorBox} error=${error} />
    ${list == null ? html`<p>${t('loading')}</p>` : !list.length ? html`<p class="empty">${t('noIncidents')}</p>` : html`
    <table class="queue" id="incidents">
      <thead><tr><th>${t('f_incidentId')}</th><th>${t('project')}</th><th>${t('f_title')}</th><th>${t('f_level')}</th>
        <th>${t('linkedTickets')}</th><th>${t('statusUpdates')}</th><th>${t('openedAt')}</th><th>${t('status')}</th></tr></thead>
      <tbody>${list.map((i) => html`<tr data-incident=${i.id}>
        <td><a href=${`#/incidents/${encodeURIComponent(i.id)}`}>${i.id}</a></td><td>${i.projectId}</td><td>${i.title}</td>
        <td>${t(i.level)}</td><td>${i.ticketIds.length}</td><td>${i.updates}</td><td>${when(i.openedAt)}</td>
        <td>${i.closedAt ? `${t('closed')} ${when(i.closedAt)}` : t('open')}</td></tr>`)}</tbody></table>`}
  </section>`;
}

function IncidentPage({ me, id }) {
  const [incident, setIncident] = useState(undefined); // null: no such incident
  const [tickets, setTickets] = useState([]);
  const [note, setNote] = useState('');
  const [tick, setTick] = useState(0);
  const [error, setError] = useState(null);
  useEffect(() => {
    (async () => {
      try {
        const d = await gql(`query($id: String!) { incident(id: $id) { ${FIELDS} } }`, { id });
        setIncident(d.incident);
        // Each linked ticket as the caller may see it (one request each:
        // an incident links a handful).
        const rows = await Promise.all((d.incident?.ticketIds ?? []).map((ticketId) =>
          gql('query($id: String!) { ticket(id: $id) { id status priority unitId description clocks { clock status dueAt } } }', { id: ticketId })
            .then((r) => r.ticket ?? { id: ticketId })
            .catch((e) => ({ id: ticketId, error: e }))));
        setTickets(rows);
        setError(null);
      } catch (e) {
        setError(e);
      }
    })();
  }, [id, tick]);
  const update = async (e) => {
    e.preventDefault();
    try {
      await gql('mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) { position } }', { input: { incidentId: id, note } });
      setNote('');
      setTick((n) => n + 1);
    } catch (err) {
      setError(err);
    }
  };
  if (error && !incident) return html`<${ErrorBox} error=${error} />`;
  if (incident === null) return html`<p class="empty" id="incident-missing">${t('noSuchIncident')} ${id}</p>`;
  if (!incident) return html`<p>${t('loading')}</p>`;
  const mayUpdate = ['agent', 'manager', 'admin'].includes(me.role) && !incident.closedAt;
  return html`<section class="incident" id="incident" data-incident=${incident.id}>
    <p><a href="#/incidents">← ${t('incidents')}</a></p>
    <h2>${incident.title} <span class="status">${incident.closedAt ? t('closed') : t('open')}</span></h2>
    <${ErrorBox} error=${error} />
    <dl class="facts">
      <dt>${t('f_incidentId')}</dt><dd>${incident.id}</dd>
      <dt>${t('project')}</dt><dd>${incident.projectId}</dd>
      <dt>${t('f_level')}</dt><dd>${t(incident.level)}</dd>
      <dt>${t('description')}</dt><dd>${incident.description}</dd>
      <dt>${t('openedAt')}</dt><dd>${when(incident.openedAt)}</dd>
      ${incident.closedAt ? html`<dt>${t('closed')}</dt><dd>${when(incident.closedAt)} · ${incident.closingSummary ?? ''}</dd>` : null}
    </dl>
    <h3>${t('linkedTickets')} (${incident.ticketIds.length})</h3>
    <table class="queue" id="incident-tickets"><thead><tr><th>${t('ticket')}</th><th>${t('status')}</th><th>${t('unit')}</th><th>${t('description')}</th><th>${t('clocks')}</th></tr></thead>
      <tbody>${tickets.map((x) => html`<tr data-ticket=${x.id}>
        <td><a href=${`#/ticket/${encodeURIComponent(x.id)}`}>${x.id}</a></td>
        <td>${x.status ? t('s_' + x.status) : (x.error ? x.error.code : '—')}</td><td>${x.unitId ?? ''}</td><td>${x.description ?? ''}</td>
        <td>${(x.clocks ?? []).map((c) => html`<span class=${`clock clock-${c.status.toLowerCase()}`}>${t(c.clock)} ${t(c.status)}</span>`)}</td></tr>`)}</tbody></table>
    <h3>${t('statusUpdates')}</h3>
    ${incident.statusUpdates.length ? html`<ol class="updates" id="incident-updates">${incident.statusUpdates.map((u) => html`<li><small>${when(u.at)}</small> ${u.note}</li>`)}</ol>`
      : html`<p class="empty">${t('noUpdates')}</p>`}
    ${mayUpdate ? html`<form class="action-form" id="incident-update" onSubmit=${update}>
      <label>${t('newUpdate')}<input name="note" value=${note} onInput=${(e) => setNote(e.target.value)} /></label>
      <div class="buttons"><button type="submit">${t('submit')}</button></div></form>` : null}
  </section>`;
}
