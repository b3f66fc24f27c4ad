// Attached structs: every type round-trips through the region, range errors write nothing,
// attach() checks bounds, alignment and the layout fingerprint.
import { Region } from '@shmlink/native';
import { bytes, defineLayout, utf8 } from '@shmlink/layout';
import { Controller, codeOf, cleanup, leftovers, open, uniqueName } from './helpers';

const All = defineLayout({
  i8: 'i8',
  u8: 'u8',
  i16: 'i16',
  u16: 'u16',
  i32: 'i32',
  u32: 'u32',
  i64: 'i64',
  u64: 'u64',
  f32: 'f32',
  f64: 'f64',
  raw: bytes(6),
  text: utf8(8),
});

afterEach(cleanup);
afterAll(() => expect(leftovers()).toEqual([]));

describe('round trips', () => {
  const cases: [string, unknown[]][] = [
    ['i8', [-128, -1, 0, 127]],
    ['u8', [0, 200, 255]],
    ['i16', [-32768, -2, 32767]],
    ['u16', [0, 65535]],
    ['i32', [-(2 ** 31), -5, 2 ** 31 - 1]],
    ['u32', [0, 2 ** 31, 2 ** 32 - 1]],
    ['i64', [-(2n ** 63n), -1n, 2n ** 53n + 1n, 2n ** 63n - 1n]],
    ['u64', [0n, 2n ** 64n - 1n]],
    ['f32', [1.5, -0, Math.fround(0.1), Infinity, -Infinity, NaN, 3.4028234663852886e38]],
    ['f64', [Math.PI, -0, Number.MIN_VALUE, Number.MAX_VALUE, -Infinity, NaN]],
    ['text', ['', 'héllo', '1234567', '€uro']],
  ];

  it.each(cases)('%s', (field, values) => {
    const s = open(All.create(uniqueName()));
    const struct = s as unknown as Record<string, unknown>;
    for (const value of values) {
      struct[field] = value;
      expect(struct[field]).toEqual(value);
      expect(Object.is(struct[field], value)).toBe(true);
    }
  });

  it('bytes: a shorter value is zero-padded, the getter returns a copy', () => {
    const s = open(All.create(uniqueName()));
    s.raw = Buffer.from([1, 2, 3, 4, 5, 6]);
    s.update({ raw: new Uint8Array([9, 8]) }); // the property is typed Buffer; update() takes any Uint8Array
    expect([...s.raw]).toEqual([9, 8, 0, 0, 0, 0]);
    const copy = s.raw;
    copy[0] = 77;
    expect(s.raw[0]).toBe(9);
    expect(Buffer.isBuffer(s.raw)).toBe(true);
  });

  it('stores little-endian bytes at the packed offsets, after the 8-byte header', () => {
    const s = open(All.create(uniqueName()));
    s.update({ i32: 0x01020304, u16: 0xa0b0, f64: 1, text: 'ab' });
    const at = (field: 'i32' | 'u16' | 'f64' | 'text', length: number) => [...s.region.read(s.dataOffset + All.offsetOf(field), length)];
    expect(s.dataOffset).toBe(8);
    expect(at('i32', 4)).toEqual([4, 3, 2, 1]);
    expect(at('u16', 2)).toEqual([0xb0, 0xa0]);
    expect(at('f64', 8)).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    expect(at('text', 3)).toEqual([0x61, 0x62, 0]);
  });

  it('reads a utf8 field without a terminator up to its end (a C writer may fill it)', () => {
    const s = open(All.create(uniqueName()));
    s.region.write(s.dataOffset + All.offsetOf('text'), Buffer.from('12345678'));
    expect(s.text).toBe('12345678');
  });

  it('snapshot() reads every field; another handle sees the same memory', () => {
    const name = uniqueName();
    const a = open(Controller.create(name));
    const b = open(Controller.open(name));
    a.update({ timestamp: 12.5, paused: 1, messageBuffer: Buffer.from('hi'), dataLength: 2 });
    const snap = b.snapshot();
    expect(snap).toMatchObject({ timestamp: 12.5, totalDuration: 0, paused: 1, muted: 0, dataLength: 2 });
    expect(snap.messageBuffer.subarray(0, 3)).toEqual(Buffer.from([0x68, 0x69, 0]));
    expect(snap.messageBuffer.length).toBe(1024);
    b.heartbeat = 3;
    expect(a.heartbeat).toBe(3);
  });
});

