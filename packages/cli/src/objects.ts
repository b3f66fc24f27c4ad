// What lives in the machine's shared-memory namespace, as far as shmlink can tell: channels (by
// their half header), named events and mutexes (by prefix and magic), segmented files (by magic),
// doorbells (FIFOs named after their channel), and plain regions (anything else).
import fs from 'node:fs';
import { Region, ShmError } from '@shmlink/native';
import { inspectChannel, type ChannelHeader } from '@shmlink/core';

export type Kind = 'channel' | 'region' | 'named-event' | 'named-mutex' | 'segmented-file' | 'doorbell' | 'unreadable';

export interface ShmObject {
  /** The name in the OS namespace (what `Region.list()` gives). */
  name: string;
  kind: Kind;
  /** Bytes of the object; null for doorbells and objects that could not be opened. */
  size: number | null;
  /** Milliseconds since the object was last modified (null where the platform does not say). */
  ageMs: number | null;
  /** Channels only: the decoded headers and verdict. */
  channel?: ChannelHeader;
  /** Channels: their doorbells; orphan doorbells: the channel they belong to. */
  doorbells?: string[];
  /** Why the object could not be read (kind 'unreadable'). */
  error?: string;
}

const MAGIC_EVENT = 0x56454c53; // "SLEV", docs/protocol.md "Named event"
const MAGIC_MUTEX = 0x584d4c53; // "SLMX", "Named mutex"
const MAGIC_SEGMENTED = 0x46534c53; // "SLSF", "Segmented file"

/** The file behind an object on Linux, for its age (other platforms have no such file). */
function osPath(name: string): string | null {
  return process.platform === 'linux' ? `/dev/shm/${name}` : null;
}

function ageOf(name: string): number | null {
  const file = osPath(name);
  if (file === null) return null;
  try {
    return Math.max(0, Date.now() - fs.statSync(file).mtimeMs);
  } catch {
    return null;
  }
}

/** The channel a doorbell rings for, or null when `name` is not a doorbell ('<channel>@<key>.bell'). */
export function doorbellChannel(name: string): string | null {
  const at = name.lastIndexOf('@');
  return at > 0 && name.endsWith('.bell') ? name.slice(0, at) : null;
}

/** Reads one object (read-only) and says what it is. ERR_SHM_NOT_FOUND when there is none. */
export function describe(name: string, doorbells: string[] = doorbellsOf(name)): ShmObject {
  const ageMs = ageOf(name);
  let region: Region;
  try {
    region = Region.open(name, { access: 'read' });
  } catch (err) {
    if (err instanceof ShmError && (err.code === 'ERR_SHM_NOT_FOUND' || err.code === 'ERR_INVALID_NAME')) throw err;
    return { name, kind: 'unreadable', size: null, ageMs, error: err instanceof Error ? err.message : String(err) };
  }
  try {
    const size = region.size;
    const magic = size >= 4 ? region.load(0) : 0;
    if (name.startsWith('shmlink.ev.') && magic === MAGIC_EVENT) return { name, kind: 'named-event', size, ageMs };
    if (name.startsWith('shmlink.mx.') && magic === MAGIC_MUTEX) return { name, kind: 'named-mutex', size, ageMs };
    if (magic === MAGIC_SEGMENTED) return { name, kind: 'segmented-file', size, ageMs };
    const channel = inspectChannel(region);
    if (channel !== null) return { name, kind: 'channel', size, ageMs, channel, doorbells };
    return { name, kind: 'region', size, ageMs };
  } finally {
    region.close();
  }
}

/** The doorbells of channel `name` present now. */
export function doorbellsOf(name: string): string[] {
  return Region.list(`${name}@`).filter((entry) => doorbellChannel(entry) === name);
}

/** Every object in the namespace (whose name starts with `prefix`), doorbells attached to their channels, sorted by name. */
export function listObjects(prefix = ''): ShmObject[] {
  const entries = Region.list(prefix);
  const bells = new Map<string, string[]>();
  const others: string[] = [];
  for (const entry of entries) {
    const channel = doorbellChannel(entry);
    if (channel === null) {
      others.push(entry);
      continue;
    }
    const list = bells.get(channel) ?? [];
    list.push(entry);
    bells.set(channel, list);
  }
  const objects: ShmObject[] = [];
  for (const name of others) {
    try {
      objects.push(describe(name, bells.get(name) ?? []));
    } catch {
      // Gone between the listing and the look (or a name the library does not accept): skip it.
    }
  }
  // Doorbells whose channel is gone: what a crash left behind.
  const present = new Set(others);
  for (const [channel, list] of bells) {
    if (present.has(channel)) continue;
    for (const bell of list) objects.push({ name: bell, kind: 'doorbell', size: null, ageMs: ageOf(bell), doorbells: [channel] });
  }
  return objects.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
