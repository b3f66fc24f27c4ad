// What the preload puts on the page (contextBridge.exposeInMainWorld('shmlink', …)).
interface Window {
  readonly shmlink: import('../api').ShmlinkApi;
}
