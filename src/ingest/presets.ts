/** Column layouts of known tabular sources (files without a header row). */
export type ColumnType = 'num' | 'cat' | 'label' | 'meta' | 'id';
export interface ColumnSpec {
  name: string;
  type: ColumnType;
}

const num = (names: string) => names.split(' ').map((name): ColumnSpec => ({ name, type: 'num' }));

/**
 * NSL-KDD (Tavallaee et al. 2009, University of New Brunswick): the 41 KDD Cup 99 features, the
 * attack name (label) and the difficulty level (kept as metadata, not a feature).
 */
const NSL_KDD: ColumnSpec[] = [
  ...num('duration'),
  { name: 'protocol_type', type: 'cat' },
  { name: 'service', type: 'cat' },
  { name: 'flag', type: 'cat' },
  ...num(
    'src_bytes dst_bytes land wrong_fragment urgent hot num_failed_logins logged_in num_compromised root_shell ' +
      'su_attempted num_root num_file_creations num_shells num_access_files num_outbound_cmds is_host_login ' +
      'is_guest_login count srv_count serror_rate srv_serror_rate rerror_rate srv_rerror_rate same_srv_rate ' +
      'diff_srv_rate srv_diff_host_rate dst_host_count dst_host_srv_count dst_host_same_srv_rate ' +
      'dst_host_diff_srv_rate dst_host_same_src_port_rate dst_host_srv_diff_host_rate dst_host_serror_rate ' +
      'dst_host_srv_serror_rate dst_host_rerror_rate dst_host_srv_rerror_rate',
  ),
  { name: 'label', type: 'label' },
  { name: 'difficulty', type: 'meta' },
];

export const TABULAR_PRESETS: Record<string, { header: boolean; columns: ColumnSpec[] }> = {
  'nsl-kdd': { header: false, columns: NSL_KDD },
};

/** Parses `name:num,name:cat,…` (types num, cat, label, meta, id). */
export function parseColumnSpec(spec: string): ColumnSpec[] {
  return spec.split(',').map((part, i) => {
    const [name, type = 'num', ...rest] = part.trim().split(':');
    if (!name || rest.length > 0 || !['num', 'cat', 'label', 'meta', 'id'].includes(type)) {
      throw new Error(`--columns entry ${i + 1} "${part}": expected name:TYPE with TYPE one of num, cat, label, meta, id`);
    }
    return { name, type: type as ColumnType };
  });
}
