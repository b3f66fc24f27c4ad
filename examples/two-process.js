#!/usr/bin/env node
// Two processes talking through one shared-memory region: the parent sends a few lines, a child
// process (the other side of the same Communicator) answers each, and both print what they hear.
'use strict';
const { fork } = require('node:child_process');
const { Communicator } = require('@shmlink/core');

const name = process.argv[3] ?? `shmlink-example-${process.pid}`;
const capacity = 64 * 1024;

if (process.argv[2] === 'child') {
  const comm = new Communicator(name, capacity, { side: 'b' });
  comm.on('data', (data) => {
    const text = data.toString('utf8');
    console.log(`[child  ${process.pid}] heard: ${text}`);
    comm.write(`${text.length} characters received, thank you`).then(() => {
      if (text === 'bye') comm.dispose();
    });
  });
  comm.startReader();
} else {
  const comm = new Communicator(name, capacity, { side: 'a' });
  const lines = ['hello from the parent', 'shared memory, no sockets', 'bye'];
  let answers = 0;
  comm.on('data', (data) => {
    console.log(`[parent ${process.pid}] heard: ${data.toString('utf8')}`);
    if (++answers === lines.length) comm.dispose();
  });
  comm.on('peer', (event) => console.log(`[parent ${process.pid}] peer ${event.type} (pid ${event.pid})`));
  comm.startReader();
  const child = fork(__filename, ['child', name]);
  child.on('exit', (code) => process.exit(code ?? 0));
  for (const line of lines) comm.write(line);
  setTimeout(() => {
    console.error('no answer within 10 s');
    child.kill();
    process.exit(1);
  }, 10000).unref();
}
