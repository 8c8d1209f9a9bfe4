import { useEffect, useMemo } from 'react';
import type uPlot from 'uplot';
import { get, P, type Agreement, type AuditEvent, type Dashboard } from '../api.ts';
import { barOptions, Chart, lineOptions } from '../charts.tsx';
import { can, type Role } from '../roles.ts';
import { href } from '../router.ts';
import { colourOf, duration, Empty, ErrorBox, kappaColour, Loading, num, pct, Section, Stat, useAsync, when } from '../ui.tsx';

/**
 * The project dashboard: progress, label distribution, agreement (per label and per annotator
 * pair), how labels were decided, the review backlog, activity, and the later steps of the loop
 * (learning curve, label economics, audit findings, drift alerts) with an empty state until
 * they have run; recent audit-log events for those who may read the log.
 */
export function DashboardView(props: { project: string; role: Role }) {
  const { project, role } = props;
  const dash = useAsync(() => get<Dashboard>(`${P(project)}/dashboard`), [project]);
  const agree = useAsync(() => get<Agreement>(`${P(project)}/agreement`), [project]);
  const staff = can(role, 'audit.read');
  const events = useAsync(() => (staff ? get<{ events: AuditEvent[] }>(`${P(project)}/audit/recent?limit=15`) : Promise.resolve({ events: [] })), [project, staff]);
  const { reload: r1 } = dash;
  const { reload: r2 } = agree;
  const { reload: r3 } = events;
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') {
        r1();
        r2();
        r3();
      }
    }, 15000);
    return () => clearInterval(t);
  }, [r1, r2, r3]);

  if (!can(role, 'results.read')) {
    return (
      <div className="card">
        <h2>{project}</h2>
        <p>
          Annotators label blind: counts and results are not shown to you. <a href={href(project, 'label')}>Start labelling</a>.
        </p>
      </div>
    );
  }
  if (dash.error) return <ErrorBox error={dash.error} />;
  if (!dash.data) return <Loading what="the dashboard" />;
  const d = dash.data;
  const s = d.status;
  const labelled = s.items - s.gold;
  return (
    <div className="dashboard" data-dashboard={project}>
      <div className="dash-head">
        <h1>{project}</h1>
        <span className="muted">
          taxonomy {d.taxonomy ? `v${d.taxonomy.version} (${d.taxonomy.kind}-label, ${d.taxonomy.labels.length} labels)` : 'not created yet'} · you are {role}
        </span>
        <button
          type="button"
          onClick={() => {
            r1();
            r2();
            r3();
          }}
          data-refresh=""
        >
          refresh
        </button>
      </div>

      <Section title="Progress" id="progress" wide>
        <div className="stats">
          <Stat name="items" label="items" value={s.items} />
          <Stat name="done" label="decided" value={s.done} />
          <Stat name="review" label="in review" value={s.review} />
          <Stat name="open" label="open" value={s.open} />
          <Stat name="annotations" label="annotations" value={s.annotations} hint={`${d.annotations.skipped} skipped · ${d.annotations.annotators} annotators`} />
          <Stat name="openReviews" label="review backlog" value={s.openReviews} />
          <Stat name="medianTime" label="median time / answer" value={duration(d.annotations.medianTimeMs)} />
          <Stat name="gold" label="gold items" value={s.gold} />
        </div>
        <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={labelled} aria-valuenow={s.done} aria-label="items decided">
          <div className="bar done" style={{ width: `${labelled ? (100 * s.done) / labelled : 0}%` }} />
          <div className="bar review" style={{ width: `${labelled ? (100 * s.review) / labelled : 0}%` }} />
        </div>
        <div className="muted small">
          {pct(labelled ? s.done / labelled : 0, 1)} decided · {pct(labelled ? s.review / labelled : 0, 1)} in review
        </div>
        <ActivityChart d={d} />
      </Section>

      <Section title="Label distribution (final labels)" id="labels">
        {d.labels.every((l) => l.count === 0) ? <Empty name="labels">No item has a final label yet.</Empty> : <LabelBars labels={d.labels} />}
      </Section>

      <Section title="Consensus status" id="consensus">
        <div className="stats">
          <Stat name="byConsensus" label="decided by consensus" value={d.decided.consensus} />
          <Stat name="byReview" label="decided in review" value={d.decided.review} />
          <Stat name="meanConfidence" label="mean consensus confidence" value={pct(d.decided.meanConfidence, 1)} />
        </div>
      </Section>

      <Section title="Review backlog" id="backlog" actions={can(role, 'review.read') ? <a href={href(project, 'review')}>open the queue →</a> : null}>
        {d.reviews.open === 0 ? (
          <Empty name="backlog">Nothing waiting for review ({d.reviews.closed} reviewed so far).</Empty>
        ) : (
          <>
            <table className="plain">
              <tbody>
                {Object.entries(d.reviews.byReason).map(([reason, n]) => (
                  <tr key={reason} data-reason={reason}>
                    <th>{reason.replace('_', ' ')}</th>
                    <td>{n}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div className="muted small">
              oldest waiting since {when(d.reviews.oldestOpenAt)} · {d.reviews.closed} reviewed so far
            </div>
          </>
        )}
      </Section>

      <Section title="Agreement" id="agreement" wide>
        {agree.error ? <ErrorBox error={agree.error} /> : !agree.data ? <Loading /> : <AgreementView a={agree.data} />}
      </Section>

      <Section title="Learning curve per round" id="learning">
        {d.learningCurve.length === 0 ? (
          <Empty name="learning">No round has run yet. Each round of the loop (select → label → fine-tune) adds a point: test accuracy by labels bought.</Empty>
        ) : (
          <LearningCurve points={d.learningCurve} />
        )}
      </Section>

      <Section title="Label economics" id="economics">
        {d.economics ? (
          <p data-economics="">
            {d.economics.summary} <span className="muted small">({when(d.economics.at)})</span>
          </p>
        ) : (
          <Empty name="economics">No loop report yet: after a few rounds this says how many labels (and how much money) self-supervised pretraining and active learning saved against random selection.</Empty>
        )}
      </Section>

      <Section title="Audit findings" id="audit">
        {d.auditFindings && d.auditFindings.byKind.length ? (
          <table className="plain" data-audit-findings="">
            <thead>
              <tr>
                <th>finding</th>
                <th>action</th>
                <th>items</th>
              </tr>
            </thead>
            <tbody>
              {d.auditFindings.byKind.map((f) => (
                <tr key={`${f.kind}/${f.action}`}>
                  <td>{f.kind.replace(/_/g, ' ')}</td>
                  <td>{f.action}</td>
                  <td>{f.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <Empty name="audit">{d.auditFindings ? `The last audit (${when(d.auditFindings.at)}, ${d.auditFindings.items} items) found nothing.` : 'No corpus audit has run yet (duplicates, corrupt or empty items, outliers, PII).'}</Empty>
        )}
      </Section>

      <Section title="Drift alerts" id="drift">
        {d.alerts.length ? (
          <ul className="alerts" data-alerts="">
            {d.alerts.map((a) => (
              <li key={a.id}>
                <b>{a.kind}</b> · {a.subject}: {a.message} <span className="muted small">{when(a.createdAt)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <Empty name="drift">No open alerts. Drift monitors compare each new import with the reference data and raise an alert here.</Empty>
        )}
      </Section>

      <Section title="Recent audit-log events" id="events" wide actions={staff ? <a href={href(project, 'admin', 'audit')}>audit log →</a> : null}>
        {!staff ? (
          <Empty name="events">The audit log is for admins and managers.</Empty>
        ) : events.error ? (
          <ErrorBox error={events.error} />
        ) : !events.data ? (
          <Loading />
        ) : events.data.events.length === 0 ? (
          <Empty name="events">No events yet.</Empty>
        ) : (
          <table className="plain events">
            <thead>
              <tr>
                <th>#</th>
                <th>when</th>
                <th>who</th>
                <th>what</th>
                <th>subject</th>
              </tr>
            </thead>
            <tbody>
              {events.data.events.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>{when(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>{e.action}</td>
                  <td>{e.subject}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}

function LabelBars(props: { labels: Dashboard['labels'] }) {
  const cats = props.labels.map((l) => l.label);
  const key = cats.join('\u0000');
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on the categories' content, not the array
  const opts = useMemo(() => barOptions(cats, { label: 'items', colour: colourOf(0) }), [key]);
  const data = useMemo<uPlot.AlignedData>(() => [cats.map((_, i) => i), props.labels.map((l) => l.count)], [props.labels, cats]);
  return (
    <>
      <Chart opts={opts} data={data} height={200} label="final labels per class" />
      <table className="plain small" data-label-counts="">
        <tbody>
          {props.labels.map((l) => (
            <tr key={l.label} data-label-count={l.label}>
              <th>{l.label}</th>
              <td>{l.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function ActivityChart(props: { d: Dashboard }) {
  const a = props.d.activity;
  const opts = useMemo(() => lineOptions([{ label: 'annotations (cumulative)', colour: colourOf(0) }, { label: 'decided (cumulative)', colour: colourOf(2) }], { time: true, yLabel: 'count' }), []);
  const data = useMemo<uPlot.AlignedData | null>(() => {
    if (!a || a.annotations.length === 0) return null;
    const toSec = (s: string) => Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s.length === 13 ? `${s}:00:00Z` : `${s}:00Z`) / 1000;
    const xs = [...new Set([...a.annotations, ...a.decided].map((r) => r.at))].sort();
    const ann = new Map(a.annotations.map((r) => [r.at, r.n]));
    const dec = new Map(a.decided.map((r) => [r.at, r.n]));
    let ca = 0;
    let cd = 0;
    const unit = a.unit === 'minute' ? 60 : a.unit === 'hour' ? 3600 : 86400;
    // From zero one bucket before the first, to the totals now: a readable line even for one bucket.
    const t = [toSec(xs[0]) - unit, ...xs.map(toSec)];
    const ys = [[0, ...xs.map((x) => (ca += ann.get(x) ?? 0))], [0, ...xs.map((x) => (cd += dec.get(x) ?? 0))]];
    const now = Date.now() / 1000;
    if (now > t[t.length - 1] + 1) {
      t.push(now);
      ys[0].push(ca);
      ys[1].push(cd);
    }
    return [t, ...ys];
  }, [a]);
  if (!data) return <Empty name="activity">No annotations yet.</Empty>;
  return <Chart opts={opts} data={data} height={180} label={`annotations and decisions over time (per ${a!.unit})`} />;
}

function LearningCurve(props: { points: Dashboard['learningCurve'] }) {
  const opts = useMemo(() => lineOptions([{ label: 'test accuracy', colour: colourOf(0) }, { label: 'macro-F1', colour: colourOf(1) }], { xLabel: 'labelled items', yLabel: 'score', yRange: [0, 1] }), []);
  const pts = [...props.points].sort((a, b) => (a.labelledItems ?? a.round) - (b.labelledItems ?? b.round));
  const data = useMemo<uPlot.AlignedData>(() => [pts.map((p) => p.labelledItems ?? p.round), pts.map((p) => p.accuracy), pts.map((p) => p.macroF1)], [pts]);
  return (
    <>
      <Chart opts={opts} data={data} height={200} label="learning curve" />
      <div className="muted small" data-learning-points={pts.length}>
        {pts.length} round(s); last: round {pts[pts.length - 1].round}, accuracy {pct(pts[pts.length - 1].accuracy, 1)}
      </div>
    </>
  );
}

function AgreementView(props: { a: Agreement }) {
  const a = props.a;
  const cats = a.perLabel.map((p) => p.label);
  const key = cats.join('\u0000');
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on the categories' content, not the array
  const opts = useMemo(() => barOptions(cats, { label: 'κ', colour: colourOf(4) }, [-1, 1]), [key]);
  const data = useMemo<uPlot.AlignedData>(() => [cats.map((_, i) => i), a.perLabel.map((p) => p.kappa)], [a, cats]);
  if (!a.overall) return <Empty name="agreement">No item has answers from two annotators yet: agreement needs overlap.</Empty>;
  const o = a.overall;
  const pw = a.pairwise;
  return (
    <div className="agreement" data-agreement="">
      <div className="stats">
        <Stat name="percent" label="percent agreement" value={pct(o.percent, 1)} />
        <Stat name="fleiss" label="Fleiss' κ" value={num(o.fleiss)} />
        <Stat name="krippendorff" label="Krippendorff's α" value={num(o.krippendorff)} />
        <Stat name="gwet" label="Gwet's AC1" value={num(o.gwet)} />
        {o.cohen !== null ? <Stat name="cohen" label="Cohen's κ" value={num(o.cohen)} /> : null}
        <Stat name="agreeItems" label="items rated by ≥ 2" value={a.items} />
      </div>
      <div className="two-cols">
        <div>
          <h3>κ per label</h3>
          <Chart opts={opts} data={data} height={180} label="kappa per label" />
        </div>
        <div>
          <h3>Annotator pairs (Cohen's κ, items rated by both)</h3>
          {pw.annotators.length < 2 ? (
            <Empty>Fewer than two annotators.</Empty>
          ) : (
            <table className="matrix" data-pair-matrix="">
              <thead>
                <tr>
                  <th />
                  {pw.annotators.map((n) => (
                    <th key={n} scope="col">
                      {n}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {pw.annotators.map((row, i) => (
                  <tr key={row}>
                    <th scope="row">{row}</th>
                    {pw.annotators.map((col, j) => {
                      const k = pw.kappa[i]?.[j] ?? null;
                      const n = pw.n[i]?.[j] ?? 0;
                      return (
                        <td key={col} style={{ background: i === j ? '#f4f4f4' : kappaColour(n ? k : null) }} title={`${row} × ${col}: κ ${num(k)} over ${n} items`}>
                          {i === j ? '' : n ? `${num(k)} (${n})` : '—'}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
    </div>
  );
}
