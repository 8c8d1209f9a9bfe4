import type { AuditTables } from './schema/audit.ts';
import type { ClusterTables } from './schema/cluster.ts';
import type { CoreTables } from './schema/core.ts';
import type { LabellingTables } from './schema/labelling.ts';

/** The SQL flavour of a store; migrations and queries branch on it where the two differ. */
export type Dialect = 'sqlite' | 'postgres';

/**
 * Every table, typed once (Kysely), grouped by the part of the system that owns it; column
 * conventions are in ./schema/columns.ts.
 */
export type * from './schema/core.ts';
export type * from './schema/labelling.ts';
export type * from './schema/audit.ts';
export type * from './schema/cluster.ts';

export interface Database extends CoreTables, LabellingTables, AuditTables, ClusterTables {}
