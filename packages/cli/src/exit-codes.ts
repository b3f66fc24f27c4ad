import { ShmError, type ShmErrorCode } from '@shmlink/native';

/**
 * The command's exit status for each library error code (docs in the package README): scripts
 * can tell "not there" from "in use" from "broken" without parsing messages.
 */
export const EXIT: Readonly<Record<'ok' | 'failure' | 'usage', number>> = { ok: 0, failure: 1, usage: 2 };

const BY_CODE: Partial<Record<ShmErrorCode, number>> = {
  ERR_INVALID_ARGUMENT: 2,
  ERR_INVALID_NAME: 2,
  ERR_SHM_NOT_FOUND: 3,
  ERR_INVALID_STATE: 4,
  ERR_SHM_EXISTS: 4,
  ERR_CORRUPT: 5,
  ERR_LAYOUT_MISMATCH: 5,
  ERR_PERMISSION: 6,
  ERR_TIMEOUT: 7,
  ERR_CLOSED: 8,
  ERR_MESSAGE_TOO_LARGE: 9,
};

export function exitCodeOf(error: unknown): number {
  if (error instanceof ShmError) return BY_CODE[error.code as ShmErrorCode] ?? EXIT.failure;
  return EXIT.failure;
}

/** One line for stderr: the code first, so that it can be matched. */
export function describeError(error: unknown): string {
  if (error instanceof ShmError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
