// Who else has opened a region: the joined word (docs/protocol.md §1), which decides whether a
// creator that goes without starting may remove the region it made.
import type { Region } from '@shmlink/native';
import { JOINED, JOINED_OFFSET, WITHDRAWN } from './ring-descriptor';

/**
 * Marks a region this process opened (and did not create) as joined. False when its creator is
 * removing it: the caller must not use it, and opens the name again.
 */
export function join(region: Region): boolean {
  // Any value but 0 and WITHDRAWN (garbage included) already says "joined": leave it.
  return region.compareExchange(JOINED_OFFSET, 0, JOINED) !== WITHDRAWN;
}

/**
 * The creator's side: true when nobody joined, and nobody can any more — whoever opens the name
 * from now on sees WITHDRAWN and opens it again — so the caller may remove the name.
 */
export function withdraw(region: Region): boolean {
  return region.compareExchange(JOINED_OFFSET, 0, WITHDRAWN) === 0;
}
