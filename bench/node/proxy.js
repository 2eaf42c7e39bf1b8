// The Node comparison: http-proxy (the owner's original stack) as a path-prefix reverse proxy,
// given keep-alive upstream connections so that it is measured at its best.
// Usage: node proxy.js PORT UPSTREAM_URL   (http-proxy is found through NODE_PATH)
'use strict';
const http = require('http');
const httpProxy = require('http-proxy');

const port = Number(process.argv[2]);
const target = process.argv[3];
const prefix = '/__ide/bench';
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const proxy = httpProxy.createProxyServer({ target, agent, ws: true });
proxy.on('error', (err, req, res) => {
  if (res && res.writeHead && !res.headersSent) {
    res.writeHead(502);
  }
  if (res && res.end) {
    res.end();
  }
});

function strip(req) {
  if (req.url.startsWith(prefix + '/')) {
    req.url = req.url.slice(prefix.length);
  }
}

const server = http.createServer((req, res) => {
  strip(req);
  proxy.web(req, res);
});
server.on('upgrade', (req, socket, head) => {
  strip(req);
  proxy.ws(req, socket, head);
});
server.listen(port, '127.0.0.1', () => console.log(`http-proxy listening on ${port}`));
