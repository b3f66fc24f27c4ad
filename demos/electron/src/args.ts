import { parseArgs } from 'node:util';
import type { Side } from './api';

export interface ElectronArgs {
  name: string;
  /** undefined: the free side, as the console demo chooses it. */
  side: Side | undefined;
  capacity: number;
}

export const DEFAULTS = { name: 'MemoryMappedShare', capacity: 65536 } as const;

/**
 * Reads --name/--side/--capacity (the console demo's flags), falling back to SHMLINK_NAME,
 * SHMLINK_SIDE and SHMLINK_CAPACITY, then to the defaults. Other arguments are ignored rather than
 * refused: Electron and Chromium put their own switches on the command line too.
 */
export function parseElectronArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ElectronArgs {
  const { values } = parseArgs({
    args: argv.filter((arg) => arg !== '--'),
    options: { name: { type: 'string' }, side: { type: 'string' }, capacity: { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const pick = (flag: unknown, envName: string): string | undefined =>
    typeof flag === 'string' ? flag : env[envName] !== undefined && env[envName] !== '' ? env[envName] : undefined;

  const name = pick(values.name, 'SHMLINK_NAME') ?? DEFAULTS.name;
  const sideText = pick(values.side, 'SHMLINK_SIDE');
  if (sideText !== undefined && sideText !== 'a' && sideText !== 'b') throw new Error(`--side must be a or b, got ${sideText}`);
  const capacityText = pick(values.capacity, 'SHMLINK_CAPACITY');
  const capacity = capacityText === undefined ? DEFAULTS.capacity : Number(capacityText);
  if (!Number.isInteger(capacity) || capacity <= 0) throw new Error(`--capacity must be a positive integer, got ${capacityText}`);
  return { name, side: sideText, capacity };
}
