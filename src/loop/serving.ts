import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import type { Actor } from '../label/context.ts';
import { getLabelSettings, type LabelSettings, type LabelSettingsPatch } from '../label/settings.ts';
import { updateSettings } from '../label/results.ts';

/**
 * The label settings the loop's simulated annotators need while it runs: `overlap` answers per
 * item, and only prioritised items served (else they would go on to label the whole corpus in
 * import order). Both are the project's own settings, read by every serving path, so the loop
 * sets them for its rounds and puts them back when it ends — on failure too — or a person added
 * afterwards is served nothing but what a selection strategy prioritised.
 */
const LOOP_KEYS = ['overlap', 'servePrioritisedOnly'] as const;
type LoopKey = (typeof LOOP_KEYS)[number];

export function loopSettingsPatch(overlap: number): Pick<LabelSettings, LoopKey> {
  return { overlap, servePrioritisedOnly: true };
}

/**
 * What to write back when the loop ends: each key the loop changed, back to its value before the
 * loop — unless it no longer holds the loop's value (someone changed it meanwhile: theirs stays).
 */
export function restorePatch(before: LabelSettings, applied: Pick<LabelSettings, LoopKey>, now: LabelSettings): LabelSettingsPatch {
  const patch: Record<string, unknown> = {};
  for (const k of LOOP_KEYS) if (before[k] !== applied[k] && now[k] === applied[k]) patch[k] = before[k];
  return patch as LabelSettingsPatch;
}

/**
 * Called once the loop's settings are in force, with a function that puts the previous ones back
 * (idempotent); returns what to call once they are restored the normal way. The CLI uses it to
 * restore them on Ctrl-C before exiting — a process killed mid-round would leave them in force.
 */
export type SettingsGuard = (restore: () => Promise<void>) => () => void;

/** Runs `fn` with the loop's label settings in force on `project`, restoring the previous ones afterwards (also when `fn` throws). */
export async function withLoopSettings<T>(store: Store, project: Project, actor: Actor, overlap: number, fn: () => Promise<T>, log: (line: string) => void = () => {}, guard?: SettingsGuard): Promise<T> {
  const before = await getLabelSettings(store.db, project.id);
  const applied = loopSettingsPatch(overlap);
  const changes = LOOP_KEYS.some((k) => before[k] !== applied[k]);
  if (!changes) return fn();
  await updateSettings(store, project, actor, applied);
  let restoring: Promise<void> | null = null;
  const restore = () =>
    (restoring ??= (async () => {
      // Read and written in two steps: a change landing between them is overwritten — a window of milliseconds.
      const patch = restorePatch(before, applied, await getLabelSettings(store.db, project.id));
      if (Object.keys(patch).length > 0) await updateSettings(store, project, actor, patch);
    })());
  const release = guard?.(restore);
  let failed = false;
  try {
    return await fn();
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    try {
      await restore();
    } catch (e) {
      // The loop's own error is the one to report; a failed restore is said, not swallowed.
      const msg = `could not restore the label settings of project "${project.name}" (${Object.keys(applied).join(', ')}): ${(e as Error).message}`;
      if (!failed) throw new Error(msg);
      log(msg);
    } finally {
      release?.();
    }
  }
}
