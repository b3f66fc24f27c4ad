/**
 * The stable error codes of @shmlink/native and of the channel's packages above it (core, rx,
 * layout). Tests and callers match on `code`, never on `message`. A package with codes of its own
 * declares them in a subclass of ShmError (as @shmlink/segmented-file's SegmentedFileError does):
 * this list never names them.
 */
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
  | 'ERR_NO_SPACE'
  | 'ERR_NOT_MAIN_THREAD_SAFE'
  | 'ERR_UNSUPPORTED_PLATFORM'
  | 'ERR_SYSTEM'
  /** @shmlink/core's byte streams: the peer died or left before it ended its stream. */
  | 'ERR_PEER_GONE';

/**
 * The one error class of shmlink: `code` is stable, `message` says what was expected and found.
 * `C` is the code list of the package that raises it: ShmErrorCode unless a subclass widens it.
 */
export class ShmError<C extends string = ShmErrorCode> extends Error {
  readonly code: C;
  /** The OS error number, when an operating-system call failed. */
  errno?: number;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ShmError';
    this.code = code;
  }
}

/**
 * Whether `value` is a ShmError (with this `code`, if given). The code is checked against the
 * list `C` (ShmErrorCode by default; `isShmError<SegmentedFileErrorCode>(err, 'ERR_CAPACITY')` for
 * another package's codes), never inferred from the argument, so a misspelt code does not compile.
 */
export function isShmError<C extends string = ShmErrorCode>(value: unknown, code?: NoInfer<C>): value is ShmError<C> {
  return value instanceof ShmError && (code === undefined || value.code === code);
}
