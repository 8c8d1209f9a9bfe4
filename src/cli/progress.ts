import cliProgress from 'cli-progress';
import type { Out } from './context.ts';

/** A progress bar on stderr for interactive use; silent with --json or when not on a TTY. */
export function progressBar(out: Out) {
  if (!out.interactive) return { update: (_f: number | null, _m?: string) => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: '{bar} {percentage}% | ETA {eta_formatted} | {msg}', stream: process.stderr, hideCursor: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1000, 0, { msg: '' });
  return {
    update(fraction: number | null, msg?: string) {
      // Unknown totals (streamed sources) show the running message with the bar at rest.
      bar.update(fraction === null ? 0 : Math.round(fraction * 1000), { msg: msg ?? '' });
    },
    stop: () => bar.stop(),
  };
}
