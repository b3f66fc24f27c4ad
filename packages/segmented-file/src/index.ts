export { SegmentedFile } from './segmented-file';
export type { SegmentedFileOptions, SegmentedFileCreateOptions } from './options';
export { SegmentedFileError, type SegmentedFileErrorCode } from './errors';
export { uniqueName } from './unique-name';
export { ShmError, isShmError } from '@shmlink/native';
