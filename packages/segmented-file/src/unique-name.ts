import { randomBytes } from 'node:crypto';
import { ShmError, maxNameLength } from '@shmlink/native';

// Letters and digits only: valid as a shared-memory name, a mutex/event suffix and a file name on
// every platform, and never subject to the "no leading '.' or '-'" rule.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// The largest multiple of 62 below 256: bytes at or above it are redrawn so that every character
// is equally likely (a plain `byte % 62` would favour the first 8 characters).
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length);
/**
 * 12 characters of base 62 ≈ 71 random bits: a collision between two runs is negligible, and with
 * the default prefix the name still fits macOS's limit (maxNameLength = 19 there, which already
 * leaves room for the "shmlink.mx." prefix of the mutex named after it).
 */
const UNIQUE_NAME_RANDOM_LENGTH = 12;
const PREFIX_PATTERN = /^[A-Za-z0-9]*$/;

/**
 * A random name for a per-run channel or segmented file, like the seed's Guid but short enough for
 * every platform: `prefix` followed by 12 random letters and digits. Pass it to the other process
 * (for instance on its command line) so that it opens exactly this run's object.
 */
export function uniqueName(prefix = 'sl'): string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new ShmError('ERR_INVALID_ARGUMENT', `prefix=${JSON.stringify(prefix)} may hold only letters and digits`);
  }
  const length = prefix.length + UNIQUE_NAME_RANDOM_LENGTH;
  if (length > maxNameLength) {
    throw new ShmError(
      'ERR_INVALID_ARGUMENT',
      `prefix length=${prefix.length} leaves no room for ${UNIQUE_NAME_RANDOM_LENGTH} random characters ` +
        `within maxNameLength=${maxNameLength}`,
    );
  }
  let name = prefix;
  while (name.length < length) {
    for (const byte of randomBytes(UNIQUE_NAME_RANDOM_LENGTH)) {
      if (byte < UNBIASED_LIMIT && name.length < length) name += ALPHABET[byte % ALPHABET.length];
    }
  }
  return name;
}
