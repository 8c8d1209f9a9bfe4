import { openStore } from '/work/wt-sec-audit/src/store/db.ts';
import { verifyAuditLog } from '/work/wt-sec-audit/src/label/audit-verify.ts';
const store = await openStore({ kind: 'sqlite', location: process.argv[2] });
for (const state of [false, true]) {
  const t0 = performance.now();
  const r = await verifyAuditLog(store.db, { state });
  console.log(state, (performance.now() - t0).toFixed(0), r.ok);
}
await store.close();
