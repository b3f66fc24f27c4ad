import { ShmError } from '@shmlink/native';
import { assertInteger, checkOptions } from '@shmlink/native/internal';
import type { Communicator } from './communicator';
import { MessageSource } from './message-source';

export interface MessagesOptions {
  /** Messages received ahead of the loop before the reader pauses (the ring holds the rest). Default 16. */
  highWaterMark?: number;
}

const DEFAULT_HIGH_WATER_MARK = 16;

/**
 * The messages of `comm` as an async iterator, in order: ends when the communicator is disposed,
 * throws the communicator's 'error'. At most `highWaterMark` messages wait in this process; beyond
 * that the reader pauses and the messages stay in the ring, so a slow loop slows the writer down
 * instead of growing memory. Leaving the loop early (break, return, throw) detaches and stops the
 * reader; messages not yet taken by the loop stay with this process's buffer and are dropped.
 */
export function messageIterator<T>(comm: Communicator<T>, options?: MessagesOptions): AsyncIterableIterator<T> {
  const opts = checkOptions<MessagesOptions>(options, 'options', ['highWaterMark']);
  const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  assertInteger(highWaterMark, 'highWaterMark', 1, 2 ** 20);

  const queue: T[] = [];
  let failure: Error | undefined;
  let ended = false;
  let waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;

  const settle = (): void => {
    const waiter = waiting;
    if (waiter === undefined) return;
    if (queue.length > 0) {
      waiting = undefined;
      waiter.resolve({ value: queue.shift()!, done: false });
    } else if (failure !== undefined) {
      waiting = undefined;
      const error = failure;
      ended = true;
      failure = undefined;
      waiter.reject(error);
    } else if (ended) {
      waiting = undefined;
      waiter.resolve({ value: undefined, done: true });
    }
  };

  // Made at the first next(): an iterator never used must not take the communicator's errors.
  let source: MessageSource<T> | undefined;
  const open = (): MessageSource<T> =>
    (source ??= new MessageSource<T>(comm, {
      message(value) {
        queue.push(value);
        settle();
        return queue.length < highWaterMark;
      },
      end() {
        ended = true;
        settle();
      },
      fail(error) {
        failure = error;
        settle();
      },
    }));

  const finish = (): IteratorResult<T> => {
    source?.close();
    ended = true;
    queue.length = 0;
    return { value: undefined, done: true };
  };

  return {
    next(): Promise<IteratorResult<T>> {
      if (waiting !== undefined) {
        return Promise.reject(new ShmError('ERR_INVALID_STATE', 'next() called again before the previous call settled'));
      }
      return new Promise<IteratorResult<T>>((resolve, reject) => {
        waiting = { resolve, reject };
        settle();
        // Taking a message made room: let the reader go on (it also starts it the first time).
        if (queue.length < highWaterMark && !ended && failure === undefined) open().resume();
      });
    },
    return(): Promise<IteratorResult<T>> {
      return Promise.resolve(finish());
    },
    throw(error?: unknown): Promise<IteratorResult<T>> {
      finish();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
