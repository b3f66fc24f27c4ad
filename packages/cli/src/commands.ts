// The inspection and cleaning commands: ls, inspect, rm, gc. Each returns its exit status and
// writes to the streams it is given, so that the program stays one testable function.
import { Communicator } from '@shmlink/core';
import { Region, ShmError } from '@shmlink/native';
import { removeDoorbells } from '@shmlink/native/internal';
import { EXIT } from './exit-codes';
import { age, bytes, halfReport, sides, table, waiting } from './format';
import { describe, listObjects, type ShmObject } from './objects';

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

function health(object: ShmObject): string {
  return object.channel?.health ?? '-';
}

export function ls(options: { json?: boolean; prefix?: string }, io: Output): number {
  const objects = listObjects(options.prefix);
  if (options.json) {
    io.out(JSON.stringify(objects, null, 2));
    return EXIT.ok;
  }
  if (objects.length === 0) {
    io.err('no shared-memory objects');
    return EXIT.ok;
  }
  const rows = objects.map((o) => [
    o.name,
    o.kind,
    bytes(o.size),
    o.channel === undefined ? '-' : String(o.channel.halves[0]?.version ?? '-'),
    o.channel === undefined ? '-' : sides(o),
    o.channel === undefined ? '-' : waiting(o.channel.halves),
    age(o.ageMs),
    health(o),
  ]);
  io.out(table(['NAME', 'KIND', 'SIZE', 'VERSION', 'SIDES (pid)', 'WAITING', 'AGE', 'HEALTH'], rows));
  return EXIT.ok;
}

/** Exit status: 0 healthy or stale, 5 (ERR_CORRUPT) corrupt, 5 (ERR_LAYOUT_MISMATCH) not a channel. */
export function inspect(name: string, options: { json?: boolean }, io: Output): number {
  const object = describe(name);
  if (object.kind !== 'channel' || object.channel === undefined) {
    if (options.json) io.out(JSON.stringify(object, null, 2));
    throw new ShmError('ERR_LAYOUT_MISMATCH', `'${name}' is not a channel: it is a ${object.kind}${object.error === undefined ? '' : ` (${object.error})`}`);
  }
  const channel = object.channel;
  if (options.json) {
    io.out(JSON.stringify(object, null, 2));
  } else {
    const verdict =
      channel.health === 'healthy'
        ? `healthy (held by pid ${channel.livePids.join(', ')})`
        : channel.health === 'stale'
          ? 'stale (no live process holds it: remove it with `shmlink rm` or `shmlink gc`)'
          : `corrupt:\n${channel.problems.map((p) => `  - ${p}`).join('\n')}`;
    io.out(
      [
        `channel ${name}  capacity ${channel.capacity}  age ${age(object.ageMs)}`,
        ...channel.halves.map(halfReport),
        `doorbells ${object.doorbells?.length ? object.doorbells.join(', ') : '-'}`,
        `health    ${verdict}`,
      ].join('\n'),
    );
  }
  return channel.health === 'corrupt' ? 5 : EXIT.ok;
}

/** Whether `object` may be removed: no live process holds it. Throws ERR_INVALID_STATE otherwise. */
function assertUnheld(object: ShmObject): void {
  const pids = object.channel?.livePids ?? [];
  if (pids.length > 0) {
    throw new ShmError('ERR_INVALID_STATE', `'${object.name}' is held by live process${pids.length > 1 ? 'es' : ''} ${pids.join(', ')}: not removed`);
  }
}

/** Removes one channel and its doorbells; never one a live process holds (ERR_INVALID_STATE, exit 4). */
export function rm(name: string, io: Output): number {
  const object = describe(name);
  if (object.kind !== 'channel') {
    throw new ShmError('ERR_INVALID_ARGUMENT', `'${name}' is a ${object.kind}, not a channel: rm removes channels only`);
  }
  assertUnheld(object);
  Communicator.unlink(name);
  io.out(`removed ${name}${object.doorbells?.length ? ` and ${object.doorbells.length} doorbell(s)` : ''}`);
  return EXIT.ok;
}

/**
 * Removes every channel no live process holds (stale, or corrupt with no live pid in its slots)
 * and every doorbell whose channel is gone. A corrupt channel that a live process still holds is
 * kept and reported, and the exit status is then 4 (ERR_INVALID_STATE).
 */
export function gc(options: { dryRun?: boolean; prefix?: string }, io: Output): number {
  let kept = 0;
  let removed = 0;
  const verb = options.dryRun ? 'would remove' : 'removed';
  for (const object of listObjects(options.prefix)) {
    if (object.kind === 'doorbell') {
      const channel = object.doorbells![0]!;
      if (!options.dryRun) {
        // Only the doorbells, and only while the channel is still missing: a channel created
        // since the listing is someone's, with its own doorbells.
        if (Region.list(channel).includes(channel)) continue;
        removeDoorbells(channel);
      }
      io.out(`${verb} ${object.name} (doorbell of the missing channel ${channel})`);
      removed++;
      continue;
    }
    const channel = object.channel;
    if (channel === undefined || channel.health === 'healthy') continue;
    if (channel.livePids.length > 0) {
      io.err(`kept ${object.name}: ${channel.health} (${channel.problems.join('; ')}) but held by live pid ${channel.livePids.join(', ')}`);
      kept++;
      continue;
    }
    if (!options.dryRun) {
      // Look again right before removing: a process may have attached since the listing.
      let again: ShmObject;
      try {
        again = describe(object.name);
      } catch {
        continue; // removed meanwhile
      }
      if ((again.channel?.livePids.length ?? 0) > 0) {
        io.err(`kept ${object.name}: a process (pid ${again.channel!.livePids.join(', ')}) attached meanwhile`);
        kept++;
        continue;
      }
      Communicator.unlink(object.name);
    }
    const why = channel.health === 'stale' ? 'stale' : `corrupt: ${channel.problems.join('; ')}`;
    io.out(`${verb} ${object.name} (${why}; ${object.doorbells?.length ?? 0} doorbell(s))`);
    removed++;
  }
  if (removed === 0 && kept === 0) io.err('nothing to collect');
  return kept > 0 ? 4 : EXIT.ok;
}
