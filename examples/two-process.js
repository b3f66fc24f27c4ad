#!/usr/bin/env node
// Two processes, one region: the parent creates a named region and writes a greeting; a child
// process opens the region by name, prints what it read, and writes its answer back.
'use strict';
const { fork } = require('node:child_process');
const { Region, NamedEvent } = require('@shmlink/native');

const name = `shmlink-example-${process.pid}`;

if (process.argv[2] === 'child') {
  const region = Region.open(process.argv[3]);
  const length = region.load(0);
  console.log(`[child  ${process.pid}] read: ${region.read(8, length).toString('utf8')}`);
  const answer = Buffer.from(`hello back from pid ${process.pid}`);
  region.write(1024 + 8, answer);
  region.store(1024, answer.length);
  NamedEvent.open(process.argv[3]).set();
  region.close();
} else {
  const region = Region.create(name, 4096);
  const answered = NamedEvent.createOrOpen(name);
  const greeting = Buffer.from(`hello from pid ${process.pid}`);
  region.write(8, greeting);
  region.store(0, greeting.length);
  console.log(`[parent ${process.pid}] wrote: ${greeting.toString()}`);
  const child = fork(__filename, ['child', name]);
  answered
    .waitAsync(10000)
    .then((ok) => {
      if (!ok) throw new Error('the child did not answer within 10 s');
      console.log(`[parent ${process.pid}] read: ${region.read(1024 + 8, region.load(1024)).toString()}`);
    })
    .finally(() => {
      child.kill();
      answered.close();
      region.close();
      Region.unlink(name);
      NamedEvent.unlink(name);
    });
}
