import { ShmError } from './errors';

/** Throws ERR_INVALID_ARGUMENT unless `value` is an integer in [min, max]. */
export function assertInteger(value: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ShmError('ERR_INVALID_ARGUMENT', `${what}=${String(value)} expected an integer in ${min}..${max}`);
  }
}

/** Throws ERR_INVALID_ARGUMENT unless `value` is a non-empty string (a file system path). */
export function assertPath(value: unknown, what = 'path'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ShmError('ERR_INVALID_ARGUMENT', `${what} must be a non-empty string`);
  }
}

/** A timeout in milliseconds: a non-negative number, or Infinity / undefined for none. */
export function checkTimeout(value: unknown, what = 'timeoutMs'): number {
  if (value === undefined) return Infinity;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new ShmError('ERR_INVALID_ARGUMENT', `${what}=${String(value)} expected a number >= 0 or Infinity`);
  }
  return value;
}

export function checkOptions<T extends object>(value: unknown, what: string, allowed: readonly (keyof T & string)[]): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ShmError('ERR_INVALID_ARGUMENT', `${what} must be an object`);
  }
  for (const key of Object.keys(value)) {
    if (!(allowed as readonly string[]).includes(key)) {
      throw new ShmError('ERR_INVALID_ARGUMENT', `${what} has an unknown option '${key}' (known: ${allowed.join(', ')})`);
    }
  }
  return value as Partial<T>;
}

export function checkOneOf<T extends string>(value: unknown, what: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new ShmError('ERR_INVALID_ARGUMENT', `${what}=${JSON.stringify(value)} expected one of ${choices.join(', ')}`);
  }
  return value as T;
}
