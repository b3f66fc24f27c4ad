import { FrameParser, encodeFrame } from '../src/socket-framing';

function frames(...payloads: Buffer[]): Buffer {
  return Buffer.concat(payloads.map(encodeFrame));
}

describe('FrameParser', () => {
  const payloads = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.from('x')];
  const stream = frames(...payloads);

  it('parses frames split anywhere, headers included', () => {
    const wrong: string[] = [];
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b += 7) {
        const got: Buffer[] = [];
        const parser = new FrameParser((f) => got.push(Buffer.from(f)));
        for (const chunk of [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]) parser.push(chunk);
        const same = got.length === payloads.length && got.every((g, i) => g.equals(payloads[i]!));
        if (!same) wrong.push(`${a}/${b}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('hands out a frame inside one chunk as a view of it, without copying', () => {
    const chunk = frames(Buffer.from('abc'), Buffer.from('defg'));
    const got: Buffer[] = [];
    new FrameParser((f) => got.push(f)).push(chunk);
    expect(got.map((f) => f.toString())).toEqual(['abc', 'defg']);
    for (const f of got) expect(f.buffer).toBe(chunk.buffer);
  });

  it('rejects a frame longer than the limit', () => {
    const parser = new FrameParser(() => {}, 10);
    expect(() => parser.push(encodeFrame(Buffer.alloc(11)))).toThrow(/maxFrame=10/);
  });
});
