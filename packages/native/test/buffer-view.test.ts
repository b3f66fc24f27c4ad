import { ViewBuffer, bufferView } from '@shmlink/native/internal';

describe('bufferView', () => {
  test('is an ordinary Buffer sharing the memory of its source, at the given offset', () => {
    const source = Buffer.from('0123456789abcdef').subarray(2); // a source with a byteOffset of its own
    const view = bufferView(source, 3, 4);
    expect(Buffer.isBuffer(view)).toBe(true);
    expect(Object.getPrototypeOf(view)).toBe(Buffer.prototype);
    expect(view.toString()).toBe('5678');
    expect(view.buffer).toBe(source.buffer);
    view[0] = 0x2a;
    expect(source.toString()).toBe('234*6789abcdef');
    expect(view.subarray(1, 3).toString()).toBe('67');
    expect(bufferView(source, source.length, 0).length).toBe(0);
  });

  test('ViewBuffer, the class it constructs, makes the same Buffer from an ArrayBuffer and an absolute offset', () => {
    const source = Buffer.from('0123456789abcdef').subarray(2);
    const view = new ViewBuffer(source.buffer, source.byteOffset + 3, 4);
    expect(Buffer.isBuffer(view)).toBe(true);
    expect(Object.getPrototypeOf(view)).toBe(Buffer.prototype);
    expect(view.equals(bufferView(source, 3, 4))).toBe(true);
    expect(view.buffer).toBe(source.buffer);
  });
});
