import { UserError } from '../core/errors.ts';

/** The errno code of a filesystem error, if it has one. */
export const fsCode = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/**
 * A symbolic link loop on PATH (ELOOP: `a -> b -> a`, or a link to itself) as a UserError that
 * names the link and says it loops; null for any other failure. Node's own message ("too many
 * symbolic links encountered, stat …") says neither.
 */
export function linkLoopError(path: string, e: unknown): UserError | null {
  if (fsCode(e) !== 'ELOOP') return null;
  return new UserError(`${path}: symbolic link loop (following its links never reaches a file or folder); remove the link or point it at real data`, 'E_SYMLINK_LOOP');
}
