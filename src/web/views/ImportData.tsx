import { useRef, useState } from 'react';
import { uploadImport, type ImportOutcome } from '../api.ts';
import { ErrorBox, Section } from '../ui.tsx';

type Format = 'csv' | 'jsonl' | 'sms';

const FORMATS: Array<[Format, string]> = [
  ['csv', 'CSV with a header row'],
  ['jsonl', 'JSON Lines (one object per line)'],
  ['sms', 'TSV: label⇥text per line'],
];

/** The format a file's name suggests (the person can change it). */
export function formatOfName(name: string): Format {
  const n = name.toLowerCase().replace(/\.gz$/, '');
  if (n.endsWith('.csv')) return 'csv';
  if (n.endsWith('.jsonl') || n.endsWith('.ndjson') || n.endsWith('.json')) return 'jsonl';
  return 'sms';
}

/** How many rejected records the report lists on screen (the server reports up to 1,000). */
const SHOWN_ERRORS = 50;

/**
 * Import data: a text file (CSV, JSON Lines, or TSV `label⇥text`) uploaded to the server, which
 * imports it as one transaction: every record or none, unless "skip invalid rows" is ticked. The
 * report (new, unchanged, rejected, and where each rejected record is and why) is shown as is.
 */
export function ImportData(props: { project: string; onImported: () => void }) {
  const { project } = props;
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState<Format>('csv');
  const [textColumn, setTextColumn] = useState('');
  const [idColumn, setIdColumn] = useState('');
  const [labelColumn, setLabelColumn] = useState('');
  const [skipInvalid, setSkipInvalid] = useState(false);
  const [redactPii, setRedactPii] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ImportOutcome | null>(null);
  const [error, setError] = useState<unknown>(null);
  const input = useRef<HTMLInputElement>(null);

  const run = async (skip: boolean) => {
    if (!file) return;
    setBusy(true);
    setError(null);
    setOutcome(null);
    const q: Record<string, string> = { name: file.name, format };
    if (skip) q.skipInvalid = 'true';
    if (redactPii) q.redactPii = 'true';
    if (format !== 'sms') {
      if (textColumn.trim()) q.textColumn = textColumn.trim();
      if (idColumn.trim()) q.idColumn = idColumn.trim();
      if (labelColumn.trim()) q.labelColumn = labelColumn.trim();
    }
    try {
      const o = await uploadImport(project, file, q);
      setOutcome(o);
      if (o.status === 'succeeded') props.onImported();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Import data" id="import">
      <p className="muted small">
        One item per record. CSV needs a header row naming the text column; JSON Lines needs a text field; TSV lines are <code>label⇥text</code> (a label from the source is kept
        apart, never shown to annotators as an answer). Importing the same file again adds nothing twice. Larger files (over 256 MiB) or images and audio: <code>tessera import</code> on
        the server.
      </p>
      <form
        className="import-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run(skipInvalid);
        }}
      >
        <label className="file-pick">
          file{' '}
          <input
            ref={input}
            type="file"
            accept=".csv,.tsv,.txt,.jsonl,.ndjson,.json,.gz,text/*"
            data-import-file=""
            onChange={(e) => {
              const f = e.target.files?.[0] ?? null;
              setFile(f);
              setOutcome(null);
              setError(null);
              if (f) setFormat(formatOfName(f.name));
            }}
          />
        </label>
        {file ? (
          <span className="muted small" data-file-size={file.size}>
            {file.name} · {(file.size / 1024).toFixed(1)} KiB
          </span>
        ) : null}
        <label>
          format{' '}
          <select value={format} onChange={(e) => setFormat(e.target.value as Format)} aria-label="format" data-import-format="">
            {FORMATS.map(([k, name]) => (
              <option key={k} value={k}>
                {name}
              </option>
            ))}
          </select>
        </label>
        {format !== 'sms' ? (
          <div className="form-row columns">
            <label>
              text column <input value={textColumn} onChange={(e) => setTextColumn(e.target.value)} placeholder="text" aria-label="text column" />
            </label>
            <label>
              id column <input value={idColumn} onChange={(e) => setIdColumn(e.target.value)} placeholder="(none: file and line)" aria-label="id column" />
            </label>
            <label>
              label column <input value={labelColumn} onChange={(e) => setLabelColumn(e.target.value)} placeholder="label, if present" aria-label="label column" />
            </label>
          </div>
        ) : null}
        <label>
          <input type="checkbox" checked={skipInvalid} onChange={(e) => setSkipInvalid(e.target.checked)} data-skip-invalid="" /> skip invalid rows (import the valid ones and
          report the rest; otherwise one bad row imports nothing)
        </label>
        <label>
          <input type="checkbox" checked={redactPii} onChange={(e) => setRedactPii(e.target.checked)} /> redact personal data (e-mails, phone and card numbers, …) before anything is
          stored
        </label>
        <div className="decide">
          <button type="submit" className="primary" disabled={!file || busy} data-action="import">
            {busy ? 'Importing…' : 'Import'}
          </button>
        </div>
      </form>
      {error ? <ErrorBox error={error} /> : null}
      {outcome ? <ImportResult outcome={outcome} skipInvalid={skipInvalid} onSkipInvalid={() => {
            setSkipInvalid(true);
            void run(true);
          }} busy={busy} /> : null}
    </Section>
  );
}

