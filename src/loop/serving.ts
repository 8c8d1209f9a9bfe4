import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import type { Actor } from '../store/context.ts';
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

/** The loop's settings in force on a project, until `end` puts the previous ones back. */
export interface LoopSettings {
  /**
   * Restores the settings the loop found (idempotent). `failed`: the loop is ending on an error,
   * which stays the one reported — a failed restore is then logged, otherwise thrown.
   */
  end(failed: boolean, log: (line: string) => void): Promise<void>;
}

/** Puts the loop's label settings in force on `project` (if they are not already); end() restores the previous ones. */
export async function applyLoopSettings(store: Store, project: Project, actor: Actor, overlap: number, guard?: SettingsGuard): Promise<LoopSettings> {
  const before = await getLabelSettings(store.db, project.id);
  const applied = loopSettingsPatch(overlap);
  if (!LOOP_KEYS.some((k) => before[k] !== applied[k])) return { end: async () => {} };
  await updateSettings(store, project, actor, applied);
  let restoring: Promise<void> | null = null;
  const restore = () =>
    (restoring ??= (async () => {
      // Read and written in two steps: a change landing between them is overwritten — a window of milliseconds.
      const patch = restorePatch(before, applied, await getLabelSettings(store.db, project.id));
      if (Object.keys(patch).length > 0) await updateSettings(store, project, actor, patch);
    })());
  const release = guard?.(restore);
  return {
    async end(failed, log) {
      try {
        await restore();
      } catch (e) {
        const msg = `could not restore the label settings of project "${project.name}" (${LOOP_KEYS.join(', ')}): ${(e as Error).message}`;
        if (!failed) throw new Error(msg);
        log(msg);
      } finally {
        release?.();
      }
    },
  };
}
