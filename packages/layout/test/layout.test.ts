// Declarations: packing, offsets, sizes, fingerprints, the C header text, and refused declarations.
import { HEADER_SIZE, RESERVED_FIELD_NAMES, bytes, defineLayout, utf8, type Fields } from '@shmlink/layout';
import { Controller, codeOf } from './helpers';

// "The seed": seed 002, the C# article the layout package follows (docs/seeds.md).
describe('packing', () => {
  it('lays out the seed struct with 1-byte alignment in declaration order', () => {
    expect(Controller.size).toBe(8 + 8 + 5 * 4 + 1024);
    expect(Controller.fields.map((f) => [f.name, f.offset, f.size])).toEqual([
      ['timestamp', 0, 8],
      ['totalDuration', 8, 8],
      ['paused', 16, 4],
      ['muted', 20, 4],
      ['heartbeat', 24, 4],
      ['controlFlags', 28, 4],
      ['dataLength', 32, 4],
      ['messageBuffer', 36, 1024],
    ]);
    expect(Controller.offsetOf('messageBuffer')).toBe(36);
    expect(HEADER_SIZE).toBe(8);
    expect(Controller.sharedSize).toBe(HEADER_SIZE + 1060);
  });

  it('never pads, whatever the order and sizes', () => {
    const layout = defineLayout({
      a: 'u8',
      b: 'i64',
      c: 'i16',
      d: 'f32',
      e: 'u32',
      f: utf8(3),
      g: 'i8',
      h: 'u16',
      i: 'f64',
      j: 'u64',
      k: 'i32',
      l: bytes(5),
    });
    expect(layout.fields.map((f) => f.offset)).toEqual([0, 1, 9, 11, 15, 19, 22, 23, 25, 33, 41, 45]);
    expect(layout.size).toBe(50);
    // The shared block rounds up to 4, like the C sizeof of <Name>_shared.
    expect(layout.sharedSize).toBe(HEADER_SIZE + 52);
  });

  it('gives equal declarations one fingerprint and different ones another', () => {
    const base = { x: 'i32', y: 'f64', z: bytes(4) } as const;
    const fp = defineLayout(base).fingerprint;
    expect(defineLayout({ ...base }).fingerprint).toBe(fp);
    expect(defineLayout({ y: 'f64', x: 'i32', z: bytes(4) }).fingerprint).not.toBe(fp);
    expect(defineLayout({ x: 'u32', y: 'f64', z: bytes(4) }).fingerprint).not.toBe(fp);
    expect(defineLayout({ x: 'i32', y: 'f64', z: bytes(5) }).fingerprint).not.toBe(fp);
    expect(defineLayout({ x: 'i32', y: 'f64', w: bytes(4) }).fingerprint).not.toBe(fp);
    expect(fp).not.toBe(0);
  });
});

describe('refused declarations', () => {
  const bad = (fields: unknown) => codeOf(() => defineLayout(fields as Fields));

  it('refuses empty layouts and unknown types', () => {
    expect(bad({})).toBe('ERR_INVALID_ARGUMENT');
    expect(bad(null)).toBe('ERR_INVALID_ARGUMENT');
    expect(bad(['i32'])).toBe('ERR_INVALID_ARGUMENT');
    expect(bad({ a: 'i128' })).toBe('ERR_INVALID_ARGUMENT');
    expect(bad({ a: 'int' })).toBe('ERR_INVALID_ARGUMENT');
    expect(bad({ a: { kind: 'bytes', length: 0 } })).toBe('ERR_INVALID_ARGUMENT');
    expect(bad({ a: { kind: 'string', length: 4 } })).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => bytes(0))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => bytes(1.5))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => utf8(-1))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('refuses names that are not C identifiers, C/C++ keywords, or members of the attached object', () => {
    for (const name of ['1a', 'a-b', 'é', '', 'int', 'struct', 'class', 'toString', 'constructor', ...RESERVED_FIELD_NAMES]) {
      expect([name, bad({ [name]: 'i32' })]).toEqual([name, 'ERR_INVALID_ARGUMENT']);
    }
  });

  it('refuses unknown fields and bad struct names', () => {
    expect(codeOf(() => Controller.offsetOf('nope' as 'paused'))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => Controller.toCHeader('1st'))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => Controller.toCHeader('struct'))).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('toCHeader', () => {
  const header = Controller.toCHeader('ControllerData');

  it('declares the packed struct with <stdint.h> types', () => {
    expect(header).toContain('#include <stdint.h>');
    expect(header).toContain('#pragma pack(push, 1)');
    expect(header).toContain('#pragma pack(pop)');
    expect(header).toMatch(/typedef struct ControllerData \{\n {2}double timestamp; +\/\* offset 0, f64 \*\//);
    expect(header).toMatch(/int32_t paused;/);
    expect(header).toMatch(/uint8_t messageBuffer\[1024\];/);
    expect(header).toMatch(/\} ControllerData;/);
  });

  it('asserts the size and every offset at compile time', () => {
    expect(header).toContain('#define SHMLINK_STATIC_ASSERT _Static_assert');
    expect(header).toContain('SHMLINK_STATIC_ASSERT(sizeof(ControllerData) == 1060, "ControllerData size");');
    for (const f of Controller.fields) {
      expect(header).toContain(`SHMLINK_STATIC_ASSERT(offsetof(ControllerData, ${f.name}) == ${f.offset},`);
    }
  });

  it('describes the shared block: the header words, then the struct', () => {
    expect(header).toMatch(/typedef struct ControllerData_shared \{\n {2}uint32_t changes;.*\n {2}uint32_t fingerprint;.*\n {2}ControllerData data;\n\}/);
    expect(header).toContain(`#define CONTROLLER_DATA_FINGERPRINT 0x${Controller.fingerprint.toString(16).padStart(8, '0')}u`);
    expect(header).toContain('#define CONTROLLER_DATA_SHARED_SIZE 1068u');
  });

  it('spells every type as C does', () => {
    const all = defineLayout({ a: 'i8', b: 'u8', c: 'i16', d: 'u16', e: 'i32', f: 'u32', g: 'i64', h: 'u64', i: 'f32', j: 'f64', k: bytes(2), l: utf8(8) });
    const decls = all.toCHeader('All').match(/^ {2}\S+ \w+(\[\d+\])?;/gm);
    expect(decls?.map((d) => d.trim())).toEqual([
      'int8_t a;',
      'uint8_t b;',
      'int16_t c;',
      'uint16_t d;',
      'int32_t e;',
      'uint32_t f;',
      'int64_t g;',
      'uint64_t h;',
      'float i;',
      'double j;',
      'uint8_t k[2];',
      'char l[8];',
      'uint32_t changes;',
      'uint32_t fingerprint;',
      'All data;',
    ]);
  });
});
