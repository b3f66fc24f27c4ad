import { ShmError } from '@shmlink/native';

/** The codes only a segmented file raises; its other errors are plain ShmErrors of @shmlink/native's list. */
export type SegmentedFileErrorCode = 'ERR_SEGMENT_ORDER' | 'ERR_SEGMENT_NOT_FOUND' | 'ERR_CAPACITY';

/**
 * A ShmError with one of the segmented file's own codes. Still `instanceof ShmError`, so one
 * `catch` handles the errors of every shmlink package alike.
 */
export class SegmentedFileError extends ShmError<SegmentedFileErrorCode> {
  constructor(code: SegmentedFileErrorCode, message: string) {
    super(code, message);
    this.name = 'SegmentedFileError';
  }
}
