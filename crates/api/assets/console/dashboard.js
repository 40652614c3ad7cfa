// The dashboard (managers, analysts): SLA compliance per clock by week
// and by project, kind and priority; what is at risk and breached
// now; satisfaction by dimension and stage; contractor scorecards; defects
// as a category × building heat map. Every figure is the API's.
import { html, useState, useEffect, useRef } from './htm-preact-standalone.js';
import uPlot from './uPlot.esm.js';
import { gql } from './api.js';
import { t } from './i18n.js';
import { ErrorBox } from './ui.js';

const CLOCKS = [['firstResponse', 'FIRST_RESPONSE', '#0b6bcb'], ['onSite', 'ON_SITE', '#b36b00'], ['resolution', 'RESOLUTION', '#1b7f3b']];
const COMPLIANCE = 'met breached cancelled complianceRate';
const BUCKET = `key firstResponse { ${COMPLIANCE} } onSite { ${COMPLIANCE} } resolution { ${COMPLIANCE} }`;

const QUERY = `query {
  byWeek: slaReport(groupBy: WEEK) { ${BUCKET} }
  byMonth: slaReport(groupBy: MONTH) { key }
  byProject: slaReport(groupBy: PROJECT) { ${BUCKET} }
  byKind: slaReport(groupBy: KIND) { ${BUCKET} }
  byPriority: slaReport(groupBy: PRIORITY) { ${BUCKET} }
  alerts: slaAlerts { ticketId projectId clock { clock status dueAt } }
  satisfaction: satisfactionReport(groupBy: STAGE) { ratings { key count overall productQuality serviceProcess staffAttitude }
    service { closedRepairs revisited revisitCoverage accepted acceptedFirstVisit firstVisitRate complaints } }
  defects: defectStats(groupBy: CATEGORY_BUILDING) { key count } }`;

/** A uPlot chart in a div of its own; redrawn when its data change. */
function Chart({ id, options, data }) {
  const el = useRef(null);
  useEffect(() => {
    if (!el.current) return undefined;
    const plot = new uPlot({ width: 560, height: 240, ...options }, data, el.current);
    el.current.dataset.points = String(data[0].length);
    return () => plot.destroy();
  }, [JSON.stringify(data)]);
  return html`<div class="chart" id=${id} ref=${el}></div>`;
}

const percent = (rate) => (rate == null ? null : Math.round(rate * 1000) / 10);

/** Monday 00:00 (Beijing) of an ISO week `2026-W07`, in Unix seconds. */
function weekStart(key) {
  const [, y, w] = /^(\d{4})-W(\d{2})$/.exec(key) ?? [];
  if (!y) return null;
  // 4 January is always in week 1; its Monday starts week 1.
  const jan4 = Date.UTC(Number(y), 0, 4);
  const monday = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * 86400000;
  return (monday + (Number(w) - 1) * 7 * 86400000) / 1000 - 8 * 3600;
}

/** Compliance per clock, one line each, by week received. */
function ComplianceOverTime({ buckets }) {
  const weeks = buckets.filter((b) => weekStart(b.key) != null).sort((a, b) => a.key.localeCompare(b.key));
  const xs = weeks.map((b) => weekStart(b.key));
  const data = [xs, ...CLOCKS.map(([field]) => weeks.map((b) => percent(b[field].complianceRate)))];
  const options = {
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Asia/Shanghai'),
    series: [{ value: (u, v) => (v == null ? '' : weeks[xs.indexOf(v)]?.key ?? '') },
      ...CLOCKS.map(([, name, stroke]) => ({ label: t(name), stroke, width: 2, points: { size: 6 },
        value: (u, v) => (v == null ? '—' : `${v}%`) }))],
    axes: [{}, { values: (u, vals) => vals.map((v) => `${v}%`) }],
    scales: { y: { range: [0, 100] } },
  };
  return html`<${Chart} id="chart-sla-week" options=${options} data=${data} />`;
}

/** Compliance per clock as bars, three per key (one per clock). */
function ComplianceBars({ id, buckets, word }) {
  const keys = buckets.filter((b) => b.key !== '');
  if (!keys.length) return html`<p class="empty" id=${id}>${t('noData')}</p>`;
  return html`<div class="bars" id=${id}>
    ${keys.map((b) => html`<div class="bar-group" data-key=${b.key}>
      <span class="bar-key">${word ? t(word + b.key.toUpperCase()) : b.key}</span>
      ${CLOCKS.map(([field, name, colour]) => {
        const c = b[field];
        const rate = percent(c.complianceRate);
        const counted = c.met + c.breached;
        return html`<span class="bar-row" title=${`${t(name)}: ${c.met} ${t('met')} / ${c.breached} ${t('breached')}`}>
          <span class="bar-track"><span class="bar" data-rate=${rate ?? ''}
            style=${{ width: `${rate ?? 0}%`, background: colour }}></span></span>
          <span class="bar-value">${rate == null ? '—' : `${rate}%`} <small>(${counted})</small></span></span>`;
      })}</div>`)}
    <p class="legend">${CLOCKS.map(([, name, colour]) => html`<span><i style=${{ background: colour }}></i>${t(name)}</span>`)}</p>
  </div>`;
}

function Rate({ value }) {
  return value == null ? '—' : `${(value * 100).toFixed(1)}%`;
}

