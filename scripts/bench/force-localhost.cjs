// Preloaded into the Portkey gateway (node --require): its start-server listens on every interface; force every
// TCP listen onto 127.0.0.1 so the benchmark never exposes it.
'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (args.length === 1) args.push('127.0.0.1');
    else if (args[1] === undefined || args[1] === null || typeof args[1] === 'string') args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  } else if (first && typeof first === 'object' && !Array.isArray(first) && first.port !== undefined) {
    args[0] = { ...first, host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
