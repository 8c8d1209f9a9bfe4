import { useState } from 'react';
import { api, get, P, type LabelSettings } from '../api.ts';
import { ErrorBox, Loading, Section, useAsync } from '../ui.tsx';

/** The consensus methods the server knows (src/label/consensus.ts), with what each does. */
const METHODS: Array<[string, string]> = [
  ['majority', 'majority vote: the most frequent answer wins'],
  ['dawid-skene', 'Dawid–Skene: weighs each annotator by their estimated confusion matrix'],
  ['one-coin', 'one-coin: weighs each annotator by one estimated accuracy'],
  ['glad', 'GLAD: annotator skill and item difficulty, estimated together'],
];

type Patch = Partial<Omit<LabelSettings, 'consensus'>> & { consensus?: Partial<LabelSettings['consensus']> };

/** The project's labelling settings (PATCH …/settings with only what changed). */
export function Settings(props: { project: string; onSaved?: () => void }) {
  const { project } = props;
  const s = useAsync(() => get<LabelSettings>(`${P(project)}/settings`), [project]);
  const [patch, setPatch] = useState<Patch>({});
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  if (!s.data) return s.error ? <ErrorBox error={s.error} /> : <Loading />;
  const v: LabelSettings = { ...s.data, ...patch, consensus: { ...s.data.consensus, ...patch.consensus } } as LabelSettings;
  const field = <K extends keyof Patch>(k: K, x: Patch[K]) => {
    setPatch((p) => ({ ...p, [k]: x }));
    setSaved(false);
  };
  const method = (k: 'method' | 'tie', x: string) => {
    setPatch((p) => ({ ...p, consensus: { ...p.consensus, [k]: x } }));
    setSaved(false);
  };
  const methods = METHODS.some(([m]) => m === v.consensus.method) ? METHODS : [...METHODS, [v.consensus.method, v.consensus.method] as [string, string]];
  return (
    <Section title="Labelling settings" id="settings">
      <div className="form-grid">
        <label>
          annotators per item (overlap) <input type="number" min={1} max={100} value={v.overlap} onChange={(e) => field('overlap', Number(e.target.value))} data-setting="overlap" />
          <span className="muted small"> · each item is answered by this many people, blind to each other</span>
        </label>
        <label>
          lease (seconds) <input type="number" min={1} value={v.leaseSeconds} onChange={(e) => field('leaseSeconds', Number(e.target.value))} data-setting="leaseSeconds" />
          <span className="muted small"> · how long a served item stays reserved for its annotator</span>
        </label>
        <label>
          consensus{' '}
          <select value={v.consensus.method} onChange={(e) => method('method', e.target.value)} data-setting="consensus.method">
            {methods.map(([m, what]) => (
              <option key={m} value={m}>
                {what}
              </option>
            ))}
          </select>
        </label>
        {v.consensus.method === 'majority' ? (
          <label>
            on a tie{' '}
            <select value={v.consensus.tie} onChange={(e) => method('tie', e.target.value)} data-setting="consensus.tie">
              <option value="unresolved">leave it unresolved (a reviewer decides)</option>
              <option value="random">pick one at random (seeded)</option>
              <option value="first">take the first answer</option>
            </select>
          </label>
        ) : null}
        <label>
          review below confidence{' '}
          <input type="number" min={0} max={1} step={0.05} value={v.reviewThreshold} onChange={(e) => field('reviewThreshold', Number(e.target.value))} data-setting="reviewThreshold" />
          <span className="muted small"> · a consensus less sure than this goes to a reviewer</span>
        </label>
        <label>
          <input type="checkbox" checked={v.reviewOnDisagreement} onChange={(e) => field('reviewOnDisagreement', e.target.checked)} data-setting="reviewOnDisagreement" /> any
          disagreement goes to review
        </label>
        <label>
          <input type="checkbox" checked={v.showSuggestions} onChange={(e) => field('showSuggestions', e.target.checked)} data-setting="showSuggestions" /> show suggestions (with
          their confidence) to annotators
        </label>
        <label>
          <input type="checkbox" checked={v.servePrioritisedOnly} onChange={(e) => field('servePrioritisedOnly', e.target.checked)} data-setting="servePrioritisedOnly" /> serve
          only prioritised items (those active learning or the map queued), not the rest in import order
        </label>
        {typeof s.data.soloLabelling === 'boolean' ? (
          <label>
            <input type="checkbox" checked={v.soloLabelling === true} onChange={(e) => field('soloLabelling', e.target.checked)} data-setting="soloLabelling" /> solo labelling:
            admins and managers may label too (they can see others’ labels, so their answers are not blind)
          </label>
        ) : null}
      </div>
      <button
        type="button"
        className="primary"
        disabled={Object.keys(patch).length === 0}
        data-action="save-settings"
        onClick={async () => {
          setError(null);
          try {
            await api('PATCH', `${P(project)}/settings`, patch);
            setPatch({});
            setSaved(true);
            s.reload();
            props.onSaved?.();
          } catch (e) {
            setError(e);
          }
        }}
      >
        save
      </button>
      {saved ? (
        <span className="muted" data-saved="">
          {' '}
          saved
        </span>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
    </Section>
  );
}
