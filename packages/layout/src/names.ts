import { ShmError } from '@shmlink/native';

// Field and struct names become C identifiers in toCHeader(), so both languages must accept them.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

// C11 keywords, and the C++ ones a header included from C++ would trip over.
const KEYWORDS = new Set(
  (
    'auto break case char const continue default do double else enum extern float for goto if inline int long ' +
    'register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while ' +
    '_Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local ' +
    'bool catch class const_cast delete dynamic_cast explicit false friend mutable namespace new noexcept nullptr ' +
    'operator private protected public reinterpret_cast static_assert static_cast template this throw true try ' +
    'typeid typename using virtual'
  ).split(' '),
);

/**
 * Members of an attached struct that are not fields. A field of the same name would hide them (or,
 * for `then`, make the object look like a Promise to `await`), so defineLayout refuses it.
 */
export const RESERVED_FIELD_NAMES: readonly string[] = Object.freeze([
  'layout',
  'region',
  'offset',
  'dataOffset',
  'snapshot',
  'update',
  'watch',
  'changeCount',
  'close',
  'closed',
  'then',
]);

/** Throws ERR_INVALID_ARGUMENT unless `name` is usable as a C identifier. */
export function checkIdentifier(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name) || KEYWORDS.has(name)) {
    throw new ShmError(
      'ERR_INVALID_ARGUMENT',
      `${what}=${JSON.stringify(name)} expected a C identifier ([A-Za-z_][A-Za-z0-9_]*) that is not a C/C++ keyword`,
    );
  }
}

export function checkFieldName(name: string): void {
  checkIdentifier(name, 'field name');
  // Object.prototype members (constructor, toString, ...) would be shadowed on the attached object.
  if (RESERVED_FIELD_NAMES.includes(name) || name in Object.prototype) {
    throw new ShmError('ERR_INVALID_ARGUMENT', `field name '${name}' is reserved by the attached object; rename the field`);
  }
}
