// Every package through ES module imports (named exports of CommonJS packages, found by Node's
// static analysis of their dist files).
import * as native from '@shmlink/native';
import * as core from '@shmlink/core';
import * as rx from '@shmlink/rx';
import * as layout from '@shmlink/layout';
import * as segmented from '@shmlink/segmented-file';
import * as rxjs from 'rxjs';
import { exercise } from './exercise.cjs';

console.log((await exercise({ native, core, rx, layout, segmented, rxjs })).join('\n'));
