#!/usr/bin/env node
// `pnpm bench [-- flags]`: runs the suite, prints the tables, writes bench/results/<timestamp>.json.
import fs from 'node:fs';
import path from 'node:path';
import { isShmError } from '@shmlink/native';
import { installExitHooks } from './cleanup';
import { HELP, UsageError, parseArgs } from './options';
import { renderReport } from './report';
import { runSuite } from './suite';

async function main(): Promise<number> {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench: ${err.message}`);
    return 2;
  }
  if (options === null) {
    console.log(HELP);
    return 0;
  }
  installExitHooks();
  // A throughput sender awaits only the last write of a batch; when a failed measurement disposes
  // its communicator, the other queued writes reject ERR_CLOSED with nobody listening. Expected.
  process.on('unhandledRejection', (reason) => {
    if (isShmError(reason) && reason.code === 'ERR_CLOSED') return;
    throw reason;
  });
  const log = (line: string): void => console.error(`[bench] ${line}`);
  const result = await runSuite(options, log);
  console.log(renderReport(result.machine, result, result.targets, result.notes));
  fs.mkdirSync(options.out, { recursive: true });
  const file = path.join(options.out, `${result.startedAt.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, jsonValue, 2)}\n`);
  console.log(`\nJSON: ${file}`);
  for (const e of result.errors) console.error(`[bench] error in ${e.benchmark} ${e.detail}: ${e.message}`);
  if (result.leftovers.length > 0) console.error(`[bench] leftover shared-memory names: ${result.leftovers.join(', ')}`);
  return result.errors.length > 0 || result.leftovers.length > 0 ? 1 : 0;
}

/** BigInts (monotonic timestamps) are written as numbers of nanoseconds in a string. */
function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('[bench] failed:', err);
    process.exit(1);
  },
);