function ImportResult(props: { outcome: ImportOutcome; skipInvalid: boolean; onSkipInvalid: () => void; busy: boolean }) {
  const o = props.outcome;
  const r = o.report;
  const ok = o.status === 'succeeded';
  return (
    <div className={`import-report ${ok ? 'ok' : 'bad'}`} role="status" data-import-status={o.status}>
      {ok && r ? (
        <p>
          <b data-imported={r.imported}>{r.imported}</b> new item(s) imported from {o.file}; {r.unchanged} unchanged (imported before)
          {r.rejected ? `; ${r.rejected} rejected row(s) skipped` : ''}
          {r.redacted !== undefined ? `; ${r.redacted} with personal data redacted` : ''}.
        </p>
      ) : null}
      {!ok && o.valid !== null && r ? (
        <>
          <p>
            Nothing imported: <b>{r.rejected}</b> row(s) of {o.file} were rejected.{' '}
            {o.valid > 0 ? (
              <span data-valid={o.valid}>
                {o.valid} valid row(s) would be imported
                {r.wouldImport && r.wouldImport.unchanged > 0 ? ` (${r.wouldImport.new} new, ${r.wouldImport.unchanged} imported before)` : ''}; use <i>skip invalid rows</i> to import them
                and leave the rejected ones out.
              </span>
            ) : (
              <span data-valid="0">No row was valid: fix the file (the reasons are below).</span>
            )}
          </p>
          {!props.skipInvalid && o.valid > 0 ? (
            <button type="button" onClick={props.onSkipInvalid} disabled={props.busy} data-action="import-valid">
              Import the {o.valid} valid row(s), skip the rejected
            </button>
          ) : null}
        </>
      ) : null}
      {!ok && o.valid === null ? <p data-import-failure="">Nothing imported: {o.failure ?? o.error?.message}</p> : null}
      {r && r.errors.length ? (
        <table className="plain small import-errors" data-import-errors={r.errors.length}>
          <thead>
            <tr>
              <th>where</th>
              <th>why it was rejected</th>
            </tr>
          </thead>
          <tbody>
            {r.errors.slice(0, SHOWN_ERRORS).map((e, i) => (
              <tr key={i}>
                <td>
                  <code>{e.where}</code>
                </td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {r && r.rejected > Math.min(r.errors.length, SHOWN_ERRORS) ? <p className="muted small">… and {r.rejected - Math.min(r.errors.length, SHOWN_ERRORS)} more rejected row(s).</p> : null}
    </div>
  );
}
