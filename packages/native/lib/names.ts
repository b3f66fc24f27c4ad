import { ShmError } from './errors';

// macOS allows 31 bytes including the leading slash; Linux allows NAME_MAX (255). The longest
// derived object (a mutex: "shmlink.mx." + name) must fit too. Windows kernel-object names are
// limited to MAX_PATH (260); the longest it derives, a wait semaphore
// "Local\shmlink.w.251.m.15.shmlink.mx." + name, takes 36 + 200.
const MAX_NAME = process.platform === 'darwin' ? 19 : 200;
const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Checks a user-facing name and returns the OS object name for it ("/" + name on POSIX). */
export function toOsName(name: unknown, prefix = ''): string {
  if (typeof name !== 'string') {
    throw new ShmError('ERR_INVALID_NAME', `name must be a string, got ${typeof name}`);
  }
  if (name.length === 0 || name.length > MAX_NAME) {
    throw new ShmError('ERR_INVALID_NAME', `name length=${name.length} expected 1..${MAX_NAME}`);
  }
  if (!NAME_PATTERN.test(name) || name.includes('..')) {
    throw new ShmError(
      'ERR_INVALID_NAME',
      `name ${JSON.stringify(name)} may hold only letters, digits, '_', '-' and '.', must not start ` +
        `with '.' or '-' and must not contain '..' or a slash`,
    );
  }
  return `/${prefix}${name}`;
}

export function assertValidName(name: unknown): asserts name is string {
  toOsName(name);
}

/** The longest name accepted on this platform. */
export const maxNameLength = MAX_NAME;
