export { defineLayout, Layout, type FieldInfo } from './layout';
export { bytes, utf8, type BytesType, type Utf8Type, type ScalarType, type FieldType, type Fields, type ValueOf, type InputOf, type Values, type Inputs } from './types';
export { StructHandle, type SharedStruct } from './shared-struct';
export { Watcher, type FieldChange, type WatcherEvents } from './watcher';
export { RESERVED_FIELD_NAMES } from './names';
export { HEADER_SIZE } from './header';
