// Reports: the monthly customer-service report and the weekly repair
// report of a project, on screen and as downloads. The CSV is the API's
// `csv` field with a byte-order mark in front (so Excel reads the Chinese
// text as UTF-8); the XLSX is the API's `xlsx` field (a workbook, base64),
// asked for only when the user downloads it. Same access rules as the API.
import { html, useState, useEffect } from './htm-preact-standalone.js';
import { gql } from './api.js';
import { t } from './i18n.js';
import { ErrorBox } from './ui.js';

const CLOCKS = ['firstResponse', 'onSite', 'resolution'];
const COMPLIANCE = 'met breached cancelled complianceRate meanMinutes p90Minutes';
const MONTHLY = `query($p: String!, $m: String!) { monthlyReport(projectId: $p, month: $m) {
  projectId month receivedByKind { name count } finished open reopened escalatedComplaints
  defectsByTrade { name count } closedRepairs revisited csv
  sla { firstResponse { ${COMPLIANCE} } onSite { ${COMPLIANCE} } resolution { ${COMPLIANCE} } }
  ratings { count overall productQuality serviceProcess staffAttitude } } }`;
const WEEKLY = `query($p: String!, $w: String!) { weeklyRepairReport(projectId: $p, week: $w) {
  projectId week from to received repaired accepted open reopened onHold breachedNow atRiskNow csv } }`;

/** The CSV as Excel opens it: UTF-8 with a byte-order mark. */
export function csvBlob(csv) {
  return new Blob(['\uFEFF', csv], { type: 'text/csv;charset=utf-8' });
}

/** A workbook from the API's base64. */
export function xlsxBlob(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** This month and ISO week in Beijing: what the forms start with. */
function today() {
  const now = new Date(Date.now() + 8 * 3600000);
  const month = now.toISOString().slice(0, 7);
  const day = (now.getUTCDay() + 6) % 7;
  const thursday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - day + 3));
  const jan1 = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.floor((thursday - jan1) / 86400000 / 7) + 1;
  return { month, week: `${thursday.getUTCFullYear()}-W${String(week).padStart(2, '0')}` };
}

const rate = (r) => (r == null ? '—' : `${(r * 100).toFixed(1)}%`);
const num = (v, digits = 2) => (v == null ? '—' : v.toFixed(digits));

