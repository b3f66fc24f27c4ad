/** Every stable error code shmlink raises. Tests and callers match on `code`, never on `message`. */
export type ShmErrorCode =
  | 'ERR_SHM_NOT_FOUND'
  | 'ERR_SHM_EXISTS'
  | 'ERR_INVALID_NAME'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_STATE'
  | 'ERR_LAYOUT_MISMATCH'
  | 'ERR_PERMISSION'
  | 'ERR_CLOSED'
  | 'ERR_TIMEOUT'
  | 'ERR_MESSAGE_TOO_LARGE'
  | 'ERR_CORRUPT'
  | 'ERR_SEGMENT_ORDER' | 'ERR_SEGMENT_NOT_FOUND' | 'ERR_CAPACITY' // @shmlink/core's SegmentedFile
  | 'ERR_NO_SPACE'
  | 'ERR_NOT_MAIN_THREAD_SAFE'
  | 'ERR_UNSUPPORTED_PLATFORM'
  | 'ERR_SYSTEM';

/** The one error class of shmlink: `code` is stable, `message` says what was expected and found. */
export class ShmError extends Error {
  readonly code: ShmErrorCode;
  /** The OS error number, when an operating-system call failed. */
  errno?: number;

  constructor(code: ShmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ShmError';
    this.code = code;
  }
}

export function isShmError(value: unknown, code?: ShmErrorCode): value is ShmError {
  return value instanceof ShmError && (code === undefined || value.code === code);
}
