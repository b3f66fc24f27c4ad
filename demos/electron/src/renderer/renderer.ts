// A classic script (no imports): the sandboxed page has no module loader, and all it needs from
// outside is window.shmlink, typed in global.d.ts.
type PeerStatus = import('../api').PeerStatus;

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`index.html lacks #${id}`);
  return found;
}

const messages = element('messages', HTMLOListElement);
const form = element('composer', HTMLFormElement);
const input = element('text', HTMLInputElement);
const peer = element('peer', HTMLSpanElement);
const channel = element('channel', HTMLSpanElement);

/** Appends a message. textContent, never innerHTML: the peer's text is data, not markup. */
function addMessage(text: string, direction: 'incoming' | 'outgoing'): HTMLLIElement {
  const item = document.createElement('li');
  item.className = `message ${direction}`;
  item.textContent = text;
  messages.append(item);
  item.scrollIntoView({ block: 'end' });
  return item;
}

function describe(status: PeerStatus): string {
  switch (status.state) {
    case 'waiting':
      return 'waiting for the peer…';
    case 'connected':
      return `connected · pid ${status.pid}`;
    case 'left':
      return `peer left · pid ${status.pid}`;
    case 'died':
      return `peer died · pid ${status.pid}`;
  }
}

function showPeer(status: PeerStatus): void {
  peer.textContent = describe(status);
  peer.dataset.state = status.state;
}

window.shmlink.onMessage((text) => addMessage(text, 'incoming'));
window.shmlink.onPeer(showPeer);

// A submit event covers both the Send button and Enter in the input.
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value;
  if (text === '') return;
  input.value = '';
  const item = addMessage(text, 'outgoing');
  item.classList.add('pending');
  window.shmlink.send(text).then(
    () => item.classList.remove('pending'),
    (err: unknown) => {
      item.classList.replace('pending', 'failed');
      item.title = `not sent: ${err instanceof Error ? err.message : String(err)}`;
    },
  );
});

window.shmlink.info().then(
  (info) => (channel.textContent = `${info.name} · side ${info.side}`),
  () => (channel.textContent = 'not connected'),
);
input.focus();
