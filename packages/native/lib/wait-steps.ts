import type { Region } from './region';

/** One sleep an acquiring loop asks for: while the word at `offset` is `expected`, up to `timeoutMs`. */
export interface WaitStep {
  offset: number;
  expected: number;
  timeoutMs: number;
}

/**
 * An acquiring loop (take an event, lock a mutex) written once as a generator that yields the
 * sleeps it needs; these two drivers run it blocking (worker threads) or without blocking the
 * event loop, so the sync and async variants cannot drift apart.
 */
export function driveBlocking<R>(region: Region, steps: Generator<WaitStep, R>): R {
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done === true) return step.value;
    region.wait(step.value.offset, step.value.expected, step.value.timeoutMs);
  }
}

export async function driveAsync<R>(region: Region, steps: Generator<WaitStep, R>): Promise<R> {
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done === true) return step.value;
    await region.waitAsync(step.value.offset, step.value.expected, step.value.timeoutMs);
  }
}
