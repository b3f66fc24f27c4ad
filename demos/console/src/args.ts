import { parseArgs } from 'node:util';
import type { Side } from '@shmlink/core';

export interface ConsoleArgs {
  name: string;
  side: Side | undefined;
  capacity: number;
  /** Answer every incoming line (the partner's role). */
  answer: boolean;
  /** Spawn an answering partner process on the other side. */
  partner: boolean;
  /** Lines to send before reading standard input (repeatable). */
  say: string[];
  /** With piped input: how long to wait for replies after the input ends, in ms. */
  linger: number;
  help: boolean;
}

export const USAGE = `usage: shmlink-console [options]

Talks to a peer through the shared-memory region NAME. Type a line and press Enter to send it;
incoming messages print in red. Ctrl-C or end of input exits.

  --name NAME        region name (default MemoryMappedShare)
  --side a|b         which half this side writes (default: the free one)
  --capacity BYTES   region size when creating it (default 65536)
  --say TEXT         send TEXT first (repeatable); with --partner, a scripted conversation
  --partner          start an answering partner process on the other side
  --answer           answer every incoming line (what the partner does)
  --linger MS        with piped input, wait this long for replies after input ends (default 2000)
  -h, --help         this text

Colours follow NO_COLOR and are off when the output is not a terminal.`;

export class UsageError extends Error {}

export function parseConsoleArgs(argv: string[]): ConsoleArgs {
  // `pnpm demo:console -- --side a` passes the '--' through; the Electron demo accepts it too.
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        name: { type: 'string', default: 'MemoryMappedShare' },
        side: { type: 'string' },
        capacity: { type: 'string', default: '65536' },
        answer: { type: 'boolean', default: false },
        partner: { type: 'boolean', default: false },
        say: { type: 'string', multiple: true, default: [] },
        linger: { type: 'string', default: '2000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const side = values.side;
  if (side !== undefined && side !== 'a' && side !== 'b') throw new UsageError(`--side must be a or b, got ${side}`);
  const capacity = Number(values.capacity);
  if (!Number.isInteger(capacity) || capacity <= 0) throw new UsageError(`--capacity must be a positive integer, got ${values.capacity}`);
  const linger = Number(values.linger);
  if (!Number.isFinite(linger) || linger < 0) throw new UsageError(`--linger must be a number of ms >= 0, got ${values.linger}`);
  return {
    name: values.name,
    side,
    capacity,
    answer: values.answer,
    partner: values.partner,
    say: values.say,
    linger,
    help: values.help,
  };
}
