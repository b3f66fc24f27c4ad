// Every package through require().
import native = require('@shmlink/native');
import core = require('@shmlink/core');
import rx = require('@shmlink/rx');
import layout = require('@shmlink/layout');
import segmented = require('@shmlink/segmented-file');
import rxjs = require('rxjs');
import { exercise } from './exercise.cjs';

exercise({ native, core, rx, layout, segmented, rxjs }).then(
  (done) => console.log(done.join('\n')),
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
