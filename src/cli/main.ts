import { Command, CommanderError } from 'commander';
import { exitState, reportError } from './context.ts';

type Register = (program: Command) => void;

/**
 * Every command module, in help order, with the top-level commands it registers. Modules load
 * only when needed: a command named on the command line loads its own module alone (so
 * `tessera serve` does not pay for tfjs, sharp and the ML stack: ~2 s of start-up here);
 * anything else (help, an unknown command) loads them all.
 */
export const COMMAND_MODULES: Array<{ commands: string[]; load: () => Promise<Register> }> = [
  { commands: ['init', 'project', 'stats'], load: async () => (await import('./commands/projects.ts')).registerProjects },
  { commands: ['import'], load: async () => (await import('./commands/import.ts')).registerImport },
  { commands: ['items'], load: async () => (await import('./commands/items.ts')).registerItems },
  { commands: ['jobs'], load: async () => (await import('./commands/jobs.ts')).registerJobs },
  { commands: ['pretrain', 'embed', 'suggest', 'probe', 'models'], load: async () => (await import('./commands/ml.ts')).registerMl },
  { commands: ['loop'], load: async () => (await import('./commands/loop.ts')).registerLoop },
  { commands: ['drift', 'monitor', 'alerts'], load: async () => (await import('./commands/drift.ts')).registerDrift },
  { commands: ['start'], load: async () => (await import('./commands/start.ts')).registerStart },
  { commands: ['users'], load: async () => (await import('./commands/users.ts')).registerUsers },
  { commands: ['taxonomy', 'label', 'export'], load: async () => (await import('./commands/label.ts')).registerLabel },
  { commands: ['audit-log'], load: async () => (await import('./commands/audit-log.ts')).registerAuditLog },
  { commands: ['serve'], load: async () => (await import('./commands/serve.ts')).registerServe },
  { commands: ['worker'], load: async () => (await import('./commands/worker.ts')).registerWorker },
  { commands: ['agreement', 'consensus'], load: async () => (await import('./commands/crowd-files.ts')).registerCrowdFiles },
  { commands: ['audit', 'audit-findings', 'residency'], load: async () => (await import('./commands/audit.ts')).registerAudit },
  { commands: ['bench'], load: async () => (await import('./commands/bench.ts')).registerBench },
  { commands: ['backup', 'restore'], load: async () => (await import('./commands/backup.ts')).registerBackup },
];

/** The program with every command, or (given the command's name) with that command's module only. */
export async function buildProgram(command?: string): Promise<Command> {
  const program = new Command('tessera')
    .description('Tessera: learn from unlabelled data first, then spend human labels where they pay')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  const own = command === undefined ? undefined : COMMAND_MODULES.find((m) => m.commands.includes(command));
  for (const m of own ? [own] : COMMAND_MODULES) (await m.load())(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs one CLI invocation; resolves to the exit code (never throws, never calls process.exit). */
export async function main(argv: string[]): Promise<number> {
  exitState.code = 0;
  const json = argv.includes('--json');
  try {
    const first = argv[2];
    await (await buildProgram(first !== undefined && !first.startsWith('-') ? first : undefined)).parseAsync(argv);
    return exitState.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are successes; usage errors were already printed by commander.
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    }
    return reportError(e, json);
  }
}
