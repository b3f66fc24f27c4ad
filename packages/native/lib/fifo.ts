import { binding } from './binding';
import { assertInteger, assertPath } from './validate';

/**
 * Creates a FIFO (named pipe) at `path` with `mode` (default 0o600); an existing FIFO is accepted,
 * anything else at that path fails ERR_SHM_EXISTS. Node has no mkfifo of its own; shmlink uses
 * FIFOs as doorbells that wake a sleeping event loop directly.
 */
export function makeFifo(path: string, mode = 0o600): void {
  assertPath(path);
  assertInteger(mode, 'mode', 0, 0o777);
  binding.makeFifo(path, mode);
}

/**
 * Opens the FIFO at `path` read-write and non-blocking; returns its fd, for a net.Socket to own.
 * Not fs.openSync: in a Worker, Node closes at exit every fd opened through fs and not closed
 * through fs, and a socket's fd is closed by libuv — the second close would hit whatever file
 * another thread opened under that number since (an EBADF there, or an abort in its event loop).
 */
export function openFifo(path: string): number {
  assertPath(path);
  return binding.openFifo(path);
}
