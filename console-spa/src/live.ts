// Live updates over the SockJS event-bus bridge at /api/eventbus: a short-lived token from /api/bridge-token is
// the header of the registration. The token expires, so a reconnect always starts with a fresh one.
import EventBus from '@vertx/eventbus-bridge-client.js';
import { api, type Generation } from './api';
import { generationArrived, liveConnected } from './store';

const MIN_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

let bus: EventBus | null = null;
let stopped = true;
let attempts = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

export function startLive(): void {
  if (!stopped) return;
  stopped = false;
  attempts = 0;
  connect();
}

export function stopLive(): void {
  stopped = true;
  clearTimeout(retryTimer);
  const old = bus;
  bus = null;
  old?.close();
  liveConnected.value = false;
}

async function connect(): Promise<void> {
  let grant: { token: string; address: string };
  try {
    grant = await api.bridgeToken();
  } catch {
    retry();
    return;
  }
  if (stopped) return;
  const next = new EventBus('/api/eventbus');
  bus = next;
  next.onopen = () => {
    next.registerHandler(grant.address, { token: grant.token }, (error, message) => {
      if (error) {
        next.close();
        return;
      }
      attempts = 0;
      liveConnected.value = true;
      const body = message.body as { type?: string; generation?: Generation; balance_usd?: string };
      if (body?.type === 'generation' && body.generation) generationArrived(body.generation, body.balance_usd);
    });
    liveConnected.value = true;
  };
  next.onclose = () => {
    if (bus !== next) return;
    bus = null;
    liveConnected.value = false;
    retry();
  };
}

function retry(): void {
  if (stopped) return;
  const delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempts) * (0.5 + Math.random() / 2);
  attempts++;
  retryTimer = setTimeout(connect, delay);
}
