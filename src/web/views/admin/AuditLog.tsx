import { useState } from 'react';
import { get, P, type AuditEvent, type VerifyResult } from '../../api.ts';
import { Section, ErrorBox, useAsync, when } from '../../ui.tsx';

/** The project's audit log, a page at a time, with a check of the hash chain. */
export function AuditLog(props: { project: string }) {
  const { project } = props;
  const [after, setAfter] = useState(0);
  const page = useAsync(() => get<{ events: AuditEvent[] }>(`${P(project)}/audit?after=${after}&limit=50`), [project, after]);
  const [verify, setVerify] = useState<VerifyResult | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<number | null>(null);
  const events = page.data?.events ?? [];
  return (
    <Section
      title="Audit log"
      id="audit-log"
      wide
      actions={
        <button
          type="button"
          data-action="verify"
          disabled={verifying}
          onClick={async () => {
            setVerifying(true);
            setError(null);
            try {
              setVerify(await get<VerifyResult>(`${P(project)}/audit/verify`));
            } catch (e) {
              setError(e);
            }
            setVerifying(false);
          }}
        >
          {verifying ? 'verifying…' : 'Verify chain'}
        </button>
      }
    >
      {verify ? (
        <div className={`verify ${verify.ok ? 'ok' : 'bad'}`} role="status" data-verify={verify.ok ? 'ok' : 'bad'}>
          {verify.ok
            ? `Chain intact: ${verify.verified} of ${verify.events} events verified; head #${verify.head?.seq} ${verify.head?.hash.slice(0, 16)}…`
            : `Chain broken at event #${verify.firstBad?.seq} (${verify.firstBad?.kind}): ${verify.firstBad?.message}`}
        </div>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
      {page.error ? <ErrorBox error={page.error} /> : null}
      <table className="plain events">
        <thead>
          <tr>
            <th>#</th>
            <th>when</th>
            <th>who</th>
            <th>what</th>
            <th>subject</th>
            <th>hash</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.seq} onClick={() => setOpen(open === e.seq ? null : e.seq)} className="clickable">
              <td>{e.seq}</td>
              <td>{when(e.at)}</td>
              <td>{e.actor}</td>
              <td>{e.action}</td>
              <td>{e.subject}</td>
              <td>
                <code>{e.hash?.slice(0, 12)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open !== null ? <pre className="payload">{JSON.stringify(events.find((e) => e.seq === open)?.payload, null, 2)}</pre> : null}
      <div className="decide">
        <button type="button" disabled={after === 0} onClick={() => setAfter(0)}>
          first page
        </button>
        <button type="button" disabled={events.length < 50} onClick={() => setAfter(events[events.length - 1].seq)}>
          next page →
        </button>
      </div>
    </Section>
  );
}
