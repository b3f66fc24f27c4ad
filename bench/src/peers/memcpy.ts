// The ceiling of a copying receive: Buffer.copy of one message size in a loop on one core, for a
// number of seconds, in a fresh process like the sinks. Source and destination are 32 MiB each
// (64 MiB together, twice the development VM's 32 MiB L3; a receive reads a ring of 8 MiB or more
// into fresh buffers) and each copy moves on by `size` bytes, so that this is a streaming memcpy,
// not a copy of one buffer that stays in the cache.
//   memcpy.js <size> <seconds>
import { arg, fail, send } from './common';

const SPAN = 32 * 1024 * 1024;

function run(size: number, seconds: number): void {
  const span = Math.max(SPAN, 2 * size);
  const source = Buffer.alloc(span, 0x5a);
  const target = Buffer.alloc(span, 0); // alloc touches every page: no page fault is timed
  const slots = Math.floor(span / size);
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let copies = 0;
  let now = start;
  // Look at the clock every `check` copies (about 1 MiB), not after each 64-byte copy.
  const check = Math.max(1, Math.floor((1024 * 1024) / size));
  while (now < deadline) {
    for (let i = 0; i < check; i++) {
      const at = ((copies + i) % slots) * size;
      source.copy(target, at, at, at + size);
    }
    copies += check;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - start) / 1e9;
  send({ type: 'done', copies, bytes: copies * size, seconds: elapsed });
}

try {
  const size = Number(arg(0));
  const seconds = Number(arg(1));
  if (!(size > 0) || !(seconds > 0)) throw new Error(`memcpy: bad arguments ${process.argv.slice(2).join(' ')}`);
  send({ type: 'ready' });
  run(size, seconds);
} catch (err) {
  fail(err);
}
