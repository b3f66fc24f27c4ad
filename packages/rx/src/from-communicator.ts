import { Observable } from 'rxjs';
import { ShmError, type Communicator } from '@shmlink/core';
import { checkOptions } from '@shmlink/native/internal';

export interface FromCommunicatorOptions {
  /** Start the communicator's reader on subscribe if it is not running (default true). A reader
   *  started here is stopped again when the last 'data' listener leaves, so that no message is
   *  consumed with nobody listening. */
  startReader?: boolean;
}

function isCommunicator<T>(value: unknown): value is Communicator<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Communicator<T>).write === 'function' &&
    typeof (value as Communicator<T>).startReader === 'function' &&
    typeof (value as Communicator<T>).on === 'function'
  );
}

/**
 * The messages a Communicator receives (the DataReceived event of the .NET original, seed 003 in
 * docs/seeds.md), as an Observable of Buffers (or of the
 * values of the communicator's codec). Listeners
 * are added on subscribe and removed on teardown; 'error' events go to `error`; the Observable
 * completes when the communicator is disposed. Unsubscribing never disposes the communicator.
 */
export function fromCommunicator<T = Buffer>(comm: Communicator<T>, options?: FromCommunicatorOptions): Observable<T> {
  if (!isCommunicator(comm)) {
    throw new ShmError('ERR_INVALID_ARGUMENT', 'fromCommunicator expects a Communicator');
  }
  const opts = checkOptions<FromCommunicatorOptions>(options, 'options', ['startReader']);
  const start = opts.startReader ?? true;
  return new Observable<T>((subscriber) => {
    if (comm.disposed) {
      subscriber.complete();
      return undefined;
    }
    const onData = (data: T): void => subscriber.next(data);
    const onError = (err: ShmError): void => subscriber.error(err);
    const onClose = (): void => subscriber.complete();
    comm.on('data', onData);
    comm.on('error', onError);
    comm.on('close', onClose);
    let startedHere = false;
    if (start && !comm.readerRunning) {
      try {
        comm.startReader();
        startedHere = true;
      } catch (err) {
        subscriber.error(err);
      }
    }
    return () => {
      comm.off('data', onData);
      comm.off('error', onError);
      comm.off('close', onClose);
      if (startedHere && !comm.disposed && comm.listenerCount('data') === 0) void comm.stopReader();
    };
  });
}
