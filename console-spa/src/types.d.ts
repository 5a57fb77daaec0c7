declare module '@vertx/eventbus-bridge-client.js' {
  interface Message {
    body: unknown;
    headers?: Record<string, string>;
  }
  export default class EventBus {
    constructor(url: string, options?: Record<string, unknown>);
    onopen: (() => void) | null;
    onclose: ((event?: unknown) => void) | null;
    onerror: ((error: unknown) => void) | null;
    registerHandler(
      address: string,
      headers: Record<string, string>,
      callback: (error: { message?: string } | null, message: Message) => void,
    ): void;
    close(): void;
  }
}
