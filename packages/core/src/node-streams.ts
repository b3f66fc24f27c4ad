import { Duplex } from 'node:stream';
import { ShmError } from '@shmlink/native';
import type { Communicator } from './communicator';
import { MessageSource } from './message-source';
import { END_OF_STREAM, readBytes, resolveStreamOptions, writeBytes, type StreamOptions } from './stream-options';

/**
 * A Node `stream.Duplex` over a communicator: what is written to it is sent, what arrives is read
 * from it, with backpressure both ways — a write's callback waits until the message is committed
 * to shared memory (so a full ring holds the writer back), and a full readable buffer pauses the
 * reader, leaving messages in the ring (so the peer's writes wait).
 *
 * 'object' mode (default) carries messages; 'bytes' mode a byte stream (the writable side's end()
 * sends the end marker, the readable side ends at the peer's). The readable side also ends when
 * the communicator is disposed; a communicator 'error' or a failed write destroys the stream with
 * that error. Destroying the stream detaches it and stops the reader; it never disposes the
 * communicator (the caller owns it: dispose it, or `disposeAsync()` to let queued writes commit).
 */
export function toDuplex<T = Buffer>(comm: Communicator<T>, options?: StreamOptions): Duplex {
  const opts = resolveStreamOptions(comm, options, 'toDuplex');
  const objectMode = !opts.bytes;
  const send = (chunk: unknown): Promise<void> =>
    opts.bytes ? writeBytes(comm as Communicator<unknown>, chunk as Uint8Array, opts.chunkSize) : comm.write(chunk as Parameters<Communicator<T>['write']>[0]);

  const duplex = new Duplex({
    readableObjectMode: objectMode,
    writableObjectMode: objectMode,
    ...(opts.highWaterMark === undefined ? {} : { readableHighWaterMark: opts.highWaterMark }),
    read() {
      source.resume();
    },
    // Chunks written while a batch commits are handed over together, so they commit together.
    writev(chunks, callback) {
      Promise.all(chunks.map(({ chunk }) => send(chunk))).then(() => callback(), callback);
    },
    final(callback) {
      // A disposed communicator has ended its streams already: there is nobody to tell.
      if (!opts.bytes || comm.disposed) {
        callback();
        return;
      }
      comm.write(END_OF_STREAM as Parameters<Communicator<T>['write']>[0]).then(() => callback(), callback);
    },
    destroy(error, callback) {
      source.close();
      callback(error);
    },
  });

  const source: MessageSource<T> = new MessageSource<T>(comm, {
    message(value) {
      if (opts.bytes) {
        const bytes = readBytes(value);
        if (bytes === null) {
          // The peer ended its byte stream: what follows in the ring belongs to someone else.
          source.close();
          duplex.push(null);
          return false;
        }
        return duplex.push(bytes);
      }
      if (value === null) {
        throw new ShmError('ERR_INVALID_STATE', 'a message decoded to null, which a Node object stream cannot carry (it means the end)');
      }
      return duplex.push(value);
    },
    end() {
      duplex.push(null);
    },
    fail(error) {
      duplex.destroy(error);
    },
  }, { watchPeer: opts.bytes });
  return duplex;
}