function Downloads({ id, name, csv, xlsx }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const workbook = async () => {
    setBusy(true);
    try {
      save(xlsxBlob(await xlsx()), `${name}.xlsx`);
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="buttons downloads" id=${id}>
    <button type="button" data-download="csv" onClick=${() => save(csvBlob(csv), `${name}.csv`)}>${t('downloadCsv')}</button>
    <button type="button" data-download="xlsx" disabled=${busy} onClick=${workbook}>${t('downloadXlsx')}</button>
    <${ErrorBox} error=${error} />
  </div>`;
}

function Monthly({ r }) {
  const xlsx = () => gql(`query($p: String!, $m: String!) { monthlyReport(projectId: $p, month: $m) { xlsx } }`,
    { p: r.projectId, m: r.month }).then((d) => d.monthlyReport.xlsx);
  return html`<div class="report" id="monthly-report" data-project=${r.projectId} data-month=${r.month}>
    <${Downloads} id="monthly-downloads" name=${`${t('monthlyReport')}-${r.projectId}-${r.month}`} csv=${r.csv} xlsx=${xlsx} />
    <table class="figures">
      <tbody>
        ${r.receivedByKind.map((k) => html`<tr data-figure=${`received-${k.name}`}><th>${t('receivedOfKind')} · ${t('k_' + k.name.toUpperCase())}</th><td>${k.count}</td></tr>`)}
        <tr data-figure="finished"><th>${t('finishedInMonth')}</th><td>${r.finished}</td></tr>
        <tr data-figure="open"><th>${t('openAtEnd')}</th><td>${r.open}</td></tr>
        <tr data-figure="reopened"><th>${t('reopenedRepairs')}</th><td>${r.reopened}</td></tr>
        <tr data-figure="escalated"><th>${t('escalatedComplaints')}</th><td>${r.escalatedComplaints}</td></tr>
        <tr data-figure="closedRepairs"><th>${t('closedRepairs')}</th><td>${r.closedRepairs}</td></tr>
        <tr data-figure="revisited"><th>${t('revisited')}</th><td>${r.revisited}</td></tr>
      </tbody></table>
    <h4>${t('slaCompliance')}</h4>
    <p class="note">${t('complianceNote')}</p>
    <table id="monthly-sla"><thead><tr><th>${t('clock')}</th><th>${t('met')}</th><th>${t('breached')}</th><th>${t('complianceRate')}</th>
      <th>${t('meanMinutes')}</th><th>${t('p90Minutes')}</th></tr></thead>
      <tbody>${CLOCKS.map((c) => {
        const x = r.sla[c];
        return html`<tr data-clock=${c}><td>${t(c)}</td><td>${x.met}</td><td>${x.breached}</td><td>${rate(x.complianceRate)}</td>
          <td>${num(x.meanMinutes, 0)}</td><td>${x.p90Minutes ?? '—'}</td></tr>`;
      })}</tbody></table>
    <h4>${t('satisfaction')}</h4>
    <table><thead><tr><th>${t('ratings')}</th><th>${t('f_overall')}</th><th>${t('f_productQuality')}</th><th>${t('f_serviceProcess')}</th><th>${t('f_staffAttitude')}</th></tr></thead>
      <tbody><tr data-figure="ratings"><td>${r.ratings.count}</td><td>${num(r.ratings.overall)}</td><td>${num(r.ratings.productQuality)}</td>
        <td>${num(r.ratings.serviceProcess)}</td><td>${num(r.ratings.staffAttitude)}</td></tr></tbody></table>
    <h4>${t('defectsByTrade')}</h4>
    ${r.defectsByTrade.length ? html`<table><tbody>${r.defectsByTrade.map((d) => html`<tr data-trade=${d.name}><th>${t('tr_' + d.name.toUpperCase())}</th><td>${d.count}</td></tr>`)}</tbody></table>`
      : html`<p class="empty">${t('noData')}</p>`}
  </div>`;
}

function Weekly({ r }) {
  const xlsx = () => gql(`query($p: String!, $w: String!) { weeklyRepairReport(projectId: $p, week: $w) { xlsx } }`,
    { p: r.projectId, w: r.week }).then((d) => d.weeklyRepairReport.xlsx);
  const rows = ['received', 'repaired', 'accepted', 'open', 'reopened', 'onHold', 'breachedNow', 'atRiskNow'];
  return html`<div class="report" id="weekly-report" data-project=${r.projectId} data-week=${r.week}>
    <p class="meta">${r.from} — ${r.to}</p>
    <${Downloads} id="weekly-downloads" name=${`${t('weeklyReport')}-${r.projectId}-${r.week}`} csv=${r.csv} xlsx=${xlsx} />
    <table class="figures"><tbody>${rows.map((k) => html`<tr data-figure=${k}><th>${t('wk_' + k)}</th><td>${r[k]}</td></tr>`)}</tbody></table>
  </div>`;
}

export function Reports({ me }) {
  const [projects, setProjects] = useState([]);
  const [project, setProject] = useState(me.projects[0] ?? '');
  const [period, setPeriod] = useState(today());
  const [monthly, setMonthly] = useState(null);
  const [weekly, setWeekly] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    gql('{ projects { id name } }').then((d) => {
      setProjects(d.projects);
      if (!project && d.projects.length) setProject(d.projects[0].id);
    }).catch(setError);
  }, []);
  const show = async (e) => {
    e?.preventDefault();
    if (!project) return;
    try {
      const [m, w] = await Promise.all([gql(MONTHLY, { p: project, m: period.month }), gql(WEEKLY, { p: project, w: period.week })]);
      setMonthly(m.monthlyReport);
      setWeekly(w.weeklyRepairReport);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  return html`<section class="reports">
    <h2>${t('reports')}</h2>
    <form class="filters" id="report-form" onSubmit=${show}>
      <label>${t('project')}<select id="report-project" value=${project} onChange=${(e) => setProject(e.target.value)}>
        ${projects.map((p) => html`<option value=${p.id}>${p.id} ${p.name}</option>`)}</select></label>
      <label>${t('month')}<input id="report-month" type="month" value=${period.month}
        onInput=${(e) => { const month = e.target.value; setPeriod((p) => ({ ...p, month })); }} /></label>
      <label>${t('week')}<input id="report-week" type="text" pattern="\\d{4}-W\\d{2}" placeholder="2026-W07" value=${period.week}
        onInput=${(e) => { const week = e.target.value; setPeriod((p) => ({ ...p, week })); }} /></label>
      <div class="buttons"><button type="submit" id="report-show">${t('show')}</button></div>
    </form>
    <${ErrorBox} error=${error} />
    <div class="report-grid">
      <div><h3>${t('monthlyReport')} ${monthly ? `${monthly.projectId} ${monthly.month}` : ''}</h3>
        ${monthly ? html`<${Monthly} r=${monthly} />` : html`<p class="empty">${t('pickPeriod')}</p>`}</div>
      <div><h3>${t('weeklyReport')} ${weekly ? `${weekly.projectId} ${weekly.week}` : ''}</h3>
        ${weekly ? html`<${Weekly} r=${weekly} />` : html`<p class="empty">${t('pickPeriod')}</p>`}</div>
    </div>
  </section>`;
}
