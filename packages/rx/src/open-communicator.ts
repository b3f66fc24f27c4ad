import { Observable, ReplaySubject, share, switchMap } from 'rxjs';
import { Communicator, type CommunicatorOptions } from '@shmlink/core';
import { fromCommunicator } from './from-communicator';

/**
 * A cold Observable of one Communicator: opened when the first subscriber arrives, shared by every
 * subscriber after it, disposed when the last one leaves. Opening errors go to `error`.
 */
export function openCommunicator<T = Buffer>(name: string, capacity: number, options?: CommunicatorOptions<T>): Observable<Communicator<T>> {
  return new Observable<Communicator<T>>((subscriber) => {
    const comm = new Communicator<T>(name, capacity, options);
    subscriber.next(comm);
    const onClose = (): void => subscriber.complete();
    comm.on('close', onClose);
    return () => {
      comm.off('close', onClose);
      comm.dispose();
    };
  }).pipe(share({ connector: () => new ReplaySubject<Communicator<T>>(1), resetOnRefCountZero: true }));
}

/**
 * The messages of a communicator opened on subscribe, shared between subscribers and disposed when
 * the last one leaves — `openCommunicator` and `fromCommunicator` in one. (Not named `connect`:
 * RxJS has a `connect` operator of its own.)
 */
export function openMessages<T = Buffer>(name: string, capacity: number, options?: CommunicatorOptions<T>): Observable<T> {
  return openCommunicator<T>(name, capacity, options).pipe(
    switchMap((comm) => fromCommunicator(comm)),
    share({ resetOnRefCountZero: true }),
  );
}
