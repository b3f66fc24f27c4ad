import { ShmError } from '@shmlink/native';
import { checkTimeout } from '@shmlink/native/internal';

export interface SegmentedFileOptions {
  /** Map this file instead of POSIX shared memory: a persisted file that outlives every process. */
  path?: string;
  /**
   * Take a NamedMutex named after the file around every read and write (default true). Off: the
   * caller guarantees that writers never overlap (the checks still keep every read in range).
   */
  synchronize?: boolean;
  /** How long a read or write waits for the mutex (ms, default 5000; see MAIN_THREAD_LOCK_BUDGET_MS). */
  lockTimeoutMs?: number;
}

export interface SegmentedFileCreateOptions extends SegmentedFileOptions {
  /** Permission bits of the created region or file, default 0o600. */
  mode?: number;
}

export const OPEN_KEYS = ['path', 'synchronize', 'lockTimeoutMs'] as const;
export const CREATE_KEYS = [...OPEN_KEYS, 'mode'] as const;
const DEFAULT_LOCK_TIMEOUT_MS = 5000;

/** The options a handle keeps, checked and with their defaults. */
export interface Settings {
  path: string | undefined;
  synchronize: boolean;
  lockTimeoutMs: number;
}

export function settingsOf(opts: Partial<SegmentedFileCreateOptions>): Settings {
  if (opts.synchronize !== undefined && typeof opts.synchronize !== 'boolean') {
    throw new ShmError('ERR_INVALID_ARGUMENT', `synchronize=${String(opts.synchronize)} expected a boolean`);
  }
  return {
    path: opts.path,
    synchronize: opts.synchronize ?? true,
    lockTimeoutMs: opts.lockTimeoutMs === undefined ? DEFAULT_LOCK_TIMEOUT_MS : checkTimeout(opts.lockTimeoutMs, 'lockTimeoutMs'),
  };
}
