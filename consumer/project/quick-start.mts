// quick-start.mts: run `node quick-start.mjs a` in one terminal and `node quick-start.mjs b` in another
import { Communicator } from '@shmlink/core';

const side = process.argv[2] === 'b' ? 'b' : 'a';
const comm = new Communicator(process.argv[3] ?? 'MemoryMappedShare', 64 * 1024, { side }); // create or open
const reply = new Promise<Buffer>((resolve) => comm.once('data', resolve));
comm.on('peer', (event) => console.log('peer', event.type, event.pid));
comm.startReader();
await comm.write(`hello from ${side}`); // resolves once the message is in shared memory
console.log('got', (await reply).toString());
comm.dispose();
