import { binding } from './binding';
import { assertInteger } from './validate';

/** Whether a process with this pid exists on this machine. */
export function processAlive(pid: number): boolean {
  assertInteger(pid, 'pid', 1, 0x7fffffff);
  return binding.processAlive(pid);
}

/**
 * The start time of a process (clock ticks since boot on Linux, microseconds since 1970 on Windows),
 * or null when there is none. With the pid it identifies a process even after its pid has been
 * reused.
 */
export function processStartTime(pid: number): number | null {
  assertInteger(pid, 'pid', 1, 0x7fffffff);
  return binding.processStartTime(pid);
}