export function Dashboard() {
  const [d, setD] = useState(null);
  const [year, setYear] = useState(null);
  const [cards, setCards] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    gql(QUERY)
      .then((r) => {
        setD(r);
        // The year of the latest month with data: a figure of the log's,
        // not of this browser's clock.
        const months = r.byMonth.map((b) => b.key).filter((k) => /^\d{4}-\d{2}$/.test(k)).sort();
        setYear(months.length ? Number(months[months.length - 1].slice(0, 4)) : null);
      })
      .catch(setError);
  }, []);
  useEffect(() => {
    if (year == null) return;
    gql('query($y: Int!) { contractorScorecards(year: $y) { contractorId rank score handled onTimeRate firstTimeFixRate reworkRate meanRating } }', { y: year })
      .then((r) => setCards(r.contractorScorecards))
      .catch(setError);
  }, [year]);
  if (error && !d) return html`<${ErrorBox} error=${error} />`;
  if (!d) return html`<p>${t('loading')}</p>`;
  // Tickets, not clocks: a ticket with two breached clocks counts once;
  // one with a breached and an at-risk clock counts as breached.
  const breached = new Set(d.alerts.filter((a) => a.clock.status === 'BREACHED').map((a) => a.ticketId));
  const atRisk = new Set(d.alerts.filter((a) => a.clock.status === 'AT_RISK' && !breached.has(a.ticketId)).map((a) => a.ticketId));
  const categories = [...new Set(d.defects.map((x) => x.key.split('/')[0]))].filter(Boolean).sort();
  const buildings = [...new Set(d.defects.map((x) => x.key.split('/')[1]))].filter(Boolean).sort();
  const count = Object.fromEntries(d.defects.map((x) => [x.key, x.count]));
  const most = Math.max(1, ...d.defects.map((x) => x.count));
  const s = d.satisfaction.service;
  return html`<section class="dashboard">
    <h2>${t('dashboard')}</h2>
    <${ErrorBox} error=${error} />
    <div class="tiles">
      <div class="tile bad" id="tile-breached"><b>${breached.size}</b>${t('breachedNow')}</div>
      <div class="tile warn" id="tile-at-risk"><b>${atRisk.size}</b>${t('atRiskNow')}</div>
      <div class="tile"><b><${Rate} value=${s.firstVisitRate} /></b>${t('firstVisitRate')}</div>
      <div class="tile"><b><${Rate} value=${s.revisitCoverage} /></b>${t('revisitCoverage')}</div>
    </div>
    <p class="note">${t('complianceNote')}</p>
    <div class="charts">
      <figure><figcaption>${t('complianceByWeek')}</figcaption><${ComplianceOverTime} buckets=${d.byWeek} /></figure>
      <figure><figcaption>${t('complianceByProject')}</figcaption><${ComplianceBars} id="chart-sla-project" buckets=${d.byProject} /></figure>
      <figure><figcaption>${t('complianceByKind')}</figcaption><${ComplianceBars} id="chart-sla-kind" buckets=${d.byKind} word="k_" /></figure>
      <figure><figcaption>${t('complianceByPriority')}</figcaption><${ComplianceBars} id="chart-sla-priority" buckets=${d.byPriority} word="p_" /></figure>
    </div>
    <h3>${t('satisfactionByStage')}</h3>
    <table id="satisfaction"><thead><tr><th>${t('stage')}</th><th>${t('ratings')}</th><th>${t('f_overall')}</th><th>${t('f_productQuality')}</th><th>${t('f_serviceProcess')}</th><th>${t('f_staffAttitude')}</th></tr></thead>
      <tbody>${d.satisfaction.ratings.map((r) => html`<tr><td>${r.key ? t('st_' + r.key) : t('any')}</td><td>${r.count}</td>
        ${['overall', 'productQuality', 'serviceProcess', 'staffAttitude'].map((f) => html`<td>${r[f] == null ? '—' : r[f].toFixed(2)}</td>`)}</tr>`)}</tbody></table>
    <h3>${t('scorecards')} ${year ?? ''}</h3>
    ${cards ? html`<table id="scorecards"><thead><tr><th>#</th><th>${t('contractor')}</th><th>${t('score')}</th><th>${t('handled')}</th><th>${t('onTimeRate')}</th><th>${t('firstTimeFixRate')}</th><th>${t('reworkRate')}</th><th>${t('meanRating')}</th></tr></thead>
      <tbody>${cards.map((c) => html`<tr><td>${c.rank}</td><td>${c.contractorId}</td><td>${c.score.toFixed(1)}</td><td>${c.handled}</td>
        <td><${Rate} value=${c.onTimeRate} /></td><td><${Rate} value=${c.firstTimeFixRate} /></td><td><${Rate} value=${c.reworkRate} /></td>
        <td>${c.meanRating == null ? '—' : c.meanRating.toFixed(2)}</td></tr>`)}</tbody></table>` : html`<p>${t('loading')}</p>`}
    <h3>${t('defectHeatMap')}</h3>
    <p class="note">${t('heatMapNote')}</p>
    ${d.defects.length ? html`<div class="heat-wrap"><table class="heat" id="defect-heat-map"><thead><tr><th>${t('category')} × ${t('building')}</th>${buildings.map((b) => html`<th>${b}</th>`)}</tr></thead>
      <tbody>${categories.map((c) => html`<tr><th>${t('c_' + c.toUpperCase())}</th>${buildings.map((b) => {
        const n = count[`${c}/${b}`] ?? 0;
        return html`<td data-count=${n} style=${{ background: n ? `rgba(198, 40, 40, ${0.08 + 0.8 * (n / most)})` : 'transparent' }}>${n || ''}</td>`;
      })}</tr>`)}</tbody></table></div>` : html`<p class="empty">${t('noData')}</p>`}
  </section>`;
}
