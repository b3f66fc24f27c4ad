// Memory per communicator: a fresh peer process (with --expose-gc) opens one communicator as a
// warm-up, reports its memory, then opens N more; every communicator has its reader started and
// carries one message each way. The parent holds the other side of each.
import { Communicator } from '@shmlink/core';
import { releaseName, uniqueName } from './cleanup';
import type { Options } from './options';
import { Peer } from './peer';
import type { Control } from './peers/protocol';
import type { MemoryResult, MemorySnapshot } from './types';
import { guarded } from './watchdog';

export async function runMemory(o: Options): Promise<MemoryResult> {
  const peer = new Peer('memory', [], ['--expose-gc']);
  const names: string[] = [];
  const ours: Communicator[] = [];
  const round = async (count: number): Promise<MemorySnapshot> => {
    const batch = Array.from({ length: count }, () => uniqueName());
    names.push(...batch);
    peer.send({ type: 'create', names: batch, capacity: o.memoryCapacity });
    await peer.waitFor('created');
    await Promise.all(
      batch.map((name) => {
        const comm = new Communicator(name, o.memoryCapacity, { side: 'b' });
        ours.push(comm);
        return comm.write(Buffer.alloc(64, 2));
      }),
    );
    return (await peer.waitFor<Control>('measured', 60_000)).memory as MemorySnapshot;
  };
  try {
    const run = async (): Promise<MemoryResult> => {
      await peer.waitFor('ready');
      const before = await round(1);
      const after = await round(o.memoryCount);
      return evaluate(o, before, after);
    };
    return await guarded(run(), peer.failure(), 120_000);
  } finally {
    try {
      await peer.stop();
      for (const comm of ours) comm.dispose();
    } finally {
      for (const name of names) releaseName(name);
    }
  }
}

function evaluate(o: Options, before: MemorySnapshot, after: MemorySnapshot): MemoryResult {
  const n = o.memoryCount;
  const delta = (key: string): number => (after[key] ?? 0) - (before[key] ?? 0);
  return {
    count: n,
    capacity: o.memoryCapacity,
    before,
    after,
    perCommunicator: {
      rssBytes: delta('rss') / n,
      beyondCapacityBytes: (delta('rss') - n * o.memoryCapacity) / n,
      privateBytes: (delta('rssAnon') + delta('rssFile')) / n,
      shmemBytes: delta('rssShmem') / n,
    },
  };
}
