import { binding } from './binding';
import { ShmError } from './errors';
import { assertInteger } from './validate';

/**
 * Creates a FIFO (named pipe) at `path` with `mode` (default 0o600); an existing FIFO is accepted,
 * anything else at that path fails ERR_SHM_EXISTS. Node has no mkfifo of its own; shmlink uses
 * FIFOs as doorbells that wake a sleeping event loop directly.
 */
export function makeFifo(path: string, mode = 0o600): void {
  if (typeof path !== 'string' || path.length === 0) {
    throw new ShmError('ERR_INVALID_ARGUMENT', 'path must be a non-empty string');
  }
  assertInteger(mode, 'mode', 0, 0o777);
  binding.makeFifo(path, mode);
}
