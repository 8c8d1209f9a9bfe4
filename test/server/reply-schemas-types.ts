// Compile time (npx tsc --noEmit -p .): the server's own types for what it replies fit the reply
// schemas (src/server/replies). With test/server/reply-schemas.test.ts, which checks real
// replies, a field renamed or retyped in the server breaks the build or the test, not the UI.
import type { Static } from '@sinclair/typebox';
import type { ImportReport as ImportReportOf } from '../../src/ingest/import.ts';
import type { Task as TaskOf } from '../../src/label/assignment.ts';
import type { projectAgreement } from '../../src/label/agreement-report.ts';
import type { VerifyReport } from '../../src/label/audit-verify.ts';
import type { FinalLabelRow, labelStatus } from '../../src/label/results.ts';
import type { ReviewEntry as ReviewEntryOf } from '../../src/label/review.ts';
import type { LabelSettings as LabelSettingsOf } from '../../src/label/settings.ts';
import type { TaxonomyChange as TaxonomyChangeOf, Touched } from '../../src/label/taxonomies.ts';
import type { Taxonomy as TaxonomyOf } from '../../src/label/taxonomy.ts';
import type { listMembers, listUsers } from '../../src/label/users.ts';
import type { ItemRow as ItemRowOf } from '../../src/store/items.ts';
import type { ItemRow, Taxonomy } from '../../src/server/replies/common.ts';
import type { Member, UserRow } from '../../src/server/replies/account.ts';
import type { ImportReport, LabelSettings, LabelStatus, Task, TaxonomyChange, TaxonomyPreview } from '../../src/server/replies/labelling.ts';
import type { Agreement, FinalLabel, ReviewEntry, VerifyResult } from '../../src/server/replies/results.ts';

/** A compiles only where A fits B. */
type Fits<A extends B, B> = A;
type Reply<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

export type Checked = [
  Fits<TaxonomyOf, Static<typeof Taxonomy>>,
  Fits<TaskOf, Static<typeof Task>>,
  Fits<TaxonomyChangeOf, Static<typeof TaxonomyChange>>,
  Fits<Touched, Static<typeof TaxonomyPreview>['items'][number]>,
  Fits<LabelSettingsOf, Static<typeof LabelSettings>>,
  Fits<Reply<typeof labelStatus>, Static<typeof LabelStatus>>,
  Fits<ImportReportOf, Static<typeof ImportReport>>,
  Fits<ItemRowOf, Static<typeof ItemRow>>,
  Fits<ReviewEntryOf, Static<typeof ReviewEntry>>,
  Fits<FinalLabelRow, Static<typeof FinalLabel>>,
  Fits<VerifyReport, Static<typeof VerifyResult>>,
  Fits<Reply<typeof listMembers>[number], Static<typeof Member>>,
  Fits<Reply<typeof listUsers>[number], Static<typeof UserRow>>,
  Fits<Reply<typeof projectAgreement>, Static<typeof Agreement>>,
];
