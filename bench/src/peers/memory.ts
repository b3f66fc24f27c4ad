// Memory peer (run with --expose-gc): on each 'create' it opens communicators with their readers
// started, sends one message through each and waits until the parent's message arrived in each,
// then reports its memory after a settling pause and a full GC.
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Communicator } from '@shmlink/core';
import { fail, onControl, onStop, ownName, send } from './common';

const all: Communicator[] = [];
onStop(() => {
  for (const comm of all) comm.dispose();
});

/** Kernel-side resident set by kind (Linux /proc/self/status), in bytes; zeros elsewhere. */
function residentByKind(): { rssAnon: number; rssFile: number; rssShmem: number } {
  const out = { rssAnon: 0, rssFile: 0, rssShmem: 0 };
  // Only on Linux: under wine, Windows Node would read the Linux /proc of wine's own process.
  if (process.platform !== 'linux') return out;
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    for (const [key, field] of [['RssAnon', 'rssAnon'], ['RssFile', 'rssFile'], ['RssShmem', 'rssShmem']] as const) {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
      if (m) out[field] = Number(m[1]) * 1024;
    }
  } catch {
    // not Linux: RSS alone is reported
  }
  return out;
}

async function snapshot(): Promise<Record<string, number>> {
  await sleep(300);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  await sleep(50);
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers, ...residentByKind() };
}

async function create(names: string[], capacity: number): Promise<void> {
  const received = new Set<Communicator>();
  const comms = names.map((name) => {
    ownName(name);
    const comm = new Communicator(name, capacity, { side: 'a' });
    all.push(comm);
    comm.on('error', fail);
    comm.on('data', () => received.add(comm));
    comm.startReader();
    return comm;
  });
  await Promise.all(comms.map((comm) => comm.write(Buffer.alloc(64, 1))));
  send({ type: 'created' });
  const deadline = Date.now() + 10_000;
  while (received.size < comms.length) {
    if (Date.now() > deadline) throw new Error(`only ${received.size} of ${comms.length} communicators received a message`);
    await sleep(5);
  }
  send({ type: 'measured', memory: await snapshot() });
}

onControl('create', (msg) => {
  create(msg.names as string[], msg.capacity as number).catch(fail);
});
send({ type: 'ready' });
