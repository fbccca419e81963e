// Load one server with POST /v1 bodies: the same task each time, with a fresh taskUUID.
// usage: node load.js URL CONNECTIONS SECONDS BODY.json  → prints one JSON line of results
'use strict';
const autocannon = require('autocannon');
const crypto = require('crypto');
const fs = require('fs');

const [url, connections, seconds, bodyFile] = process.argv.slice(2);
const template = JSON.parse(fs.readFileSync(bodyFile, 'utf8'));

autocannon(
  {
    url,
    method: 'POST',
    connections: Number(connections),
    duration: Number(seconds),
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-key' },
    requests: [
      {
        setupRequest: (request) => {
          request.body = JSON.stringify([{ ...template, taskUUID: crypto.randomUUID() }]);
          return request;
        },
      },
    ],
  },
  (err, result) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    console.log(JSON.stringify({
      rps: result.requests.average,
      total: result.requests.total,
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
    }));
  },
);
