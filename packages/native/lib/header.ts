import { ShmError } from './errors';
import type { Region } from './region';

export interface HeaderSpec {
  /** What the object is, for messages ("named event"). */
  what: string;
  magic: number;
  version: number;
  magicOffset: number;
  versionOffset: number;
  /** How long an opener waits for a creator that has not finished initialising. */
  initTimeoutMs?: number;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps the calling thread briefly (used only while a creator finishes its header). */
export function pauseMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * The creator of an object writes its fields, then the magic, then the version last (sequentially
 * consistent stores), so "version present" means "initialised". An opener waits briefly for the
 * version and then checks both values, failing ERR_LAYOUT_MISMATCH with what it found.
 */
export function initializeHeader(region: Region, spec: HeaderSpec, init: () => void): void {
  if (region.created) {
    init();
    region.store(spec.magicOffset, spec.magic);
    region.store(spec.versionOffset, spec.version);
    return;
  }
  const deadline = Date.now() + (spec.initTimeoutMs ?? 2000);
  for (;;) {
    const version = region.load(spec.versionOffset);
    if (version !== 0) {
      const magic = region.load(spec.magicOffset);
      if (magic !== spec.magic) {
        throw new ShmError(
          'ERR_LAYOUT_MISMATCH',
          `'${region.name}' is not a ${spec.what}: magic=0x${magic.toString(16)} expected=0x${spec.magic.toString(16)}`,
        );
      }
      if (version !== spec.version) {
        throw new ShmError(
          'ERR_LAYOUT_MISMATCH',
          `${spec.what} '${region.name}' has layout version=${version} expected=${spec.version}`,
        );
      }
      return;
    }
    if (Date.now() > deadline) {
      throw new ShmError(
        'ERR_LAYOUT_MISMATCH',
        `${spec.what} '${region.name}' was never initialised: version=0 expected=${spec.version}`,
      );
    }
    pauseMs(1);
  }
}