describe('range errors', () => {
  const bad: [string, unknown][] = [
    ['i8', 128],
    ['i8', -129],
    ['i8', 1.5],
    ['i8', '1'],
    ['u8', -1],
    ['u8', 256],
    ['i16', 32768],
    ['u16', 65536],
    ['i32', 2 ** 31],
    ['u32', -1],
    ['u32', 2 ** 32],
    ['u32', NaN],
    ['i64', 1],
    ['i64', 2n ** 63n],
    ['u64', -1n],
    ['u64', 2n ** 64n],
    ['f32', 1e39],
    ['f32', -1e39],
    ['f32', '1'],
    ['f64', 1n],
    ['f64', null],
    ['raw', Buffer.alloc(7)],
    ['raw', [1, 2]],
    ['raw', 'text'],
    ['text', '12345678'],
    ['text', 'a\0b'],
    ['text', '\ud800'],
    ['text', 5],
  ];

  it.each(bad)('%s = %p is ERR_INVALID_ARGUMENT and writes nothing', (field, value) => {
    const s = open(All.create(uniqueName()));
    const struct = s as unknown as Record<string, unknown>;
    const before = s.region.read(0, s.region.size);
    expect(codeOf(() => (struct[field] = value))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => s.update({ u8: 1, [field]: value } as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(s.region.read(0, s.region.size)).toEqual(before);
    expect(s.changeCount).toBe(0);
  });

  it('names the field, its type and the value in the message', () => {
    const s = open(All.create(uniqueName()));
    expect(() => (s.i8 = 300)).toThrow(/i8 \(i8\)=300 expected an integer in -128\.\.127/);
  });

  it('update() refuses unknown fields', () => {
    const s = open(All.create(uniqueName()));
    expect(codeOf(() => s.update({ nope: 1 } as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => s.update(null as never))).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('attach', () => {
  it('places a layout at a 4-aligned offset of a bigger region, next to another', () => {
    const name = uniqueName();
    const region = open(Region.create(name, 4096));
    const a = Controller.attach(region, 0);
    const b = All.attach(region, Controller.sharedSize);
    a.heartbeat = 7;
    b.i64 = -2n;
    expect(a.heartbeat).toBe(7);
    expect(b.i64).toBe(-2n);
    expect(b.offset).toBe(1068);
    a.close();
    expect(region.closed).toBe(false); // attach() leaves the region to its owner
    expect(codeOf(() => a.heartbeat)).toBe('ERR_CLOSED');
  });

  it('refuses a layout that does not fit, a misaligned offset, or no Region', () => {
    const name = uniqueName();
    const region = open(Region.create(name, Controller.sharedSize));
    expect(codeOf(() => Controller.attach(region, 4))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => Controller.attach(region, 2))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => Controller.attach(region, -4))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => Controller.attach({} as Region))).toBe('ERR_INVALID_ARGUMENT');
    const small = open(Region.create(uniqueName(), Controller.sharedSize - 4));
    expect(codeOf(() => Controller.attach(small))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => Controller.attach(region, 0))).toBeUndefined();
  });

  it('refuses another layout where one is attached (fingerprint), ERR_LAYOUT_MISMATCH', () => {
    const name = uniqueName();
    const region = open(Region.create(name, 4096));
    Controller.attach(region);
    const Other = defineLayout({ timestamp: 'f64', totalDuration: 'f32' });
    expect(codeOf(() => Other.attach(region))).toBe('ERR_LAYOUT_MISMATCH');
    expect(codeOf(() => Controller.attach(region))).toBeUndefined();
  });

  it('open() of a missing name is ERR_SHM_NOT_FOUND; a read-only handle reads and refuses writes', () => {
    const name = uniqueName();
    expect(codeOf(() => Controller.open(name))).toBe('ERR_SHM_NOT_FOUND');
    const writer = open(Controller.create(name));
    writer.muted = 1;
    const reader = open(Controller.open(name, { access: 'read' }));
    expect(reader.muted).toBe(1);
    expect(codeOf(() => (reader.muted = 0))).toBe('ERR_PERMISSION');
  });

  it('close() of a handle from create()/open() closes its region', () => {
    const s = Controller.create(uniqueName());
    s.close();
    expect(s.closed).toBe(true);
    expect(s.region.closed).toBe(true);
    expect(codeOf(() => s.snapshot())).toBe('ERR_CLOSED');
    s.close();
  });
});
