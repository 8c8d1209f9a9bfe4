import { Command, CommanderError } from 'commander';
import { exitState, reportError } from './context.ts';
import { registerImport } from './commands/import.ts';
import { registerItems } from './commands/items.ts';
import { registerDrift } from './commands/drift.ts';
import { registerJobs } from './commands/jobs.ts';
import { registerLoop } from './commands/loop.ts';
import { registerMl } from './commands/ml.ts';
import { registerProjects } from './commands/projects.ts';
import { registerStart } from './commands/start.ts';
import { registerUsers } from './commands/users.ts';
import { registerLabel } from './commands/label.ts';
import { registerAuditLog } from './commands/audit-log.ts';
import { registerServe } from './commands/serve.ts';
import { registerWorker } from './commands/worker.ts';
import { registerCrowdFiles } from './commands/crowd-files.ts';
import { registerAudit } from './commands/audit.ts';
import { registerBench } from './commands/bench.ts';

export function buildProgram(): Command {
  const program = new Command('tessera')
    .description('Tessera: learn from unlabelled data first, then spend human labels where they pay')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerProjects(program);
  registerImport(program);
  registerItems(program);
  registerJobs(program);
  registerMl(program);
  registerLoop(program);
  registerDrift(program);
  registerStart(program);
  registerUsers(program);
  registerLabel(program);
  registerAuditLog(program);
  registerServe(program);
  registerWorker(program);
  registerCrowdFiles(program);
  registerAudit(program);
  registerBench(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs one CLI invocation; resolves to the exit code (never throws, never calls process.exit). */
export async function main(argv: string[]): Promise<number> {
  exitState.code = 0;
  const json = argv.includes('--json');
  try {
    await buildProgram().parseAsync(argv);
    return exitState.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are successes; usage errors were already printed by commander.
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    }
    return reportError(e, json);
  }
}
