// Head-of-line blocking: small round trips on one connection, first idle, then while the peer
// streams 1 MiB messages back over the same connection (issue 15: the loaded p99 should stay
// within 2x the idle p99). The peer streams to this process; the pings go to the peer and their
// echoes come back among the stream's messages. shmlink runs with default options (write(),
// copying receive), the Unix socket as the reference.
import { Communicator } from '@shmlink/core';
import { closeShmChannel, uniqueName } from './cleanup';
import type { Options } from './options';
import { Peer, retryingSpawn } from './peer';
import { pingPong } from './rtt';
import type { PingChannel } from './rtt-channels';
import { connectSocketPeer } from './socket-peer';
import { FrameParser, encodeFrame } from './socket-framing';
import { concat, summarize } from './stats';
import { capacityFor } from './throughput';
import type { BenchError, ContentionResult, ContentionTransport } from './types';
import { guarded } from './watchdog';

export const PING_SIZE = 64;
export const STREAM_SIZE = 1024 * 1024;
export const CONTENTION_TRANSPORTS: readonly ContentionTransport[] = ['shm-write', 'socket'];

/** A ping channel whose other traffic (the stream) is counted, with a switch for the stream. */
interface DuplexChannel extends PingChannel {
  streamedBytes: number;
  /** Resolves once the first stream message arrived after the stream was switched on. */
  firstStreamed: Promise<void>;
}

export async function runContention(o: Options, errors: BenchError[], log: (line: string) => void): Promise<ContentionResult[]> {
  const idle = new Map<ContentionTransport, Float64Array[]>();
  const loaded = new Map<ContentionTransport, Float64Array[]>();
  const rates = new Map<ContentionTransport, number[]>();
  for (let round = 1; round <= o.rounds; round++) {
    for (const transport of CONTENTION_TRANSPORTS) {
      const detail = `${transport} round ${round}`;
      try {
        const r = await retryingSpawn(() => measure(transport, o), `contention ${detail}`, log);
        idle.set(transport, [...(idle.get(transport) ?? []), r.idle]);
        loaded.set(transport, [...(loaded.get(transport) ?? []), r.loaded]);
        rates.set(transport, [...(rates.get(transport) ?? []), r.streamBytesPerSecond]);
        const p99 = (s: Float64Array): string => summarize(s).p99.toFixed(1);
        log(`contention ${detail}: p99 idle ${p99(r.idle)} µs, under the stream ${p99(r.loaded)} µs, stream ${(r.streamBytesPerSecond / 1e9).toFixed(2)} GB/s`);
      } catch (err) {
        errors.push({ benchmark: 'contention', detail, message: (err as Error).message });
        log(`contention ${detail}: FAILED ${(err as Error).message}`);
      }
    }
  }
  const results: ContentionResult[] = [];
  for (const transport of CONTENTION_TRANSPORTS) {
    const i = idle.get(transport);
    const l = loaded.get(transport);
    if (i === undefined || l === undefined) continue;
    const r = rates.get(transport)!;
    results.push({
      transport, pingSize: PING_SIZE, streamSize: STREAM_SIZE,
      idleMicros: summarize(concat(i)), loadedMicros: summarize(concat(l)),
      streamBytesPerSecond: r.reduce((a, b) => a + b, 0) / r.length,
    });
  }
  return results;
}

async function measure(transport: ContentionTransport, o: Options): Promise<{ idle: Float64Array; loaded: Float64Array; streamBytesPerSecond: number }> {
  const channel = transport === 'shm-write' ? await openShmDuplex() : await openSocketDuplex();
  const warmup = Math.min(o.warmup, 1000);
  const watchdog = 60_000 + o.contentionIterations * 50;
  try {
    const run = async (): Promise<{ idle: Float64Array; loaded: Float64Array; streamBytesPerSecond: number }> => {
      const idleSamples = await pingPong(channel, PING_SIZE, warmup, o.contentionIterations);
      channel.peer.send({ type: 'stream', on: true });
      await channel.firstStreamed;
      const bytesBefore = channel.streamedBytes;
      const start = performance.now();
      // A few untimed pings first: the first ones meet the stream's start, not its steady state.
      const loadedSamples = await pingPong(channel, PING_SIZE, 10, o.contentionIterations);
      const seconds = (performance.now() - start) / 1000;
      channel.peer.send({ type: 'stream', on: false });
      return { idle: idleSamples, loaded: loadedSamples, streamBytesPerSecond: (channel.streamedBytes - bytesBefore) / seconds };
    };
    return await guarded(run(), channel.peer.failure(), watchdog);
  } finally {
    await channel.close();
  }
}

function duplexChannel(peer: Peer, send: () => void, close: () => Promise<void>): { channel: DuplexChannel; onMessage: (length: number) => void } {
  let first: () => void = () => {};
  const channel: DuplexChannel = {
    peer, send, close,
    onReply: () => {},
    onError: () => {},
    streamedBytes: 0,
    firstStreamed: new Promise((resolve) => {
      first = resolve;
    }),
  };
  const onMessage = (length: number): void => {
    if (length === PING_SIZE) {
      channel.onReply(length);
      return;
    }
    channel.streamedBytes += length;
    first();
  };
  return { channel, onMessage };
}

async function openShmDuplex(): Promise<DuplexChannel> {
  const name = uniqueName();
  const capacity = capacityFor(STREAM_SIZE);
  const payload = Buffer.alloc(PING_SIZE, 0x5a);
  const comm = new Communicator(name, capacity, { side: 'a' });
  const peer = new Peer('duplex', ['shm', name, String(capacity), String(STREAM_SIZE), String(PING_SIZE)]);
  const { channel, onMessage } = duplexChannel(peer, () => {
    comm.write(payload).catch((err: Error) => channel.onError(err));
  }, () => closeShmChannel(peer, comm, name));
  try {
    comm.on('data', (data) => onMessage(data.length));
    comm.on('error', (err) => channel.onError(err));
    comm.startReader();
    await peer.waitFor('ready');
    return channel;
  } catch (err) {
    await channel.close();
    throw err;
  }
}

async function openSocketDuplex(): Promise<DuplexChannel> {
  const frame = encodeFrame(Buffer.alloc(PING_SIZE, 0x5a));
  const { peer, socket, close } = await connectSocketPeer('duplex', ['socket', String(STREAM_SIZE), String(PING_SIZE)]);
  const { channel, onMessage } = duplexChannel(peer, () => socket.write(frame), close);
  try {
    const parser = new FrameParser((f) => onMessage(f.length));
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
    socket.on('error', (err) => channel.onError(err));
    await peer.waitFor('ready');
    return channel;
  } catch (err) {
    await close();
    throw err;
  }
}
