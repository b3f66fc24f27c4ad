// The README's quick start, as a user's ES module: run it twice, `node quick-start.mjs a` and
// `node quick-start.mjs b`. The consumer test type-checks it against the installed packages and
// runs both sides on every supported Node version.
import { Communicator } from '@shmlink/core';

const side = process.argv[2] === 'b' ? 'b' : 'a';
const comm = new Communicator(process.argv[3] ?? 'MemoryMappedShare', 64 * 1024, { side });
const reply = new Promise<Buffer>((resolve) => comm.once('data', resolve));
comm.on('peer', (event) => console.log('peer', event.type, event.pid));
comm.startReader();
await comm.write(`hello from ${side}`); // resolves once the message is in shared memory
console.log('got', (await reply).toString());
comm.dispose();
