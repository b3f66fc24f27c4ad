import { ShmError } from './errors';

/** What a header lives in: a Region, or a window onto part of one. */
export interface HeaderTarget {
  readonly name: string;
  load(offset: number): number;
}

export interface HeaderSpec {
  /** What the object is, for messages ("named event"). */
  what: string;
  magic: number;
  version: number;
  magicOffset: number;
  versionOffset: number;
  /** How long an opener waits for a creator that has not finished initialising. */
  initTimeoutMs?: number;
  /** A version value that also means "being initialised" (besides 0). */
  pending?: number;
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
export function initializeHeader(
  region: HeaderTarget & { readonly created: boolean; store(offset: number, value: number): void },
  spec: HeaderSpec,
  init: () => void,
): void {
  if (region.created) {
    init();
    region.store(spec.magicOffset, spec.magic);
    region.store(spec.versionOffset, spec.version);
    return;
  }
  awaitHeader(region, spec);
}

/** The opener's side: waits briefly while the version is 0 (or `pending`), then checks magic and version. */
export function awaitHeader(target: HeaderTarget, spec: HeaderSpec): void {
  const deadline = Date.now() + (spec.initTimeoutMs ?? 2000);
  for (;;) {
    const version = target.load(spec.versionOffset);
    if (version !== 0 && version !== spec.pending) {
      const magic = target.load(spec.magicOffset);
      if (magic !== spec.magic) {
        throw new ShmError(
          'ERR_LAYOUT_MISMATCH',
          `'${target.name}' is not a ${spec.what}: magic=0x${magic.toString(16)} expected=0x${spec.magic.toString(16)}`,
        );
      }
      if (version !== spec.version) {
        throw new ShmError(
          'ERR_LAYOUT_MISMATCH',
          `${spec.what} '${target.name}' has layout version=${version} expected=${spec.version}`,
        );
      }
      return;
    }
    if (Date.now() > deadline) {
      throw new ShmError(
        'ERR_LAYOUT_MISMATCH',
        `${spec.what} '${target.name}' was never initialised: version=${version} expected=${spec.version}`,
      );
    }
    pauseMs(1);
  }
}
