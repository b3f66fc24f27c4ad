// One evaluated target, as both target sets build it.
import type { TargetRow, Verdict } from './types';

/** A target's row: N/A without a value (`missing` says why), else PASS or MISS by `ok`. */
export function targetRow(
  issue: 5 | 15, id: string, what: string, goal: string, value: number | null,
  show: (v: number) => string, ok: (v: number) => boolean, missing = 'not run',
): TargetRow {
  const verdict: Verdict = value === null ? 'N/A' : ok(value) ? 'PASS' : 'MISS';
  return { issue, id, what, goal, value, measured: value === null ? missing : show(value), verdict };
}
