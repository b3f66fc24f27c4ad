// The README's quick start from CommonJS (require): the same two sides as quick-start.mts.
import { Communicator } from '@shmlink/core';

async function main(): Promise<void> {
  const side = process.argv[2] === 'b' ? 'b' : 'a';
  const comm = new Communicator(process.argv[3] ?? 'MemoryMappedShare', 64 * 1024, { side });
  const reply = new Promise<Buffer>((resolve) => comm.once('data', resolve));
  comm.on('peer', (event) => console.log('peer', event.type, event.pid));
  comm.startReader();
  await comm.write(`hello from ${side}`);
  console.log('got', (await reply).toString());
  comm.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
