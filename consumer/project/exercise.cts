// One small real use of every published package, shared by every-package.mts (ES module imports)
// and every-package.cts (require): each entry point must load, from both module systems, with the
// names its types promise, and reach the native addon.
import type * as Native from '@shmlink/native';
import type * as Core from '@shmlink/core';
import type * as Rx from '@shmlink/rx';
import type * as Layout from '@shmlink/layout';
import type * as Segmented from '@shmlink/segmented-file';
import type * as RxJS from 'rxjs';

export interface Packages {
  native: typeof Native;
  core: typeof Core;
  rx: typeof Rx;
  layout: typeof Layout;
  segmented: typeof Segmented;
  rxjs: typeof RxJS;
}

export async function exercise({ native, core, rx, layout, segmented, rxjs }: Packages): Promise<string[]> {
  const base = `consumer${process.pid}`;
  const done: string[] = [];

  const region = native.Region.create(`${base}r`, 4096);
  region.write(64, Buffer.from('native'));
  done.push(region.read(64, 6).toString());
  region.close();
  native.Region.unlink(`${base}r`);

  const a = new core.Communicator(`${base}c`, 64 * 1024, { side: 'a' });
  const b = new core.Communicator(`${base}c`, 64 * 1024, { side: 'b' });
  const received = rxjs.firstValueFrom(rx.fromCommunicator(b).pipe(rx.decodeText()));
  await a.write('core+rx');
  done.push(await received);
  a.dispose();
  b.dispose();

  const Point = layout.defineLayout({ x: 'i32', y: 'f64' });
  const point = Point.create(`${base}l`);
  point.update({ x: 7, y: 0.5 });
  done.push(`layout ${point.x} ${point.y}`);
  point.close();
  native.Region.unlink(`${base}l`);

  const file = segmented.SegmentedFile.create(segmented.uniqueName(), 4096);
  file.write(0, 'segmented-file');
  done.push(file.readText(0));
  file.close();
  segmented.SegmentedFile.unlink(file.name);

  try {
    native.Region.open(`${base}-missing`);
  } catch (err) {
    if (core.isShmError(err) && err.code === 'ERR_SHM_NOT_FOUND') done.push(err.code);
  }
  return done;
}
